import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import { decodeContainerList, decodeSandboxList } from './relist-wire.js';

const UID = 'io.kubernetes.pod.uid';
const proto = fileURLToPath(new URL('../../../../src/kubelet/cri/api.proto', import.meta.url));
const def = protoLoader.loadSync(proto, { keepCase: false, longs: Number, enums: String, defaults: true, arrays: true, objects: true });
const runtime = def['runtime.v1.RuntimeService'] as unknown as Record<string, { responseSerialize(o: object): Buffer; responseDeserialize(b: Buffer): unknown }>;

test('relist wire decoding: the ids, states and pod UID label protobufjs encodes, every other field skipped', () => {
  const long = 'x'.repeat(5000);
  const sandboxes = {
    items: [
      // Every field set, the UID label among others (map entries in any order), big annotations.
      {
        id: 'a'.repeat(64),
        metadata: { name: 'p', uid: 'u1', namespace: 'default', attempt: 3 },
        state: 'SANDBOX_NOTREADY',
        createdAt: 1_700_000_000_123_456_789,
        labels: { 'io.kubernetes.pod.name': 'p', [UID]: 'u1', 'skiff.dev/managed': 'true', [`${UID}x`]: 'not this' },
        annotations: { big: long, [UID]: 'annotation, not label' },
        runtimeHandler: 'runc',
      },
      // state 0 (SANDBOX_READY) is not on the wire; no UID label; a label value with non-ASCII text.
      { id: 's2', metadata: { name: 'q' }, state: 'SANDBOX_READY', labels: { other: 'caf\u00e9' } },
      { id: 's3', labels: { [UID]: 'u\u00e93' } },
    ],
  };
  const sb = decodeSandboxList(runtime.ListPodSandbox!.responseSerialize(sandboxes), UID);
  assert.deepEqual(sb, [
    { id: 'a'.repeat(64), state: 'SANDBOX_NOTREADY', label: 'u1' },
    { id: 's2', state: 'SANDBOX_READY', label: '' },
    { id: 's3', state: 'SANDBOX_READY', label: 'u\u00e93' },
  ]);

  const containers = {
    containers: ['CONTAINER_CREATED', 'CONTAINER_RUNNING', 'CONTAINER_EXITED', 'CONTAINER_UNKNOWN'].map((state, i) => ({
      id: `c${i}`,
      podSandboxId: 's1',
      metadata: { name: 'app', attempt: i },
      image: { image: 'busybox', annotations: { [UID]: 'no' } },
      imageRef: 'sha256:abc',
      state,
      createdAt: 1_700_000_000_000_000_000 + i,
      labels: { [UID]: `u${i}`, 'io.kubernetes.container.name': 'app' },
      annotations: { 'io.kubernetes.container.restartCount': String(i), msg: long },
      imageId: 'sha256:def',
    })),
  };
  const bytes = runtime.ListContainers!.responseSerialize(containers);
  const full = runtime.ListContainers!.responseDeserialize(bytes) as { containers: { id: string; state: string; labels: Record<string, string> }[] };
  assert.deepEqual(
    decodeContainerList(bytes, UID),
    full.containers.map((c) => ({ id: c.id, state: c.state, label: c.labels[UID] })),
  );
  assert.deepEqual(decodeContainerList(runtime.ListContainers!.responseSerialize({ containers: [] }), UID), []);
  // A cut reply is an error, not a wrong answer.
  assert.throws(() => decodeContainerList(bytes.subarray(0, bytes.length - 10), UID), /truncated/);
});

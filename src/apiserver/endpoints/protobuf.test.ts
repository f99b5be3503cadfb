// Protobuf bodies: messages built with the same schema decode to the JSON form (maps, bytes, Time, IntOrString,
// Quantity, absent fields), and broken envelopes give upstream-style errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { ApiError } from '../../machinery/errors.js';
import { decodeProtobufObject } from './protobuf.js';

const schemaFile = [new URL('../../api/proto/k8s.json', import.meta.url), new URL('../../../../src/api/proto/k8s.json', import.meta.url)].find((u) => existsSync(u))!;
const root = protobuf.Root.fromJSON(JSON.parse(readFileSync(schemaFile, 'utf8')) as protobuf.INamespace);

function envelope(apiVersion: string, kind: string, type: string, value: Record<string, unknown>): Buffer {
  const t = root.lookupType(type);
  const raw = t.encode(t.fromObject(value)).finish();
  const unknown = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  const body = unknown.encode(unknown.fromObject({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' })).finish();
  return Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), body]);
}

test('a ConfigMap with data and binaryData, and a zero creationTimestamp', () => {
  const body = envelope('v1', 'ConfigMap', 'k8s.io.api.core.v1.ConfigMap', {
    metadata: { name: 'cm', namespace: 'ns', labels: { a: 'b' }, creationTimestamp: {} },
    data: { k: 'v' },
    binaryData: { bin: Buffer.from([0, 1, 2]) },
  });
  assert.deepEqual(decodeProtobufObject(body), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cm', namespace: 'ns', labels: { a: 'b' }, creationTimestamp: null },
    data: { k: 'v' },
    binaryData: { bin: 'AAEC' },
  });
});

test('a Deployment: int32 replicas (0 kept), IntOrString, Quantity, Time, nested template', () => {
  const body = envelope('apps/v1', 'Deployment', 'k8s.io.api.apps.v1.Deployment', {
    metadata: { name: 'web', creationTimestamp: { seconds: 1700000000 } },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: { type: 1, strVal: '25%' }, maxUnavailable: { type: 0, intVal: 1 } } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80 }], resources: { limits: { cpu: { string: '500m' } } } }] },
      },
    },
    status: {},
  });
  assert.deepEqual(decodeProtobufObject(body), {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', creationTimestamp: '2023-11-14T22:13:20Z' },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '500m' } } }] },
      },
    },
    status: {},
  });
});

test('zero scalars follow the Go field: pointers and non-omitempty fields keep them, the rest drop them', () => {
  // Go writes non-pointer fields always, so a zero on the wire means "unset" unless the Go field is a pointer
  // (procMount, volumeAttributesClassName) or has no omitempty (containerPort); names alone cannot tell
  // (Toleration.value is a plain omitempty string, HPAScalingPolicy.value is not omitempty).
  const body = envelope('v1', 'Pod', 'k8s.io.api.core.v1.Pod', {
    metadata: { name: 'p' },
    spec: {
      containers: [{ name: 'c', image: 'i', stdin: false, ports: [{ containerPort: 0, hostPort: 0 }], securityContext: { procMount: '', privileged: false } }],
      tolerations: [{ key: 'k', operator: 'Exists', value: '', tolerationSeconds: 0 }],
      terminationGracePeriodSeconds: 0,
      hostNetwork: false,
      priority: 0,
    },
  });
  assert.deepEqual(decodeProtobufObject(body), {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: {
      containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 0 }], securityContext: { procMount: '', privileged: false } }],
      tolerations: [{ key: 'k', operator: 'Exists', tolerationSeconds: 0 }],
      terminationGracePeriodSeconds: 0,
      priority: 0,
    },
  });
  const hpa = envelope('autoscaling/v2', 'HorizontalPodAutoscaler', 'k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler', {
    metadata: { name: 'h' },
    spec: {
      scaleTargetRef: { kind: 'Deployment', name: 'd', apiVersion: '' },
      maxReplicas: 3,
      behavior: { scaleDown: { policies: [{ type: 'Pods', value: 0, periodSeconds: 60 }] } },
    },
  });
  assert.deepEqual((decodeProtobufObject(hpa).spec as Record<string, unknown>).behavior, {
    scaleDown: { policies: [{ type: 'Pods', value: 0, periodSeconds: 60 }] },
  });
});

test('broken bodies: no magic or no kind is 400; a kind without a schema is 415', () => {
  const status = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof ApiError);
      return `${e.status.code} ${e.status.reason}`;
    }
    return 'decoded';
  };
  assert.equal(status(() => decodeProtobufObject(Buffer.from('{}'), 'ConfigMap')), '400 BadRequest');
  assert.equal(status(() => decodeProtobufObject(Buffer.from([0x6b, 0x38, 0x73, 0x00]))), '400 BadRequest');
  assert.equal(status(() => decodeProtobufObject(Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x03]))), '400 BadRequest', 'truncated envelope');
  const crd = envelope('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'k8s.io.api.core.v1.ConfigMap', {});
  assert.equal(status(() => decodeProtobufObject(crd)), '415 UnsupportedMediaType');
});

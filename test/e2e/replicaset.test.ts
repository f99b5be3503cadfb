// ReplicaSets and the garbage collector inside the real `skiff server`, driven by the real kubectl: pods are created
// with the controller reference, a deleted pod is replaced, `kubectl scale rs` scales both ways; `kubectl delete rs`
// removes the pods (background), `--cascade=orphan` leaves them without owner references, `--cascade=foreground`
// deletes them before the ReplicaSet goes. No node runs pods yet, so the test marks pods ready itself through the
// status subresource.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer, eventually, waitForServiceAccount } from './harness.js';

async function ok(srv: TestServer, args: string[], stdin?: string): Promise<string> {
  const r = await srv.kubectl(args, stdin === undefined ? undefined : { stdin });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}\n${srv.logs().slice(-3000)}`);
  return r.stdout;
}

export function replicaSetYaml(ns: string, name: string, replicas: number): string {
  return `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
      - name: c
        image: busybox
`;
}

/** Names of the live (not terminating) pods with this label, sorted. */
export async function podNames(srv: TestServer, ns: string, selector: string): Promise<string[]> {
  const out = await ok(srv, ['get', 'pods', '-n', ns, '-l', selector, '-o', 'jsonpath={range .items[*]}{.metadata.name} {.metadata.deletionTimestamp}{"\\n"}{end}']);
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && l.split(' ').length === 1)
    .sort();
}

describe('ReplicaSet controller in skiff server (kubectl)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
    await ok(srv, ['create', 'namespace', 'rs-e2e']);
    await waitForServiceAccount(srv, 'rs-e2e');
  });
  after(async () => {
    await srv?.stop();
  });

  test('creates its pods, replaces a deleted one, scales up and down, reports ready replicas', async () => {
    await ok(srv, ['apply', '-f', '-'], replicaSetYaml('rs-e2e', 'web', 3));
    await eventually('3 pods', async () => (await podNames(srv, 'rs-e2e', 'app=web')).length === 3);
    const pods = await podNames(srv, 'rs-e2e', 'app=web');
    const rsUid = (await ok(srv, ['get', 'rs', 'web', '-n', 'rs-e2e', '-o', 'jsonpath={.metadata.uid}'])).trim();
    const ref = JSON.parse(await ok(srv, ['get', 'pod', pods[0], '-n', 'rs-e2e', '-o', 'jsonpath={.metadata.ownerReferences[0]}'])) as Record<string, unknown>;
    assert.deepEqual(ref, { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rsUid, controller: true, blockOwnerDeletion: true });

    for (const p of pods) {
      await ok(srv, ['patch', 'pod', p, '-n', 'rs-e2e', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}']);
    }
    await eventually('kubectl get rs shows 3 ready', async () => {
      const out = await ok(srv, ['get', 'rs', 'web', '-n', 'rs-e2e', '--no-headers']);
      return /^web\s+3\s+3\s+3\s+/.test(out);
    });

    await ok(srv, ['delete', 'pod', pods[1], '-n', 'rs-e2e', '--grace-period=0', '--force']);
    await eventually('replaced', async () => {
      const now = await podNames(srv, 'rs-e2e', 'app=web');
      return now.length === 3 && !now.includes(pods[1]);
    });

    await ok(srv, ['scale', 'rs', 'web', '-n', 'rs-e2e', '--replicas=5']);
    await eventually('5 pods', async () => (await podNames(srv, 'rs-e2e', 'app=web')).length === 5);
    await ok(srv, ['scale', 'rs', 'web', '-n', 'rs-e2e', '--replicas=1']);
    await eventually('1 pod, one of the ready ones', async () => {
      const now = await podNames(srv, 'rs-e2e', 'app=web');
      return now.length === 1 && (now[0] === pods[0] || now[0] === pods[2]);
    });
    await eventually('status', async () => (await ok(srv, ['get', 'rs', 'web', '-n', 'rs-e2e', '-o', 'jsonpath={.status.replicas}/{.status.observedGeneration}'])).trim() === '1/3');
    const events = await ok(srv, ['get', 'events', '-n', 'rs-e2e', '--field-selector', 'involvedObject.name=web', '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}']);
    assert.match(events, /SuccessfulCreate/);
    assert.match(events, /SuccessfulDelete/);
  });

  test('kubectl delete rs: background removes the pods; --cascade=orphan keeps them without owner references', async () => {
    await ok(srv, ['apply', '-f', '-'], replicaSetYaml('rs-e2e', 'bg', 2));
    await eventually('2 pods', async () => (await podNames(srv, 'rs-e2e', 'app=bg')).length === 2);
    await ok(srv, ['delete', 'rs', 'bg', '-n', 'rs-e2e']);
    await eventually('pods garbage-collected', async () => (await podNames(srv, 'rs-e2e', 'app=bg')).length === 0);

    await ok(srv, ['apply', '-f', '-'], replicaSetYaml('rs-e2e', 'orph', 2));
    await eventually('2 pods', async () => (await podNames(srv, 'rs-e2e', 'app=orph')).length === 2);
    const pods = await podNames(srv, 'rs-e2e', 'app=orph');
    await ok(srv, ['delete', 'rs', 'orph', '-n', 'rs-e2e', '--cascade=orphan']);
    assert.equal((await srv.kubectl(['get', 'rs', 'orph', '-n', 'rs-e2e'])).code, 1, 'the ReplicaSet is gone');
    await eventually('owner references removed', async () => {
      const refs = await ok(srv, ['get', 'pods', '-n', 'rs-e2e', '-l', 'app=orph', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.metadata.ownerReferences}{"\\n"}{end}']);
      return refs.trim().split('\n').sort().join(',') === pods.map((p) => `${p}=`).join(',');
    });
    assert.deepEqual(await podNames(srv, 'rs-e2e', 'app=orph'), pods, 'the same pods are still there');
  });

  test('kubectl delete rs --cascade=foreground: the ReplicaSet stays until its pods are gone', async () => {
    await ok(srv, ['apply', '-f', '-'], replicaSetYaml('rs-e2e', 'fg', 2));
    await eventually('2 pods', async () => (await podNames(srv, 'rs-e2e', 'app=fg')).length === 2);
    const [held, other] = await podNames(srv, 'rs-e2e', 'app=fg');
    // One pod is held by a finalizer, so the foreground deletion has to wait for it.
    await ok(srv, ['patch', 'pod', held, '-n', 'rs-e2e', '--type=merge', '-p', '{"metadata":{"finalizers":["example.com/hold"]}}']);
    await ok(srv, ['delete', 'rs', 'fg', '-n', 'rs-e2e', '--cascade=foreground', '--wait=false']);
    await eventually('the free pod deleted, the held one terminating', async () => {
      const r = await srv.kubectl(['get', 'pod', other, '-n', 'rs-e2e']);
      const ts = await ok(srv, ['get', 'pod', held, '-n', 'rs-e2e', '-o', 'jsonpath={.metadata.deletionTimestamp}']);
      return r.code === 1 && ts.trim() !== '';
    });
    const rs = JSON.parse(await ok(srv, ['get', 'rs', 'fg', '-n', 'rs-e2e', '-o', 'json'])) as { metadata: { finalizers?: string[]; deletionTimestamp?: string } };
    assert.deepEqual(rs.metadata.finalizers, ['foregroundDeletion']);
    assert.ok(rs.metadata.deletionTimestamp, 'the ReplicaSet waits, marked for deletion');
    await ok(srv, ['patch', 'pod', held, '-n', 'rs-e2e', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await eventually('the ReplicaSet gone after its pods', async () => (await srv.kubectl(['get', 'rs', 'fg', '-n', 'rs-e2e'])).code === 1);
    assert.deepEqual(await podNames(srv, 'rs-e2e', 'app=fg'), []);
  });

  test('ReplicationController: pods created, kubectl scale rc, kubectl delete rc removes the pods', async () => {
    await ok(
      srv,
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: ReplicationController
metadata:
  name: legacy
  namespace: rs-e2e
spec:
  replicas: 2
  selector:
    app: legacy
  template:
    metadata:
      labels:
        app: legacy
    spec:
      containers:
      - name: c
        image: busybox
`,
    );
    await eventually('2 pods', async () => (await podNames(srv, 'rs-e2e', 'app=legacy')).length === 2);
    const kind = await ok(srv, ['get', 'pods', '-n', 'rs-e2e', '-l', 'app=legacy', '-o', 'jsonpath={.items[0].metadata.ownerReferences[0].kind}']);
    assert.equal(kind, 'ReplicationController');
    await ok(srv, ['scale', 'rc', 'legacy', '-n', 'rs-e2e', '--replicas=3']);
    await eventually('3 pods', async () => (await podNames(srv, 'rs-e2e', 'app=legacy')).length === 3);
    await eventually('kubectl get rc shows 3 current', async () => /^legacy\s+3\s+3\s+0\s+/.test(await ok(srv, ['get', 'rc', 'legacy', '-n', 'rs-e2e', '--no-headers'])));
    await ok(srv, ['delete', 'rc', 'legacy', '-n', 'rs-e2e']);
    await eventually('pods garbage-collected', async () => (await podNames(srv, 'rs-e2e', 'app=legacy')).length === 0);
  });
});

// The StatefulSet controller inside the real `skiff server`, driven by the real kubectl. No node agent runs, so the
// test plays the kubelet: it marks pods Running and Ready through the status subresource. The scheduler is off so
// nothing else writes pod status.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer, eventually as eventuallyWithin, waitForServiceAccount } from './harness.js';

/** The machine is shared and kubectl slow under load: rollouts get a generous deadline. */
const eventually = (what: string, check: () => Promise<boolean>) => eventuallyWithin(what, check, 120_000);

async function ok(srv: TestServer, args: string[], stdin?: string): Promise<string> {
  const r = await srv.kubectl(args, stdin === undefined ? { timeoutMs: 120_000 } : { stdin, timeoutMs: 120_000 });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}\n${srv.logs().slice(-3000)}`);
  return r.stdout;
}

const NS = 'sts-e2e';

function statefulSet(name: string, extra: { replicas: number; image: string; partition?: number; policy?: 'OrderedReady' | 'Parallel'; whenDeleted?: 'Retain' | 'Delete' }): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: NS },
    spec: {
      serviceName: name,
      replicas: extra.replicas,
      podManagementPolicy: extra.policy ?? 'OrderedReady',
      selector: { matchLabels: { app: name } },
      ...(extra.whenDeleted ? { persistentVolumeClaimRetentionPolicy: { whenDeleted: extra.whenDeleted, whenScaled: 'Retain' } } : {}),
      ...(extra.partition !== undefined ? { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: extra.partition } } } : {}),
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', image: extra.image, volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  });
}

describe('StatefulSet controller with kubectl', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ args: ['--disable-controllers', 'scheduler'] });
    await ok(srv, ['create', 'namespace', NS]);
    await waitForServiceAccount(srv, NS);
  });
  after(async () => {
    await srv?.stop();
  });

  const podNames = async (app: string): Promise<string[]> =>
    (await ok(srv, ['get', 'pods', '-n', NS, '-l', `app=${app}`, '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}'])).split('\n').filter(Boolean).sort();

  /** Play the kubelet: the pod is Running and Ready. */
  const markReady = (pod: string) =>
    ok(srv, [
      'patch', 'pod', pod, '-n', NS, '--subresource=status', '--type=merge',
      '-p', JSON.stringify({ status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] } }),
    ]);

  const waitPod = (pod: string) => eventually(`pod ${pod}`, async () => (await srv.kubectl(['get', 'pod', pod, '-n', NS])).code === 0);

  test('OrderedReady: pods start one at a time in ordinal order with their PVCs; scale down removes the highest first', async () => {
    await ok(srv, ['apply', '-f', '-'], statefulSet('web', { replicas: 3, image: 'nginx:1' }));
    await waitPod('web-0');
    assert.deepEqual(await podNames('web'), ['web-0'], 'web-1 waits for web-0 to be Running and Ready');
    const pvc = await ok(srv, ['get', 'pvc', 'data-web-0', '-n', NS, '-o', 'jsonpath={.metadata.labels.app}']);
    assert.equal(pvc, 'web');
    const pod = JSON.parse(await ok(srv, ['get', 'pod', 'web-0', '-n', NS, '-o', 'json'])) as {
      metadata: { labels: Record<string, string>; ownerReferences: { kind: string; name: string; controller: boolean }[] };
      spec: { hostname: string; subdomain: string; volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[] };
    };
    assert.equal(pod.metadata.labels['statefulset.kubernetes.io/pod-name'], 'web-0');
    assert.equal(pod.metadata.labels['apps.kubernetes.io/pod-index'], '0');
    assert.match(pod.metadata.labels['controller-revision-hash'], /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.deepEqual(pod.metadata.ownerReferences.map((r) => [r.kind, r.name, r.controller]), [['StatefulSet', 'web', true]]);
    assert.equal(pod.spec.hostname, 'web-0');
    assert.equal(pod.spec.subdomain, 'web');
    assert.deepEqual(pod.spec.volumes.find((v) => v.name === 'data')?.persistentVolumeClaim, { claimName: 'data-web-0' });

    await markReady('web-0');
    await waitPod('web-1');
    assert.deepEqual(await podNames('web'), ['web-0', 'web-1']);
    await markReady('web-1');
    await waitPod('web-2');
    await markReady('web-2');
    const status = await ok(srv, ['rollout', 'status', 'statefulset/web', '-n', NS, '--timeout=90s']);
    assert.match(status, /partitioned roll out complete: 3 new pods have been updated/);
    assert.deepEqual((await ok(srv, ['get', 'pvc', '-n', NS, '-o', 'name'])).split('\n').filter(Boolean).sort(), [
      'persistentvolumeclaim/data-web-0',
      'persistentvolumeclaim/data-web-1',
      'persistentvolumeclaim/data-web-2',
    ]);
    await eventually('status counts 3 ready', async () => (await ok(srv, ['get', 'sts', 'web', '-n', NS, '-o', 'jsonpath={.status.readyReplicas}/{.status.availableReplicas}/{.status.currentReplicas}'])) === '3/3/3');
    const events = await ok(srv, ['get', 'events', '-n', NS, '--field-selector', 'involvedObject.name=web', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']);
    assert.match(events, /SuccessfulCreate: create Pod web-0 in StatefulSet web successful/);
    assert.match(events, /SuccessfulCreate: create Claim data-web-0 Pod web-0 in StatefulSet web success/);

    await ok(srv, ['scale', 'statefulset', 'web', '-n', NS, '--replicas=1']);
    await eventually('scaled down to web-0', async () => (await podNames('web')).join() === 'web-0');
    // Events are named by time: their order is the order of the deletions.
    const deletions = (await ok(srv, ['get', 'events', '-n', NS, '--field-selector', 'reason=SuccessfulDelete', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.message}{"\\n"}{end}']))
      .split('\n')
      .filter(Boolean)
      .sort()
      .map((l) => l.slice(l.indexOf(' ') + 1));
    assert.deepEqual(deletions, ['delete Pod web-2 in StatefulSet web successful', 'delete Pod web-1 in StatefulSet web successful']);
    // Retain (the default): the claims stay.
    assert.equal((await ok(srv, ['get', 'pvc', '-n', NS, '-o', 'name'])).split('\n').filter(Boolean).length, 3);
  });

  test('a partitioned rolling update replaces only ordinals at or above the partition, highest first; history and undo', async () => {
    await ok(srv, ['apply', '-f', '-'], statefulSet('db', { replicas: 3, image: 'redis:1', partition: 1, policy: 'Parallel' }));
    await eventually('three pods at once (Parallel)', async () => (await podNames('db')).length === 3);
    for (const p of ['db-0', 'db-1', 'db-2']) await markReady(p);
    await ok(srv, ['rollout', 'status', 'statefulset/db', '-n', NS, '--timeout=90s']);
    const rev1 = (await ok(srv, ['get', 'sts', 'db', '-n', NS, '-o', 'jsonpath={.status.updateRevision}'])).trim();

    await ok(srv, ['set', 'image', 'statefulset/db', '-n', NS, 'main=redis:2']);
    let rev2 = '';
    await eventually('a new update revision', async () => {
      rev2 = (await ok(srv, ['get', 'sts', 'db', '-n', NS, '-o', 'jsonpath={.status.updateRevision}'])).trim();
      return rev2 !== '' && rev2 !== rev1;
    });
    const revisionOf = async (pod: string) => (await ok(srv, ['get', 'pod', pod, '-n', NS, '-o', 'jsonpath={.metadata.labels.controller-revision-hash}'])).trim();
    const imageOf = async (pod: string) => (await ok(srv, ['get', 'pod', pod, '-n', NS, '-o', 'jsonpath={.spec.containers[0].image}'])).trim();
    // db-2 goes first; db-1 waits until the new db-2 is Running and Ready.
    await eventually('db-2 recreated at the new revision', async () => (await srv.kubectl(['get', 'pod', 'db-2', '-n', NS])).code === 0 && (await revisionOf('db-2')) === rev2);
    assert.equal(await imageOf('db-2'), 'redis:2');
    assert.equal(await revisionOf('db-1'), rev1, 'db-1 waits for db-2 to be ready');
    await markReady('db-2');
    await eventually('db-1 recreated at the new revision', async () => (await srv.kubectl(['get', 'pod', 'db-1', '-n', NS])).code === 0 && (await revisionOf('db-1')) === rev2);
    await markReady('db-1');
    const status = await ok(srv, ['rollout', 'status', 'statefulset/db', '-n', NS, '--timeout=90s']);
    assert.match(status, /partitioned roll out complete: 2 new pods have been updated/);
    assert.equal(await revisionOf('db-0'), rev1, 'below the partition stays at the old revision');
    assert.equal(await imageOf('db-0'), 'redis:1');
    await eventually('status shows the partition', async () =>
      (await ok(srv, ['get', 'sts', 'db', '-n', NS, '-o', 'jsonpath={.status.currentRevision} {.status.updatedReplicas} {.status.currentReplicas}'])) === `${rev1} 2 1`,
    );

    const revisions = await ok(srv, ['get', 'controllerrevisions', '-n', NS, '-l', 'app=db', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.revision}{"\\n"}{end}']);
    assert.deepEqual(revisions.split('\n').filter(Boolean).sort(), [`${rev1}=1`, `${rev2}=2`].sort());
    const history = await ok(srv, ['rollout', 'history', 'statefulset/db', '-n', NS]);
    assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    const detail = await ok(srv, ['rollout', 'history', 'statefulset/db', '-n', NS, '--revision=1']);
    assert.match(detail, /Image:\s+redis:1/);

    // Undo: back to revision 1's template, which becomes revision 3 (db-0, below the partition, is there already).
    await ok(srv, ['rollout', 'undo', 'statefulset/db', '-n', NS, '--to-revision=1']);
    assert.equal((await ok(srv, ['get', 'sts', 'db', '-n', NS, '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).trim(), 'redis:1');
    await eventually('revision 1 renumbered 3 and is the update revision', async () => {
      const out = await ok(srv, ['get', 'controllerrevision', rev1, '-n', NS, '-o', 'jsonpath={.revision}']);
      const upd = await ok(srv, ['get', 'sts', 'db', '-n', NS, '-o', 'jsonpath={.status.updateRevision}']);
      return out.trim() === '3' && upd.trim() === rev1;
    });
    for (const p of ['db-2', 'db-1']) {
      await eventually(`${p} back at revision 1`, async () => (await srv.kubectl(['get', 'pod', p, '-n', NS])).code === 0 && (await revisionOf(p)) === rev1);
      await markReady(p);
    }
    await ok(srv, ['rollout', 'status', 'statefulset/db', '-n', NS, '--timeout=90s']);
    assert.equal(await imageOf('db-1'), 'redis:1');
    assert.equal(await imageOf('db-2'), 'redis:1');
  });

  test('whenDeleted: Delete — the claims carry the StatefulSet as owner and the garbage collector removes them with it', async () => {
    await ok(srv, ['apply', '-f', '-'], statefulSet('tmp', { replicas: 1, image: 'busybox', whenDeleted: 'Delete' }));
    await eventually('pod and claim with the set as owner', async () => {
      const r = await srv.kubectl(['get', 'pvc', 'data-tmp-0', '-n', NS, '-o', 'jsonpath={.metadata.ownerReferences[*].kind}/{.metadata.ownerReferences[*].name}']);
      return r.code === 0 && r.stdout === 'StatefulSet/tmp';
    });
    await ok(srv, ['delete', 'statefulset', 'tmp', '-n', NS]);
    await eventually('pod and claim collected', async () => {
      const pvc = await srv.kubectl(['get', 'pvc', 'data-tmp-0', '-n', NS]);
      const pod = await srv.kubectl(['get', 'pod', 'tmp-0', '-n', NS]);
      return pvc.code !== 0 && pod.code !== 0;
    });
    // The default (Retain) claims of the other sets are untouched.
    assert.equal((await srv.kubectl(['get', 'pvc', 'data-web-0', '-n', NS])).code, 0);
  });
});

// The Deployment controller with the ReplicaSet controller against a complete in-process API (memory storage): pods
// are made Ready by writing their status, as a kubelet would. Rollout, a second revision with bounded unavailability,
// scaling, history cleanup, pause/resume, adoption, Recreate and the progress deadline.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Event, Namespace, Pod } from 'kubernetes-types/core/v1.js';
import { eventually } from '../../../test/e2e/harness.js';
import { createLogger } from '../../apiserver/log.js';
import type { RestClient, ResourceClient } from '../../client/index.js';
import { startInProcessApi, type InProcessApi } from '../testing/in-process-api.js';
import { ControllerManager } from '../manager.js';
import { replicaSetControllerDescriptor } from '../replicaset/replicaset-controller.js';
import { deploymentControllerDescriptor } from './deployment-controller.js';
import { computeHash } from './hash.js';

const NAMESPACES = ['roll', 'scale', 'history', 'pause', 'adopt', 'recreate', 'deadline'];

describe('Deployment controller against an in-process API', () => {
  let api: InProcessApi;
  let client: RestClient;
  let manager: ControllerManager;
  let deployments: ResourceClient<Deployment>;
  let replicaSets: ResourceClient<ReplicaSet>;
  let pods: ResourceClient<Pod>;
  let events: ResourceClient<Event>;

  before(async () => {
    api = await startInProcessApi();
    client = api.client;
    deployments = client.resource<Deployment>({ group: 'apps', version: 'v1', resource: 'deployments' });
    replicaSets = client.resource<ReplicaSet>({ group: 'apps', version: 'v1', resource: 'replicasets' });
    pods = client.resource<Pod>({ group: '', version: 'v1', resource: 'pods' });
    events = client.resource<Event>({ group: '', version: 'v1', resource: 'events' });
    const namespaces = client.resource<Namespace>({ group: '', version: 'v1', resource: 'namespaces' });
    for (const name of NAMESPACES) await namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    manager = new ControllerManager({ client, controllers: [replicaSetControllerDescriptor, deploymentControllerDescriptor], leaderElection: false, log: createLogger('error') });
    manager.start();
  });
  after(async () => {
    await manager?.stop();
    await api?.close();
  });

  const deployment = (ns: string, name: string, replicas: number, image = 'nginx:1', extra: Partial<Deployment['spec']> = {}): Deployment => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
      ...extra,
    },
  });

  const live = async (ns: string) => (await pods.list({ namespace: ns })).items.filter((p) => !p.metadata?.deletionTimestamp);
  const isReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  /** The kubelet's part: every pod of the namespace Running and Ready. */
  const readyAll = async (ns: string) => {
    for (const p of await live(ns)) {
      if (isReady(p)) continue;
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      await pods
        .patch(p.metadata!.name!, { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } }, { namespace: ns, type: 'merge', subresource: 'status' })
        .catch(() => undefined);
    }
  };
  const rsOf = async (ns: string) => (await replicaSets.list({ namespace: ns })).items;
  const complete = async (ns: string, name: string) => {
    const d = await deployments.get(name, { namespace: ns });
    const r = d.spec?.replicas ?? 1;
    const s = d.status ?? {};
    return (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) && s.updatedReplicas === r && (s.replicas ?? 0) === r && s.availableReplicas === r;
  };
  const rolledOut = async (ns: string, name: string) => {
    await readyAll(ns);
    return complete(ns, name);
  };

  test('a deployment rolls out: <name>-<hash> ReplicaSet, revision 1, pods, conditions and events', async () => {
    const d = await deployments.create(deployment('roll', 'web', 3));
    await eventually('rolled out', () => rolledOut('roll', 'web'));
    const [rs] = await rsOf('roll');
    const hash = computeHash(d.spec!.template);
    assert.equal(rs?.metadata?.name, `web-${hash}`);
    assert.equal(rs?.metadata?.labels?.['pod-template-hash'], hash);
    assert.equal(rs?.metadata?.annotations?.['deployment.kubernetes.io/revision'], '1');
    assert.equal(rs?.metadata?.annotations?.['deployment.kubernetes.io/desired-replicas'], '3');
    assert.equal(rs?.metadata?.annotations?.['deployment.kubernetes.io/max-replicas'], '4');
    assert.equal(rs?.metadata?.ownerReferences?.[0]?.uid, d.metadata?.uid);
    for (const p of await live('roll')) assert.equal(p.metadata?.labels?.['pod-template-hash'], hash);
    let last: Deployment | undefined;
    await eventually('final status', async () => {
      const cur = await deployments.get('web', { namespace: 'roll' });
      last = cur;
      const cond = (t: string) => cur.status?.conditions?.find((c) => c.type === t);
      return (
        cur.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '1' &&
        cond('Available')?.reason === 'MinimumReplicasAvailable' &&
        cond('Progressing')?.reason === 'NewReplicaSetAvailable' &&
        cond('Progressing')?.message === `ReplicaSet "web-${hash}" has successfully progressed.` &&
        cur.status?.readyReplicas === 3 &&
        cur.status?.unavailableReplicas === undefined
      );
    }, 20_000, () => JSON.stringify({ annotations: last?.metadata?.annotations, status: last?.status }));
    const evs = (await events.list({ namespace: 'roll' })).items.filter((e) => e.source?.component === 'deployment-controller');
    assert.ok(evs.some((e) => e.reason === 'ScalingReplicaSet' && e.message === `Scaled up replica set web-${hash} to 3`));
  });

  test('a new template rolls out revision 2 without dropping below replicas - maxUnavailable', async () => {
    await eventually('rolled out first', () => rolledOut('roll', 'web'));
    await deployments.patch('web', { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } } }, { namespace: 'roll', type: 'strategic' });
    // 3 replicas at 25%/25%: surge 1, unavailable 0 -> available never below 3.
    let minAvailable = Infinity;
    await eventually('rolled out second', async () => {
      const all = await rsOf('roll');
      minAvailable = Math.min(minAvailable, all.reduce((n, r) => n + (r.status?.availableReplicas ?? 0), 0));
      await readyAll('roll');
      return (await complete('roll', 'web')) && all.length === 2 && all.every((r) => (r.spec?.replicas ?? 0) === 0 || r.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '2');
    });
    assert.ok(minAvailable >= 3, `available dropped to ${minAvailable}`);
    const all = await rsOf('roll');
    const byRev = new Map(all.map((r) => [r.metadata?.annotations?.['deployment.kubernetes.io/revision'], r]));
    assert.equal(byRev.get('1')?.spec?.replicas, 0);
    assert.equal(byRev.get('2')?.spec?.replicas, 3);
    assert.equal(byRev.get('2')?.spec?.template?.spec?.containers[0]?.image, 'nginx:2');
    await eventually('deployment revision 2', async () => (await deployments.get('web', { namespace: 'roll' })).metadata?.annotations?.['deployment.kubernetes.io/revision'] === '2');
  });

  test('scaling resizes the ReplicaSet; a deleted pod is replaced', async () => {
    await deployments.create(deployment('scale', 'app', 2));
    await eventually('rolled out', () => rolledOut('scale', 'app'));
    await deployments.patch('app', { spec: { replicas: 5 } }, { namespace: 'scale', type: 'merge' });
    await eventually('5 available', () => rolledOut('scale', 'app'));
    const [rs] = await rsOf('scale');
    assert.equal(rs?.spec?.replicas, 5);
    assert.equal(rs?.metadata?.annotations?.['deployment.kubernetes.io/desired-replicas'], '5');
    const victim = (await live('scale'))[0]!;
    await pods.delete(victim.metadata!.name!, { namespace: 'scale' });
    await eventually('replaced', async () => {
      const now = await live('scale');
      return now.length === 5 && !now.some((p) => p.metadata?.uid === victim.metadata?.uid);
    });
    await deployments.patch('app', { spec: { replicas: 1 } }, { namespace: 'scale', type: 'merge' });
    await eventually('1 replica', async () => (await rolledOut('scale', 'app')) && (await live('scale')).length === 1);
  });

  test('revisionHistoryLimit keeps that many old ReplicaSets', async () => {
    await deployments.create(deployment('history', 'h', 1, 'img:1', { revisionHistoryLimit: 1 }));
    await eventually('rev 1', () => rolledOut('history', 'h'));
    for (const v of [2, 3, 4]) {
      await deployments.patch('h', { spec: { template: { spec: { containers: [{ name: 'c', image: `img:${v}` }] } } } }, { namespace: 'history', type: 'strategic' });
      await eventually(`rev ${v}`, async () => (await rolledOut('history', 'h')) && (await rsOf('history')).some((r) => r.spec?.template?.spec?.containers[0]?.image === `img:${v}`));
    }
    await eventually('two left: the current and one old', async () => {
      const revs = (await rsOf('history')).map((r) => r.metadata?.annotations?.['deployment.kubernetes.io/revision']).sort();
      return JSON.stringify(revs) === JSON.stringify(['3', '4']);
    });
  });

  test('a paused deployment does not roll out; resuming does', async () => {
    await deployments.create(deployment('pause', 'p', 2, 'img:1', { progressDeadlineSeconds: 600 }));
    await eventually('rolled out', () => rolledOut('pause', 'p'));
    await deployments.patch('p', { spec: { paused: true } }, { namespace: 'pause', type: 'merge' });
    await eventually('DeploymentPaused', async () => (await deployments.get('p', { namespace: 'pause' })).status?.conditions?.some((c) => c.reason === 'DeploymentPaused') ?? false);
    await deployments.patch('p', { spec: { template: { spec: { containers: [{ name: 'c', image: 'img:2' }] } } } }, { namespace: 'pause', type: 'strategic' });
    await eventually('generation observed', async () => {
      const d = await deployments.get('p', { namespace: 'pause' });
      return (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
    });
    assert.equal((await rsOf('pause')).length, 1, 'no new ReplicaSet while paused');
    await deployments.patch('p', { spec: { paused: false } }, { namespace: 'pause', type: 'merge' });
    await eventually('rolled out after resume', async () => (await rolledOut('pause', 'p')) && (await rsOf('pause')).length === 2);
  });

  test('an orphan ReplicaSet matching the selector and template is adopted as the new one', async () => {
    const d = deployment('adopt', 'a', 2);
    const hash = computeHash(d.spec!.template);
    await replicaSets.create({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'a-orphan', namespace: 'adopt', labels: { app: 'a' } },
      spec: { replicas: 2, selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } } },
    });
    const created = await deployments.create(d);
    await eventually('adopted and rolled out', async () => {
      const all = await rsOf('adopt');
      return (await rolledOut('adopt', 'a')) && all.length === 1 && all[0]?.metadata?.ownerReferences?.[0]?.uid === created.metadata?.uid;
    });
    assert.notEqual((await rsOf('adopt'))[0]?.metadata?.name, `a-${hash}`, 'the adopted set keeps its name');
  });

  test('Recreate: the old pods go before any new one is created', async () => {
    await deployments.create(deployment('recreate', 'r', 2, 'img:1', { strategy: { type: 'Recreate' } }));
    await eventually('rolled out', () => rolledOut('recreate', 'r'));
    await deployments.patch('r', { spec: { template: { spec: { containers: [{ name: 'c', image: 'img:2' }] } } } }, { namespace: 'recreate', type: 'strategic' });
    let mixed = false;
    await eventually('recreated', async () => {
      const images = new Set((await live('recreate')).map((p) => p.spec?.containers[0]?.image));
      if (images.size > 1) mixed = true;
      await readyAll('recreate');
      return (await complete('recreate', 'r')) && images.size === 1 && images.has('img:2');
    });
    assert.equal(mixed, false, 'old and new pods never ran together');
  });

  test('no progress within progressDeadlineSeconds: Progressing=False ProgressDeadlineExceeded', async () => {
    await deployments.create(deployment('deadline', 'slow', 1, 'img:1', { progressDeadlineSeconds: 1 }));
    // Pods are never made ready.
    await eventually(
      'ProgressDeadlineExceeded',
      async () => {
        const cond = (await deployments.get('slow', { namespace: 'deadline' })).status?.conditions?.find((c) => c.type === 'Progressing');
        return cond?.status === 'False' && cond.reason === 'ProgressDeadlineExceeded' && /^ReplicaSet "slow-\w+" has timed out progressing\.$/.test(cond.message ?? '');
      },
      15_000,
    );
  });
});

// The DaemonSet controller: placement predicates and daemon tolerations as pure functions, then sync() driven by hand
// against a complete in-process API with a FakeClock. Pods are made Running and Ready by writing their status, as a
// kubelet would.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Namespace, Node, Pod } from 'kubernetes-types/core/v1.js';
import { eventually } from '../../../test/e2e/harness.js';
import { createLogger } from '../../apiserver/log.js';
import { FakeClock, SharedInformerFactory, type EventType, type ObjectLike, type ResourceClient, type RestClient } from '../../client/index.js';
import { formatTime } from '../../machinery/time.js';
import { startInProcessApi, type InProcessApi } from '../testing/in-process-api.js';
import { DaemonSetController } from './daemonset-controller.js';
import { createPodTemplate, nodeShouldRunDaemonPod, pinToNode, targetNodeName } from './utils.js';

const log = createLogger('error');

const ds = (spec: Partial<NonNullable<DaemonSet['spec']>['template']['spec']> = {}): DaemonSet => ({
  metadata: { name: 'd', namespace: 'ns' },
  spec: { selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'i' }], ...spec } } },
});

describe('DaemonSet placement', () => {
  test('nodeSelector, node affinity, taints and the automatic tolerations decide shouldRun / shouldContinueRunning', () => {
    const node = (labels: Record<string, string>, taints: { key: string; effect: string; value?: string }[] = [], name = 'n1'): Node => ({ metadata: { name, labels }, spec: { taints } });
    const cases: [string, DaemonSet, Node, boolean, boolean][] = [
      ['plain', ds(), node({}), true, true],
      ['nodeSelector matches', ds({ nodeSelector: { disk: 'ssd' } }), node({ disk: 'ssd' }), true, true],
      ['nodeSelector excludes', ds({ nodeSelector: { disk: 'ssd' } }), node({ disk: 'hdd' }), false, false],
      ['template nodeName elsewhere', ds({ nodeName: 'n2' }), node({}), false, false],
      [
        'required affinity excludes',
        ds({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } } } }),
        node({ zone: 'b' }),
        false,
        false,
      ],
      ['NoSchedule taint: no new pod, an existing one stays', ds(), node({}, [{ key: 'dedicated', effect: 'NoSchedule' }]), false, true],
      ['NoExecute taint: no pod at all', ds(), node({}, [{ key: 'dedicated', effect: 'NoExecute' }]), false, false],
      ['tolerated taint', ds({ tolerations: [{ key: 'dedicated', operator: 'Exists' }] }), node({}, [{ key: 'dedicated', effect: 'NoExecute' }]), true, true],
      ['unschedulable and pressure taints are tolerated automatically', ds(), node({}, [
        { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/pid-pressure', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' },
        { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
      ]), true, true],
      ['network-unavailable only with hostNetwork', ds(), node({}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), false, true],
      ['network-unavailable tolerated with hostNetwork', ds({ hostNetwork: true }), node({}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), true, true],
    ];
    for (const [what, set, n, shouldRun, shouldContinueRunning] of cases) {
      assert.deepEqual(nodeShouldRunDaemonPod(n, set), { shouldRun, shouldContinueRunning }, what);
    }
  });

  test('pods are pinned by a matchFields term that replaces the required node selector terms', () => {
    const affinity = pinToNode({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'a', operator: 'Exists' }] }] } } }, 'n7');
    assert.deepEqual(affinity.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n7'] }] }] });
    assert.equal(targetNodeName({ spec: { containers: [], affinity } }), 'n7');
    assert.equal(targetNodeName({ spec: { containers: [], nodeName: 'n8', affinity } }), 'n8');
    const t = createPodTemplate(ds().spec?.template, 3, 'abc');
    assert.deepEqual(t.metadata?.labels, { app: 'd', 'pod-template-generation': '3', 'controller-revision-hash': 'abc' });
    assert.equal(t.spec?.tolerations?.length, 6);
    // Tolerations the template already has are replaced, not doubled.
    const again = createPodTemplate(t, undefined, 'abc');
    assert.equal(again.spec?.tolerations?.length, 6);
  });
});

describe('DaemonSet controller sync against an in-process API', () => {
  let api: InProcessApi;
  let client: RestClient;
  let sets: ResourceClient<DaemonSet>;
  let pods: ResourceClient<Pod>;
  let nodes: ResourceClient<Node>;
  const stops: (() => Promise<void>)[] = [];

  before(async () => {
    api = await startInProcessApi();
    client = api.client;
    sets = client.resource<DaemonSet>({ group: 'apps', version: 'v1', resource: 'daemonsets' });
    pods = client.resource<Pod>({ group: '', version: 'v1', resource: 'pods' });
    nodes = client.resource<Node>({ group: '', version: 'v1', resource: 'nodes' });
    const namespaces = client.resource<Namespace>({ group: '', version: 'v1', resource: 'namespaces' });
    await namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ds' } });
    for (const [name, labels] of [['a', { role: 'w' }], ['b', { role: 'w' }], ['c', { role: 'other' }]] as const) {
      await nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels } });
    }
  });
  after(async () => {
    for (const s of stops) await s();
    await api?.close();
  });

  test('one pod per eligible node; status; minReadySeconds on the FakeClock; maxSurge rolls out new pods next to old ones', async () => {
    const informers = new SharedInformerFactory(client);
    const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
    const events: string[] = [];
    const recorder = { event: (_o: ObjectLike, type: EventType, reason: string, message: string) => void events.push(`${type} ${reason} ${message}`) };
    const c = new DaemonSetController({ client, informers, clock, log }, { recorder });
    informers.start();
    stops.push(() => informers.shutdown());
    assert.ok(await informers.waitForCacheSync());
    const caughtUp = async () => {
      const [p, s] = await Promise.all([pods.list({ namespace: 'ds' }), sets.list({ namespace: 'ds' })]);
      const same = (items: ObjectLike[], inf: { lister(): { namespace(n: string): { get(x: string): ObjectLike | undefined; list(): ObjectLike[] } } }) =>
        items.every((o) => inf.lister().namespace('ds').get(o.metadata?.name ?? '')?.metadata?.resourceVersion === o.metadata?.resourceVersion) && inf.lister().namespace('ds').list().length === items.length;
      return same(p.items, c.pods) && same(s.items, c.sets);
    };
    const sync = async () => {
      await eventually('informers caught up', caughtUp);
      await c.sync('ds/agent');
    };
    const live = async () => (await pods.list({ namespace: 'ds' })).items.filter((p) => !p.metadata?.deletionTimestamp);
    /** Play the kubelet: every live pod Running and Ready (left unbound, so deletions are immediate). */
    const runAll = async () => {
      for (const p of await live()) {
        if (p.status?.phase === 'Running') continue;
        await pods.patch(p.metadata?.name ?? '', { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: formatTime(new Date(clock.now())) }] } }, { namespace: 'ds', type: 'merge', subresource: 'status' });
      }
    };

    await sets.create({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: 'ds' },
      spec: {
        minReadySeconds: 5,
        selector: { matchLabels: { app: 'agent' } },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: { metadata: { labels: { app: 'agent' } }, spec: { nodeSelector: { role: 'w' }, containers: [{ name: 'c', image: 'v1' }] } },
      },
    });
    await sync();
    const first = await live();
    assert.deepEqual(first.map((p) => targetNodeName(p)).sort(), ['a', 'b']);
    assert.ok(first.every((p) => p.metadata?.generateName === 'agent-' && p.metadata.ownerReferences?.[0].kind === 'DaemonSet'));
    assert.equal(events.filter((e) => e.startsWith('Normal SuccessfulCreate Created pod: agent-')).length, 2);
    // Expectations: until both creations are observed the controller only writes status.
    await sync();
    assert.equal((await live()).length, 2);

    await runAll();
    await sync();
    let st = (await sets.get('agent', { namespace: 'ds' })).status;
    assert.deepEqual([st?.desiredNumberScheduled, st?.currentNumberScheduled, st?.numberReady, st?.numberAvailable, st?.numberUnavailable, st?.updatedNumberScheduled], [2, 2, 2, 0, 2, 2]);
    clock.step(6000);
    await sync();
    st = (await sets.get('agent', { namespace: 'ds' })).status;
    assert.equal(st?.numberAvailable, 2, 'available once minReadySeconds passed on the clock');
    assert.equal(st?.observedGeneration, 1);

    // New template with maxSurge 1: a new pod starts next to one old pod; the old goes once the new is available.
    await sets.patch('agent', { spec: { template: { spec: { containers: [{ name: 'c', image: 'v2' }] } } } }, { namespace: 'ds', type: 'strategic' });
    await sync();
    let ps = await live();
    assert.equal(ps.length, 3, 'one surge pod');
    const surged = ps.find((p) => p.spec?.containers[0].image === 'v2');
    assert.ok(surged);
    const surgeNode = targetNodeName(surged);
    await runAll();
    await sync();
    assert.equal((await live()).length, 3, 'the new pod is ready but not yet available: the old one stays');
    clock.step(6000);
    await sync();
    ps = await live();
    assert.deepEqual(ps.filter((p) => targetNodeName(p) === surgeNode).map((p) => p.spec?.containers[0].image), ['v2'], 'old pod on the surged node deleted');
    // The next node surges in turn.
    await eventually('rolled out', async () => {
      await sync();
      await runAll();
      clock.step(6000);
      const all = await live();
      return all.length === 2 && all.every((p) => p.spec?.containers[0].image === 'v2');
    });
    await sync();
    st = (await sets.get('agent', { namespace: 'ds' })).status;
    assert.equal(st?.updatedNumberScheduled, 2);
    assert.equal(st?.numberAvailable, 2);
    assert.equal(st?.observedGeneration, 2);

    // A node that stops matching loses its pod (numberMisscheduled while it is still there).
    await nodes.patch('b', { metadata: { labels: { role: 'other' } } }, { type: 'merge' });
    await eventually('node change seen', async () => c.nodes.lister().get('b')?.metadata?.labels?.role === 'other');
    await sync();
    assert.deepEqual((await live()).map((p) => targetNodeName(p)), ['a']);
  });
});

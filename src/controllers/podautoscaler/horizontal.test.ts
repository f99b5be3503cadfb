// The HPA controller against a real API (in-process) with a FakeClock and a FakeMetricsSource: CPU utilization scales
// a Deployment's /scale (limited to the 2x-or-4 scale-up rate), the tolerance keeps it, the 5-minute downscale window
// holds a scale-down, behavior policies limit the rate, Pods/Object/External/ContainerResource/AverageValue metrics
// each produce a proposal (the largest wins), and missing metrics or a zero-replica target set the right conditions.
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { Event as CoreEvent, Pod } from 'kubernetes-types/core/v1.js';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec } from 'kubernetes-types/autoscaling/v2.js';
import { FakeClock, SharedInformerFactory, type ResourceClient } from '../../client/index.js';
import { formatTime } from '../../machinery/time.js';
import { buildControllerOn, startInProcessApi, type InProcessApi } from '../testing/in-process-api.js';
import { FakeMetricsSource, RestMetricsSource } from './metrics.js';
import { HorizontalController, convertDesiredReplicasWithRules, scaleDownLimitWithRules, scaleUpLimitWithRules } from './horizontal.js';
import { everything } from '../../machinery/labels.js';
import { eventually } from '../../../test/e2e/harness.js';

const PODS = { group: '', version: 'v1', resource: 'pods' };
const HPAS = { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' };
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };


describe('HorizontalController', () => {
  let api: InProcessApi;
  let informers: SharedInformerFactory;
  let controller: HorizontalController;
  let clock: FakeClock;
  let metrics: FakeMetricsSource;
  let pods: ResourceClient<Pod>;
  let hpas: ResourceClient<HorizontalPodAutoscaler>;
  let deployments: ResourceClient<Deployment>;

  beforeEach(async () => {
    api = await startInProcessApi();
    clock = new FakeClock(Date.now());
    metrics = new FakeMetricsSource(() => clock.now());
    ({ informers, controller } = await buildControllerOn(api, (ctx) => new HorizontalController(ctx, metrics), { clock }));
    pods = api.client.resource<Pod>(PODS);
    hpas = api.client.resource<HorizontalPodAutoscaler>(HPAS);
    deployments = api.client.resource<Deployment>(DEPLOYMENTS);
  });
  afterEach(async () => {
    await informers.shutdown();
    await api.close();
  });

  async function deployment(replicas: number): Promise<void> {
    await deployments.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m' } } }] } },
      },
    });
    // What the Deployment controller would report; the Scale's status.replicas comes from it.
    const d = await deployments.get('web', { namespace: 'default' });
    await deployments.updateStatus({ ...d, status: { replicas } });
  }
  /** Running, ready pods started long ago (outside the CPU initialization period), each with a 100m CPU request. */
  async function runningPods(n: number, cpuMilli: number): Promise<void> {
    const long = formatTime(new Date(clock.now() - 600_000));
    for (let i = 0; i < n; i++) {
      const name = `web-${i}`;
      await pods.create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'default', labels: { app: 'web' } },
        spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m' } } }] },
      });
      const p = await pods.get(name, { namespace: 'default' });
      await pods.updateStatus({ ...p, status: { phase: 'Running', startTime: long, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: long }] } });
      metrics.setPodUsage('default', name, { cpu: cpuMilli, 'c:cpu': cpuMilli, memory: 50_000 });
    }
    await eventually('pods cached', () => informers.informerFor<Pod>(PODS).lister().list().filter((p) => p.status?.phase === 'Running').length === n);
  }
  async function hpa(spec: Partial<HorizontalPodAutoscalerSpec>): Promise<void> {
    await hpas.create({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 1,
        maxReplicas: 10,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
        ...spec,
      },
    });
    await eventually('hpa cached', () => informers.informerFor<HorizontalPodAutoscaler>(HPAS).lister().namespace('default').get('web'));
  }
  const replicas = async () => (await deployments.get('web', { namespace: 'default' })).spec?.replicas;
  const status = async () => (await hpas.get('web', { namespace: 'default' })).status!;
  const condition = async (type: string) => (await status()).conditions?.find((c) => c.type === type);
  /** Run one sync once the cache holds the HPA's latest status (as the informer would before the next period). */
  async function syncOnce(): Promise<void> {
    const rv = (await hpas.get('web', { namespace: 'default' })).metadata?.resourceVersion;
    await eventually('hpa status cached', () => informers.informerFor<HorizontalPodAutoscaler>(HPAS).lister().namespace('default').get('web')?.metadata?.resourceVersion === rv);
    await controller.sync('default/web');
  }

  test('CPU utilization above target scales the Deployment through /scale, limited to the scale-up rate', async () => {
    await deployment(2);
    await runningPods(2, 150);
    await hpa({});
    await syncOnce();
    // 150% of request against 50% → ratio 3 → 6 wanted; without behavior at most max(2x2, 4) = 4.
    assert.equal(await replicas(), 4);
    const st = await status();
    assert.equal(st.currentReplicas, 2);
    assert.equal(st.desiredReplicas, 4);
    assert.ok(st.lastScaleTime);
    assert.deepEqual(st.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 150, averageValue: '150m' } } }]);
    assert.deepEqual(
      st.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ['AbleToScale', 'True', 'SucceededRescale'],
        ['ScalingActive', 'True', 'ValidMetricFound'],
        ['ScalingLimited', 'True', 'ScaleUpLimit'],
      ],
    );
    assert.equal((await condition('ScalingActive'))?.message, 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)');
    await controller.recorder.flush();
    const events = (await api.client.resource<CoreEvent>({ group: '', version: 'v1', resource: 'events' }).list({ namespace: 'default' })).items;
    assert.ok(
      events.some((e) => e.reason === 'SuccessfulRescale' && e.message === 'New size: 4; reason: cpu resource utilization (percentage of request) above target'),
      events.map((e) => e.message).join('\n'),
    );
  });

  test('within the tolerance nothing changes; a scale-down waits out the 5-minute stabilization window', async () => {
    await deployment(2);
    await runningPods(2, 54);
    await hpa({});
    await syncOnce();
    assert.equal(await replicas(), 2, '108% of target is within 10%');
    assert.equal((await condition('AbleToScale'))?.reason, 'ReadyForNewScale');
    assert.equal((await status()).desiredReplicas, 2);

    for (const n of ['web-0', 'web-1']) metrics.setPodUsage('default', n, { cpu: 10 });
    clock.step(60_000);
    await syncOnce();
    assert.equal(await replicas(), 2, 'held by the recommendation of a minute ago');
    assert.equal((await condition('AbleToScale'))?.reason, 'ScaleDownStabilized');
    clock.step(300_000);
    await syncOnce();
    // 10% against 50% → ratio 0.2 → ceil(0.4) = 1.
    assert.equal(await replicas(), 1);
    await controller.recorder.flush();
    const events = (await api.client.resource<CoreEvent>({ group: '', version: 'v1', resource: 'events' }).list({ namespace: 'default' })).items;
    assert.ok(events.some((e) => e.message === 'New size: 1; reason: All metrics below target'));
  });

  test('behavior policies limit the rate; several metric types, the largest proposal wins', async () => {
    await deployment(2);
    await runningPods(2, 50);
    metrics.podMetrics.set('requests', new Map([['default/web-0', 30_000], ['default/web-1', 30_000]]));
    metrics.objectMetrics.set('default/Service/front/hits', 2_000);
    metrics.externalMetrics.set('default/queue', [9_000, 3_000]);
    await hpa({
      behavior: { scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } },
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'AverageValue', averageValue: '50m' } } },
        { type: 'ContainerResource', containerResource: { name: 'cpu', container: 'c', target: { type: 'Utilization', averageUtilization: 50 } } },
        { type: 'Pods', pods: { metric: { name: 'requests' }, target: { type: 'AverageValue', averageValue: '10' } } },
        { type: 'Object', object: { describedObject: { apiVersion: 'v1', kind: 'Service', name: 'front' }, metric: { name: 'hits' }, target: { type: 'Value', value: '1' } } },
        { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'AverageValue', averageValue: '2' } } },
      ],
    });
    await syncOnce();
    // Pods: 30 per pod against 10 → 6; Object: 2 against 1 → 4; External: 12 / 2 per pod → 6; CPU exactly on target.
    // The scale-up policy allows one pod per minute: 3.
    assert.equal(await replicas(), 3);
    const st = await status();
    assert.equal(st.desiredReplicas, 3);
    const lim = await condition('ScalingLimited');
    assert.equal(lim?.reason, 'ScaleUpLimit');
    assert.equal(lim?.message, 'the desired replica count is increasing faster than the maximum scale rate');
    assert.deepEqual(
      st.currentMetrics?.map((m) => m.type),
      ['Resource', 'ContainerResource', 'Pods', 'Object', 'External'],
    );
    assert.equal(st.currentMetrics?.[2]?.pods?.current.averageValue, '30');
    assert.equal(st.currentMetrics?.[3]?.object?.current.value, '2');
    assert.equal(st.currentMetrics?.[4]?.external?.current.averageValue, '6');
    assert.equal(st.currentMetrics?.[1]?.containerResource?.current.averageUtilization, 50);
    // Within the same minute no further step.
    clock.step(30_000);
    await syncOnce();
    assert.equal(await replicas(), 3);
    clock.step(31_000);
    await syncOnce();
    assert.equal(await replicas(), 4);
  });

  test('no metrics: ScalingActive False with FailedGetResourceMetric; a zero-replica target disables scaling', async () => {
    await deployment(2);
    await runningPods(2, 50);
    metrics.podUsage.clear();
    await hpa({});
    await assert.rejects(syncOnce(), /failed to compute desired number of replicas/);
    const active = await condition('ScalingActive');
    assert.equal(active?.status, 'False');
    assert.equal(active?.reason, 'FailedGetResourceMetric');
    assert.match(active?.message ?? '', /^the HPA was unable to compute the replica count: unable to get metrics for resource cpu: /);
    assert.equal(await replicas(), 2);

    const d = await deployments.get('web', { namespace: 'default' });
    await deployments.update({ ...d, spec: { ...d.spec!, replicas: 0 } });
    await syncOnce();
    const disabled = await condition('ScalingActive');
    assert.equal(disabled?.reason, 'ScalingDisabled');
    assert.equal(disabled?.message, 'scaling is disabled since the replica count of the target is zero');
    assert.equal(await replicas(), 0);
  });

  test('the metrics.k8s.io client reads PodMetrics through the REST client', async () => {
    const calls: string[] = [];
    const source = new RestMetricsSource({
      call: async (_m: string, path: string) => {
        calls.push(path);
        return {
          items: [
            { metadata: { name: 'a' }, timestamp: '2026-01-01T00:00:00Z', window: '30s', containers: [{ name: 'c', usage: { cpu: '250m', memory: '10Mi' } }, { name: 'd', usage: { cpu: '1' } }] },
            { metadata: { name: 'b' }, timestamp: '2026-01-01T00:00:00Z', window: '30s', containers: [{ name: 'c', usage: { memory: '1Mi' } }] },
          ],
        };
      },
    } as never);
    const got = await source.getResourceMetric('cpu', 'ns1', everything(), '');
    assert.deepEqual(calls, ['/apis/metrics.k8s.io/v1beta1/namespaces/ns1/pods']);
    assert.deepEqual([...got.metrics.keys()], ['a'], 'a pod without the resource in a container is skipped');
    assert.equal(got.metrics.get('a')?.value, 1250);
    assert.equal(got.metrics.get('a')?.windowMs, 30_000);
    const one = await source.getResourceMetric('cpu', 'ns1', everything(), 'c');
    assert.equal(one.metrics.get('a')?.value, 250);
  });
});

describe('HPA scaling rules', () => {
  test('without behavior: min, max and the 2x-or-4 scale-up limit', () => {
    assert.deepEqual(convertDesiredReplicasWithRules(1, 10, 1, 20), { replicas: 4, condition: 'ScaleUpLimit', reason: 'the desired replica count is increasing faster than the maximum scale rate' });
    assert.deepEqual(convertDesiredReplicasWithRules(5, 30, 1, 8), { replicas: 8, condition: 'TooManyReplicas', reason: 'the desired replica count is more than the maximum replica count' });
    assert.equal(convertDesiredReplicasWithRules(5, 0, 2, 8).condition, 'TooFewReplicas');
    assert.equal(convertDesiredReplicasWithRules(5, 6, 2, 8).condition, 'DesiredWithinRange');
  });

  test('policies: Max/Min select, Percent rounds up on the way up and down on the way down, events in the period count', () => {
    const up = { selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] };
    assert.equal(scaleUpLimitWithRules(3, [], up, 100_000), 7);
    assert.equal(scaleUpLimitWithRules(10, [], up, 100_000), 20);
    assert.equal(scaleUpLimitWithRules(10, [], { ...up, selectPolicy: 'Min' }, 100_000), 14);
    assert.equal(scaleUpLimitWithRules(10, [{ replicaChange: 5, timestamp: 95_000, outdated: false }], { ...up, selectPolicy: 'Min' }, 100_000), 9);
    assert.equal(scaleUpLimitWithRules(10, [], { ...up, selectPolicy: 'Disabled' }, 100_000), 10);
    const down = { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] };
    assert.equal(scaleDownLimitWithRules(5, [], down, 100_000), 2);
    assert.equal(scaleDownLimitWithRules(5, [{ replicaChange: 3, timestamp: 90_000, outdated: false }], down, 100_000), 4);
  });
});

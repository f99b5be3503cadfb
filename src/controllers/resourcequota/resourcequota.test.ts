// ResourceQuota: the evaluators (pod requests/limits arithmetic, terminal pods, scopes, service node ports, PVC storage
// classes), then the controller and the admission plugin together against an in-process API: status.hard/used are
// computed with scopes, creates over quota are refused with upstream's messages, usage is charged at admission and
// recounted when objects go away.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, Namespace, Pod, ResourceQuota, Service } from 'kubernetes-types/core/v1.js';
import { eventually } from '../../../test/e2e/harness.js';
import { isApiError } from '../../machinery/errors.js';
import { podEvaluator, prettyPrint, pvcEvaluator, serviceEvaluator, toRecord, usageStats } from '../../apiserver/admission/resourcequota/evaluators.js';
import { startControllerOn, startInProcessApi, type InProcessApi } from '../testing/in-process-api.js';
import { ResourceQuotaController } from './resourcequota-controller.js';

const podWith = (requests: Record<string, string>, limits: Record<string, string> = {}, extra: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({
  metadata: { name: 'p', namespace: 'ns' },
  spec: { containers: [{ name: 'c', resources: { requests, limits } }], ...extra },
});

describe('quota evaluators', () => {
  test('pod usage: containers summed, init containers as a maximum, sidecars added, overhead on top', () => {
    const pod = podWith({ cpu: '100m', memory: '64Mi' }, { cpu: '200m' }, {
      initContainers: [
        { name: 'init', resources: { requests: { cpu: '500m' } } },
        { name: 'side', restartPolicy: 'Always', resources: { requests: { cpu: '50m' } } },
      ],
      overhead: { cpu: '10m' },
    });
    const u = toRecord(podEvaluator.usage(pod, 0));
    assert.deepEqual(u, {
      'count/pods': '1',
      cpu: '510m',
      'limits.cpu': '210m',
      memory: '64Mi',
      pods: '1',
      'requests.cpu': '510m',
      'requests.memory': '64Mi',
    });
    assert.deepEqual(toRecord(podEvaluator.usage({ ...pod, status: { phase: 'Succeeded' } }, 0)), { 'count/pods': '1' }, 'terminal pods only count as objects');
  });

  test('scopes and constraints', () => {
    const q = (scopes: string[]): ResourceQuota => ({ spec: { scopes } });
    const be = podWith({});
    const burst = podWith({ cpu: '1' }, {}, { activeDeadlineSeconds: 30, priorityClassName: 'high' });
    const objs = [be, burst];
    assert.equal(usageStats(podEvaluator, q(['BestEffort']), objs, ['pods'], 0).get('pods')?.toString(), '1');
    assert.equal(usageStats(podEvaluator, q(['NotBestEffort', 'Terminating']), objs, ['pods'], 0).get('pods')?.toString(), '1');
    assert.equal(usageStats(podEvaluator, q(['NotTerminating']), objs, ['pods'], 0).get('pods')?.toString(), '1');
    const byPriority: ResourceQuota = { spec: { scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }] } } };
    assert.equal(usageStats(podEvaluator, byPriority, objs, ['pods', 'requests.cpu'], 0).get('requests.cpu')?.toString(), '1');
    assert.equal(podEvaluator.constraints?.(['requests.cpu', 'limits.memory', 'pods'], burst), 'must specify limits.memory for: c');
    assert.equal(podEvaluator.constraints?.(['pods'], be), undefined);
  });

  test('services count node ports and load balancers; PVCs charge their storage class', () => {
    const np: Service = { spec: { type: 'NodePort', ports: [{ port: 80 }, { port: 443 }] } };
    assert.equal(prettyPrint(serviceEvaluator.usage(np, 0)), 'count/services=1,services=1,services.loadbalancers=0,services.nodeports=2');
    const lb: Service = { spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } };
    assert.equal(serviceEvaluator.usage(lb, 0).get('services.loadbalancers')?.toString(), '1');
    const u = pvcEvaluator.usage({ spec: { storageClassName: 'fast', resources: { requests: { storage: '1.5Gi' } } } }, 0);
    assert.equal(u.get('fast.storageclass.storage.k8s.io/requests.storage')?.toString(), '1536Mi');
    assert.equal(u.get('fast.storageclass.storage.k8s.io/persistentvolumeclaims')?.toString(), '1');
  });
});

describe('ResourceQuota controller and admission against an in-process API', () => {
  let api: InProcessApi;
  const stops: (() => Promise<void>)[] = [];
  after(async () => {
    for (const s of stops) await s();
    await api?.close();
  });

  test('status computed with scopes; over-quota creates refused; usage recounted after deletes', async () => {
    api = await startInProcessApi();
    const client = api.client;
    await client.resource<Namespace>({ group: '', version: 'v1', resource: 'namespaces' }).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } });
    const quotas = client.resource<ResourceQuota>({ group: '', version: 'v1', resource: 'resourcequotas' });
    const pods = client.resource<Pod>({ group: '', version: 'v1', resource: 'pods' });
    const cms = client.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps' });
    const pod = (name: string, cpu?: string): Pod => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'ns' },
      spec: { containers: [{ name: 'c', image: 'busybox', ...(cpu ? { resources: { requests: { cpu }, limits: { cpu } } } : {}) }] },
    });
    await pods.create(pod('before', '100m'));
    await cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c0', namespace: 'ns' } });
    await quotas.create({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'ns' }, spec: { hard: { pods: '2', 'requests.cpu': '1', configmaps: '1', 'count/secrets': '5' } } });
    await quotas.create({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'be', namespace: 'ns' }, spec: { hard: { pods: '1' }, scopes: ['BestEffort'] } });

    // Until the controller fills status.hard the quotas constrain nothing (upstream matches on status.hard).
    await pods.create(pod('early-be'));
    await pods.delete('early-be', { namespace: 'ns', gracePeriodSeconds: 0 });

    stops.push((await startControllerOn(api, (ctx) => new ResourceQuotaController(ctx))).stop);
    const status = async (name: string) => (await quotas.get(name, { namespace: 'ns' })).status;
    await eventually('q status', async () => JSON.stringify((await status('q'))?.used) === JSON.stringify({ configmaps: '1', 'count/secrets': '0', pods: '1', 'requests.cpu': '100m' }));
    assert.deepEqual((await status('q'))?.hard, { configmaps: '1', 'count/secrets': '5', pods: '2', 'requests.cpu': '1' });
    await eventually('be status', async () => (await status('be'))?.used?.pods === '0');

    // requests.cpu is limited: every container must ask for cpu.
    await assert.rejects(pods.create(pod('nocpu')), (e: unknown) => isApiError(e) && e.code === 403 && e.message === 'pods "nocpu" is forbidden: failed quota: q: must specify requests.cpu for: c');
    await pods.create(pod('second', '800m'));
    // Charged at admission, before the controller recounts.
    assert.deepEqual((await status('q'))?.used, { configmaps: '1', 'count/secrets': '0', pods: '2', 'requests.cpu': '900m' });
    await assert.rejects(pods.create(pod('third', '50m')), (e: unknown) => isApiError(e) && e.message === 'pods "third" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2');
    await assert.rejects(cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1', namespace: 'ns' } }), (e: unknown) => isApiError(e) && /exceeded quota: q, requested: configmaps=1, used: configmaps=1, limited: configmaps=1$/.test(e.message));

    // Deleting pods frees the quota once the controller recounts.
    await pods.delete('before', { namespace: 'ns', gracePeriodSeconds: 0 });
    await eventually('pods used back to 1', async () => (await status('q'))?.used?.pods === '1' && (await status('q'))?.used?.['requests.cpu'] === '800m');
    await pods.create(pod('third', '50m'));
  });
});

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import type { ResourceInfo } from '../../api/catalog.js';
import { AGGREGATED_CONTENT_TYPE, compareKubeVersions, createDiscovery, discovery, storageVersionHash } from './index.js';
import { allowsJson, parseAccept } from './accept.js';

// Golden files live in the source tree; SKIFF_UPDATE_GOLDEN=1 rewrites them from the current output.
const testdata = new URL('../../../../src/apiserver/discovery/testdata/', import.meta.url);
function golden(file: string, body: Buffer): void {
  const actual = JSON.parse(body.toString('utf8')) as unknown;
  if (process.env.SKIFF_UPDATE_GOLDEN === '1') writeFileSync(new URL(file, testdata), JSON.stringify(actual, null, 2) + '\n');
  const expected = JSON.parse(readFileSync(new URL(file, testdata), 'utf8')) as unknown;
  // Compare serialized forms so key order (upstream's struct field order) is checked as well.
  assert.equal(JSON.stringify(actual), JSON.stringify(expected));
}

const KUBECTL_ACCEPT =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

interface Resource {
  name: string;
  kind: string;
  group?: string;
  version?: string;
  verbs: string[];
  storageVersionHash?: string;
  singularName: string;
}
interface AggregatedList {
  kind: string;
  apiVersion: string;
  items: { metadata: { name?: string }; versions: { version: string; resources: { resource: string; subresources?: { subresource: string }[] }[] }[] }[];
}

describe('legacy discovery', () => {
  test('/api/v1 matches the golden APIResourceList', () => {
    const a = discovery('/api/v1', 'application/json, */*');
    assert.ok(a);
    assert.equal(a.contentType, 'application/json');
    golden('api-v1.json', a.body);
  });

  test('resource lists carry subresources with foreign kinds, and storage hashes', () => {
    const core = JSON.parse(discovery('/api/v1', undefined)?.body.toString() ?? '') as { resources: Resource[] };
    const byName = new Map(core.resources.map((r) => [r.name, r]));
    assert.deepEqual(byName.get('pods/status'), { name: 'pods/status', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] });
    assert.equal(byName.get('pods/log')?.kind, 'Pod');
    assert.equal(byName.get('pods/eviction')?.group, 'policy');
    // Upstream's published hash for configmaps: sha256("/v1/ConfigMap")[:8], base64.
    assert.equal(byName.get('configmaps')?.storageVersionHash, 'qFsyl6wFWjQ=');
    assert.equal(byName.get('bindings')?.storageVersionHash, undefined);
    const apps = JSON.parse(discovery('/apis/apps/v1', undefined)?.body.toString() ?? '') as { apiVersion: string; groupVersion: string; resources: Resource[] };
    assert.equal(apps.apiVersion, 'v1');
    assert.equal(apps.groupVersion, 'apps/v1');
    const scale = apps.resources.find((r) => r.name === 'deployments/scale');
    assert.deepEqual([scale?.group, scale?.version, scale?.kind], ['autoscaling', 'v1', 'Scale']);
    const hpaV1 = JSON.parse(discovery('/apis/autoscaling/v1', undefined)?.body.toString() ?? '') as { resources: Resource[] };
    assert.equal(hpaV1.resources[0].storageVersionHash, storageVersionHash('autoscaling', 'v2', 'HorizontalPodAutoscaler'));
  });

  test('/api, /apis and /apis/G', () => {
    const api = JSON.parse(discovery('/api', 'application/json')?.body.toString() ?? '') as { kind: string; versions: string[]; serverAddressByClientCIDRs: unknown[] };
    assert.equal(api.kind, 'APIVersions');
    assert.deepEqual(api.versions, ['v1']);
    assert.equal(api.serverAddressByClientCIDRs.length, 1);
    const apis = JSON.parse(discovery('/apis/', 'application/json')?.body.toString() ?? '') as {
      kind: string;
      groups: { name: string; preferredVersion: { groupVersion: string }; versions: { version: string }[] }[];
    };
    assert.equal(apis.kind, 'APIGroupList');
    assert.deepEqual(apis.groups.slice(0, 3).map((g) => g.name), ['apps', 'events.k8s.io', 'autoscaling']);
    const autoscaling = apis.groups.find((g) => g.name === 'autoscaling');
    assert.equal(autoscaling?.preferredVersion.groupVersion, 'autoscaling/v2');
    assert.deepEqual(autoscaling?.versions.map((v) => v.version), ['v2', 'v1']);
    const group = JSON.parse(discovery('/apis/batch', undefined)?.body.toString() ?? '') as { kind: string; name: string };
    assert.deepEqual([group.kind, group.name], ['APIGroup', 'batch']);
  });

  test('unknown paths are not discovery', () => {
    for (const p of ['/apis/nope', '/apis/apps/v9', '/api/v2', '/apis/apps/v1/deployments', '/healthz']) assert.equal(discovery(p, undefined), undefined, p);
  });
});

describe('aggregated discovery', () => {
  test('kubectl Accept gets v2 for /apis with the exact content type (golden)', () => {
    const a = discovery('/apis', KUBECTL_ACCEPT);
    assert.ok(a);
    assert.equal(a.contentType, 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    assert.equal(a.headers?.Vary, 'Accept');
    golden('apis-aggregated-v2.json', a.body);
  });

  test('/api aggregated holds the core group with subresources', () => {
    const a = discovery('/api', KUBECTL_ACCEPT);
    assert.equal(a?.contentType, AGGREGATED_CONTENT_TYPE.v2);
    const list = JSON.parse(a?.body.toString() ?? '') as AggregatedList;
    assert.equal(list.kind, 'APIGroupDiscoveryList');
    assert.equal(list.items.length, 1);
    const pods = list.items[0].versions[0].resources.find((r) => r.resource === 'pods');
    assert.deepEqual(pods?.subresources?.map((s) => s.subresource), ['attach', 'binding', 'ephemeralcontainers', 'eviction', 'exec', 'log', 'portforward', 'proxy', 'status']);
  });

  test('v2beta1 when that is what the client prefers; plain JSON first means legacy', () => {
    const beta = discovery('/apis', 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json');
    assert.equal(beta?.contentType, AGGREGATED_CONTENT_TYPE.v2beta1);
    assert.equal((JSON.parse(beta?.body.toString() ?? '') as AggregatedList).apiVersion, 'apidiscovery.k8s.io/v2beta1');
    assert.equal(discovery('/apis', 'application/json, application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList')?.contentType, 'application/json');
    assert.equal(discovery('/apis', 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0.5,application/json;q=0.9')?.contentType, 'application/json');
  });
});

describe('custom resources', () => {
  const crontabs: ResourceInfo = {
    group: 'stable.example.com',
    version: 'v1',
    kind: 'CronTab',
    resource: 'crontabs',
    singular: 'crontab',
    namespaced: true,
    shortNames: ['ct'],
    categories: ['all'],
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [{ name: 'status', kind: { group: 'stable.example.com', version: 'v1', kind: 'CronTab' }, verbs: ['get', 'patch', 'update'] }],
  };

  test('added resources appear everywhere and cached bodies are recomputed; removal takes them away', () => {
    const d = createDiscovery();
    const before = d.discovery('/apis', KUBECTL_ACCEPT);
    d.addResources([crontabs, { ...crontabs, version: 'v1beta1' }], { storageVersion: 'v1' });
    const after = d.discovery('/apis', KUBECTL_ACCEPT);
    assert.notEqual(after?.etag, before?.etag);
    const list = JSON.parse(after?.body.toString() ?? '') as AggregatedList;
    const group = list.items.at(-1);
    assert.equal(group?.metadata.name, 'stable.example.com');
    assert.deepEqual(group?.versions.map((v) => v.version), ['v1', 'v1beta1']);
    const rl = JSON.parse(d.discovery('/apis/stable.example.com/v1', undefined)?.body.toString() ?? '') as { resources: Resource[] };
    assert.deepEqual(rl.resources.map((r) => r.name), ['crontabs', 'crontabs/status']);
    const beta = JSON.parse(d.discovery('/apis/stable.example.com/v1beta1', undefined)?.body.toString() ?? '') as { resources: Resource[] };
    assert.equal(beta.resources[0].storageVersionHash, storageVersionHash('stable.example.com', 'v1', 'CronTab'));
    d.removeResources('stable.example.com', 'v1beta1');
    d.removeResources('stable.example.com', 'v1');
    assert.equal(d.discovery('/apis/stable.example.com', undefined), undefined);
    assert.equal(d.discovery('/apis', KUBECTL_ACCEPT)?.etag, before?.etag);
  });

  test('kube version priority', () => {
    assert.deepEqual(['v1alpha1', 'v1beta1', 'foo', 'v2', 'v1', 'v1beta2', 'v10'].sort(compareKubeVersions), ['v10', 'v2', 'v1', 'v1beta2', 'v1beta1', 'v1alpha1', 'foo']);
  });
});

describe('Accept parsing', () => {
  test('orders by q and keeps parameters', () => {
    const r = parseAccept('application/json;q=0.5, application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList, */*;q=0');
    assert.deepEqual(r, [
      { mediaType: 'application/json', params: { g: 'apidiscovery.k8s.io', v: 'v2', as: 'APIGroupDiscoveryList' }, q: 1 },
      { mediaType: 'application/json', params: {}, q: 0.5 },
    ]);
    assert.equal(allowsJson(undefined), true);
    assert.equal(allowsJson('application/com.github.proto-openapi.spec.v2@v1.0+protobuf'), false);
    assert.equal(allowsJson('application/vnd.kubernetes.protobuf, */*'), true);
  });
});

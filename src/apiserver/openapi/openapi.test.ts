import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BUILTIN_RESOURCES, GROUP_ORDER, type ResourceInfo } from '../../api/catalog.js';
import { SCHEMA_EXTENSIONS } from '../../api/schema-extensions.js';
import { customResourceSchemas, customSchemaName, loadOpenAPI, schemaAt, type OpenAPIDocument, type SchemaObject } from './index.js';
import { groupVersionPath, COMPONENT_REF_PREFIX } from './types.js';

const api = loadOpenAPI();
const typesDir = new URL('../../../../node_modules/kubernetes-types/', import.meta.url);

function doc(path: string): OpenAPIDocument {
  const served = api.groupVersion(path);
  assert.ok(served, `no document for ${path}`);
  return JSON.parse(served.body.toString('utf8')) as OpenAPIDocument;
}

/** The doc comment kubernetes-types gives an interface, as the generator should have copied it. */
function declaredDoc(module: string, name: string): string {
  const text = readFileSync(new URL(`${module}.d.ts`, typesDir), 'utf8');
  const m = new RegExp(`/\\*\\* ([^\\n]*?) \\*/\\nexport interface ${name} \\{`).exec(text);
  assert.ok(m, `${name} not found in ${module}`);
  return m[1];
}

describe('component schemas', () => {
  test('Deployment has its doc comment as description and its group-version-kind', () => {
    const s = api.schema('io.k8s.api.apps.v1.Deployment');
    assert.ok(s);
    assert.equal(s.description, declaredDoc('apps/v1', 'Deployment'));
    assert.deepEqual(s['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
    assert.deepEqual(api.schema('io.k8s.api.apps.v1.DeploymentList')?.['x-kubernetes-group-version-kind'], [
      { group: 'apps', kind: 'DeploymentList', version: 'v1' },
    ]);
    assert.deepEqual(s.properties?.spec?.allOf, [{ $ref: COMPONENT_REF_PREFIX + 'io.k8s.api.apps.v1.DeploymentSpec' }]);
  });

  test('core kinds have group "" and required fields', () => {
    assert.deepEqual(api.schema('io.k8s.api.core.v1.Pod')?.['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
    assert.deepEqual(api.schema('io.k8s.api.core.v1.PodSpec')?.required, ['containers']);
    assert.equal(api.schema('io.k8s.api.core.v1.ContainerPort')?.properties?.protocol?.default, 'TCP');
  });

  test('PodSpec lists carry strategic-merge and list-map metadata', () => {
    const spec = api.schema('io.k8s.api.core.v1.PodSpec');
    const containers = spec?.properties?.containers;
    assert.equal(containers?.['x-kubernetes-patch-merge-key'], 'name');
    assert.equal(containers?.['x-kubernetes-patch-strategy'], 'merge');
    assert.deepEqual(containers?.['x-kubernetes-list-map-keys'], ['name']);
    assert.equal(spec?.properties?.volumes?.['x-kubernetes-patch-strategy'], 'merge,retainKeys');
    assert.equal(spec?.properties?.tolerations?.['x-kubernetes-list-type'], 'atomic');
    const ports = api.schema('io.k8s.api.core.v1.Container')?.properties?.ports;
    assert.equal(ports?.['x-kubernetes-patch-merge-key'], 'containerPort');
    assert.deepEqual(ports?.['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
    assert.equal(api.schema('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta')?.properties?.ownerReferences?.['x-kubernetes-patch-merge-key'], 'uid');
  });

  test('every entry of the extension table landed on its schema', () => {
    for (const [name, fields] of Object.entries(SCHEMA_EXTENSIONS)) {
      const s = api.schema(name);
      assert.ok(s, name);
      for (const [field, ext] of Object.entries(fields)) {
        const target: SchemaObject | undefined = field === '' ? s : s.properties?.[field];
        for (const [k, v] of Object.entries(ext ?? {})) assert.deepEqual((target as Record<string, unknown>)[k], v, `${name}.${field} ${k}`);
      }
    }
  });

  test('scalar wrappers: Time is a date-time string, Quantity and IntOrString are oneOf types', () => {
    assert.equal(api.schema('io.k8s.apimachinery.pkg.apis.meta.v1.Time')?.format, 'date-time');
    assert.deepEqual(api.schema('io.k8s.apimachinery.pkg.api.resource.Quantity')?.oneOf, [{ type: 'string' }, { type: 'number' }]);
    assert.equal(api.schema('io.k8s.apimachinery.pkg.util.intstr.IntOrString')?.format, 'int-or-string');
    const maxSurge = schemaAt(api, 'io.k8s.api.apps.v1.RollingUpdateDeployment', []);
    assert.deepEqual(maxSurge?.properties?.maxSurge?.allOf, [{ $ref: COMPONENT_REF_PREFIX + 'io.k8s.apimachinery.pkg.util.intstr.IntOrString' }]);
    assert.equal(api.schema('io.k8s.api.core.v1.PodSpec')?.properties?.activeDeadlineSeconds?.format, 'int64');
  });

  test('schemaNameFor maps served kinds, including foreign subresource kinds', () => {
    assert.equal(api.schemaNameFor('apps', 'v1', 'Deployment'), 'io.k8s.api.apps.v1.Deployment');
    assert.equal(api.schemaNameFor('autoscaling', 'v1', 'Scale'), 'io.k8s.api.autoscaling.v1.Scale');
    assert.equal(api.schemaNameFor('', 'v1', 'Event'), 'io.k8s.api.core.v1.Event');
    assert.equal(api.schemaNameFor('events.k8s.io', 'v1', 'Event'), 'io.k8s.api.events.v1.Event');
    assert.equal(api.schemaNameFor('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition'), 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition');
    assert.equal(api.schemaNameFor('apps', 'v1', 'Nope'), undefined);
  });
});

describe('group-version documents', () => {
  test('the root lists every group-version of the catalog with a hash-pinned URL', () => {
    const paths = api.root().paths;
    const expected = new Set(BUILTIN_RESOURCES.map((r) => groupVersionPath(r.group, r.version)));
    for (const g of GROUP_ORDER) for (const v of g.versions) expected.add(groupVersionPath(g.group, v));
    assert.deepEqual(Object.keys(paths).sort(), [...expected].sort());
    for (const [p, { serverRelativeURL }] of Object.entries(paths)) {
      assert.equal(serverRelativeURL, `/openapi/v3/${p}?hash=${api.groupVersion(p)?.etag}`);
      assert.match(serverRelativeURL, /\?hash=[0-9A-F]{128}$/);
    }
  });

  test('the deployments PATCH operation lists fieldValidation and names its kind', () => {
    const d = doc('apis/apps/v1');
    const patch = d.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
    assert.ok(patch);
    assert.equal(patch.operationId, 'patchAppsV1NamespacedDeployment');
    assert.equal(patch['x-kubernetes-action'], 'patch');
    assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: 'apps', version: 'v1', kind: 'Deployment' });
    const names = patch.parameters?.map((p) => p.name);
    for (const n of ['dryRun', 'fieldManager', 'fieldValidation', 'force']) assert.ok(names?.includes(n), n);
    assert.deepEqual(Object.keys(patch.requestBody?.content ?? {}).sort(), [
      'application/apply-patch+yaml',
      'application/json-patch+json',
      'application/merge-patch+json',
      'application/strategic-merge-patch+json',
    ]);
    const scale = d.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'];
    assert.equal(scale.get?.operationId, 'readAppsV1NamespacedDeploymentScale');
    assert.deepEqual(scale.put?.['x-kubernetes-group-version-kind'], { group: 'autoscaling', version: 'v1', kind: 'Scale' });
    assert.equal(d.paths['/apis/apps/v1/namespaces/{namespace}/deployments'].delete?.operationId, 'deleteAppsV1CollectionNamespacedDeployment');
    assert.equal(d.paths['/apis/apps/v1/deployments'].get?.operationId, 'listAppsV1DeploymentForAllNamespaces');
  });

  test('core operations: connect, log, cluster-scoped', () => {
    const d = doc('/openapi/v3/api/v1');
    assert.equal(d.paths['/api/v1/namespaces/{namespace}/pods/{name}/exec'].get?.operationId, 'connectCoreV1GetNamespacedPodExec');
    assert.equal(d.paths['/api/v1/namespaces/{namespace}/pods/{name}/exec'].post?.['x-kubernetes-action'], 'connect');
    assert.ok(d.paths['/api/v1/namespaces/{namespace}/pods/{name}/log'].get?.parameters?.some((p) => p.name === 'follow'));
    assert.equal(d.paths['/api/v1/nodes/{name}'].put?.operationId, 'replaceCoreV1Node');
    assert.equal(d.paths['/api/v1/namespaces/{namespace}/pods/{name}/eviction'].post?.operationId, 'createCoreV1NamespacedPodEviction');
    assert.ok(d.components.schemas['io.k8s.api.policy.v1.Eviction']);
  });

  test('every $ref of every document resolves inside that document', () => {
    for (const p of Object.keys(api.root().paths)) {
      const d = doc(p);
      const refs = JSON.stringify(d).match(/"#\/components\/schemas\/[^"]+"/g) ?? [];
      for (const r of new Set(refs)) assert.ok(d.components.schemas[r.slice(1, -1).slice(COMPONENT_REF_PREFIX.length)], `${p}: ${r}`);
    }
  });

  test('hash-pinned answers are cacheable; a stale hash redirects; If-None-Match gives 304', () => {
    const etag = api.groupVersion('apis/apps/v1')?.etag;
    const ok = api.respondV3('/openapi/v3/apis/apps/v1', new URLSearchParams({ hash: etag ?? '' }), { accept: 'application/json' });
    assert.equal(ok?.status, 200);
    assert.equal(ok?.headers['Cache-Control'], 'public, immutable');
    assert.equal(ok?.headers.ETag, `"${etag}"`);
    const stale = api.respondV3('/openapi/v3/apis/apps/v1', new URLSearchParams({ hash: 'ABC' }));
    assert.equal(stale?.status, 301);
    assert.equal(stale?.headers.Location, `/openapi/v3/apis/apps/v1?hash=${etag}`);
    const unpinned = api.respondV3('/openapi/v3/apis/apps/v1', new URLSearchParams());
    assert.equal(unpinned?.headers['Cache-Control'], undefined);
    assert.equal(api.respondV3('/openapi/v3/apis/apps/v1', new URLSearchParams(), { ifNoneMatch: `"${etag}"` })?.status, 304);
    const root = api.respondV3('/openapi/v3', new URLSearchParams());
    assert.deepEqual(JSON.parse(root?.body?.toString() ?? ''), api.root());
    assert.equal(api.respondV3('/openapi/v3/apis/nope/v1', new URLSearchParams()), undefined);
  });

  test('/openapi/v2 is JSON with definitions; a protobuf-only Accept is refused with 406', () => {
    const v2 = api.respondV2({ accept: 'application/json' });
    assert.equal(v2.status, 200);
    const body = JSON.parse(v2.body?.toString() ?? '') as { swagger: string; definitions: Record<string, SchemaObject> };
    assert.equal(body.swagger, '2.0');
    const deployment = body.definitions['io.k8s.api.apps.v1.Deployment'];
    assert.equal(deployment.properties?.spec?.$ref, '#/definitions/io.k8s.api.apps.v1.DeploymentSpec');
    assert.equal(body.definitions['io.k8s.apimachinery.pkg.api.resource.Quantity'].type, 'string');
    const refused = api.respondV2({ accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
    assert.equal(refused.status, 406);
    assert.equal(JSON.parse(refused.body?.toString() ?? '').reason, 'NotAcceptable');
  });

  test('loading is cheap: index first, documents on demand', () => {
    const t0 = performance.now();
    const fresh = loadOpenAPI();
    fresh.root();
    fresh.groupVersion('api/v1');
    assert.ok(performance.now() - t0 < 300, `took ${performance.now() - t0} ms`);
  });
});

describe('unknownFields', () => {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      labels: { anything: 'goes' },
      managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }],
    },
    spec: {
      foo: 1,
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'a', image: 'nginx' }, { name: 'b', image: 'nginx', bar: true, ports: [{ containerPort: 80, baz: 'x' }] }] },
      },
    },
  };

  test('reports top-level and nested list-item fields with upstream paths', () => {
    assert.deepEqual(api.unknownFields(deployment, 'io.k8s.api.apps.v1.Deployment'), [
      'unknown field "spec.foo"',
      'unknown field "spec.template.spec.containers[1].bar"',
      'unknown field "spec.template.spec.containers[1].ports[0].baz"',
    ]);
  });

  test('a clean object has none; map keys and managedFields contents are not fields', () => {
    const clean = structuredClone(deployment);
    api.pruneUnknownFields(clean, 'io.k8s.api.apps.v1.Deployment');
    assert.deepEqual(api.unknownFields(clean, 'io.k8s.api.apps.v1.Deployment'), []);
    assert.equal('foo' in clean.spec, false);
    assert.deepEqual(clean.metadata.labels, { anything: 'goes' });
    assert.deepEqual(api.unknownFields({ metadata: { nme: 'x' } }, 'io.k8s.api.core.v1.ConfigMap'), ['unknown field "metadata.nme"']);
    assert.deepEqual(api.unknownFields(JSON.parse('{"spec":{"constructor":1,"__proto__":2}}'), 'io.k8s.api.core.v1.Service'), [
      'unknown field "spec.constructor"',
      'unknown field "spec.__proto__"',
    ]);
  });
  test('scalars and nulls at known fields are no fields; unknown fields below maps of structs and in later list items are', () => {
    const pod = {
      metadata: { name: 'p', labels: null, annotations: { a: 'b' }, ownerReferences: [{ kind: 'X', name: 'o', uid: 'u', apiVersion: 'v1', extra: 1 }] },
      spec: {
        containers: [
          { name: 'a', image: null, args: ['x', 'y'], resources: { limits: { cpu: '1' } } },
          { name: 'b', env: [{ name: 'E', value: 'v' }, { name: 'F', valueFrom: { fieldRef: { fieldPath: 'x', oops: null } } }] },
        ],
        overhead: { cpu: '1' },
        nodeSelector: { zone: 'a' },
        extraScalar: 'x',
        extraNull: null,
      },
      status: { containerStatuses: [{ name: 'a', state: { running: { startedAt: 'now', since: 1 } } }] },
    };
    assert.deepEqual(api.unknownFields(pod, 'io.k8s.api.core.v1.Pod'), [
      'unknown field "metadata.ownerReferences[0].extra"',
      'unknown field "spec.containers[1].env[1].valueFrom.fieldRef.oops"',
      'unknown field "spec.extraScalar"',
      'unknown field "spec.extraNull"',
      'unknown field "status.containerStatuses[0].state.running.since"',
    ]);
  });
});

describe('fields kubernetes-types leaves out are still known', () => {
  test('a CRD using x-kubernetes-* schema extensions and a webhook rule with resources validate clean', () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'crontabs.stable.example.com' },
      spec: {
        group: 'stable.example.com',
        names: { kind: 'CronTab', plural: 'crontabs' },
        scope: 'Namespaced',
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                'x-kubernetes-preserve-unknown-fields': true,
                'x-kubernetes-validations': [{ rule: 'self.spec.a > 0' }],
                properties: { spec: { type: 'object', properties: { port: { 'x-kubernetes-int-or-string': true } } } },
              },
            },
          },
        ],
      },
    };
    assert.deepEqual(api.unknownFields(crd, 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition'), []);
    const webhook = { webhooks: [{ name: 'w', rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: '*' }] }] };
    assert.deepEqual(api.unknownFields(webhook, 'io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration'), []);
    const validations = api.schema('io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps')?.properties?.['x-kubernetes-validations'];
    assert.equal(validations?.['x-kubernetes-patch-merge-key'], 'rule');
  });
});

describe('custom resources', () => {
  test('addGroupVersion serves a document, maps kinds, and validates against the schema', () => {
    const local = loadOpenAPI();
    const group = 'stable.example.com';
    const name = customSchemaName(group, 'v1', 'CronTab');
    assert.equal(name, 'com.example.stable.v1.CronTab');
    const resource: ResourceInfo = {
      group,
      version: 'v1',
      kind: 'CronTab',
      resource: 'crontabs',
      singular: 'crontab',
      namespaced: true,
      shortNames: ['ct'],
      categories: [],
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      subresources: [],
    };
    local.addGroupVersion({
      group,
      version: 'v1',
      resources: [resource],
      schemas: customResourceSchemas(
        { group, version: 'v1', kind: 'CronTab', listKind: 'CronTabList' },
        {
          type: 'object',
          properties: {
            spec: {
              type: 'object',
              properties: {
                cronSpec: { type: 'string' },
                extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                template: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object', properties: {} } } },
              },
            },
          },
        },
      ),
    });
    assert.ok(local.root().paths['apis/stable.example.com/v1']);
    assert.equal(local.schemaNameFor(group, 'v1', 'CronTab'), name);
    const d = JSON.parse(local.groupVersion('apis/stable.example.com/v1')?.body.toString() ?? '') as OpenAPIDocument;
    const patch = d.paths['/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}'].patch;
    assert.ok(patch?.parameters?.some((p) => p.name === 'fieldValidation'));
    assert.equal(Object.keys(patch?.requestBody?.content ?? {}).includes('application/strategic-merge-patch+json'), false);
    assert.ok(d.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
    assert.equal(local.schemaNameFor(group, 'v1', 'CronTabList'), 'com.example.stable.v1.CronTabList');
    const obj = { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'a' }, spec: { cronSpec: '* * * * *', extra: { x: 1 }, nope: 1, template: { kind: 'Pod', metadata: { name: 'p', bogus: 1 }, other: 2 } } };
    assert.deepEqual(local.unknownFields(obj, name), ['unknown field "spec.nope"', 'unknown field "spec.template.metadata.bogus"', 'unknown field "spec.template.other"']);
    local.removeGroupVersion(group, 'v1');
    assert.equal(local.root().paths['apis/stable.example.com/v1'], undefined);
    assert.equal(local.schemaNameFor(group, 'v1', 'CronTab'), undefined);
  });
});

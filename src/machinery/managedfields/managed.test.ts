import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apply, trackUpdate, FieldSet } from './index.js';
import { ApiError } from '../errors.js';
import type { SchemaMap } from '../patch/schema.js';

// Fixture schemas shaped like upstream's apps/v1 and core/v1 OpenAPI v3 documents (trimmed to the fields used).
const ref = (name: string, extra: Record<string, unknown> = {}) => ({ allOf: [{ $ref: `#/components/schemas/${name}` }], ...extra });
const str = { type: 'string' as const };
const schemas: SchemaMap = {
  Deployment: {
    type: 'object',
    properties: { apiVersion: str, kind: str, metadata: ref('ObjectMeta', { default: {} }), spec: ref('DeploymentSpec', { default: {} }), status: ref('Status', { default: {} }) },
  },
  ObjectMeta: {
    type: 'object',
    properties: {
      name: str,
      namespace: str,
      uid: str,
      resourceVersion: str,
      generation: { type: 'integer' },
      creationTimestamp: str,
      labels: { type: 'object', additionalProperties: str },
      annotations: { type: 'object', additionalProperties: str },
      finalizers: { type: 'array', items: str, 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
      managedFields: { type: 'array', items: { type: 'object' }, 'x-kubernetes-list-type': 'atomic' },
    },
  },
  DeploymentSpec: {
    type: 'object',
    required: ['selector', 'template'],
    properties: {
      replicas: { type: 'integer' },
      selector: ref('LabelSelector'),
      template: ref('PodTemplateSpec', { default: {} }),
      strategy: ref('Strategy', { default: {} }),
    },
  },
  Strategy: { type: 'object', properties: { type: str, rollingUpdate: ref('RollingUpdate') } },
  RollingUpdate: { type: 'object', properties: { maxSurge: { 'x-kubernetes-int-or-string': true }, maxUnavailable: { 'x-kubernetes-int-or-string': true } } },
  LabelSelector: { type: 'object', properties: { matchLabels: { type: 'object', additionalProperties: str } }, 'x-kubernetes-map-type': 'atomic' },
  PodTemplateSpec: { type: 'object', properties: { metadata: ref('ObjectMeta', { default: {} }), spec: ref('PodSpec', { default: {} }) } },
  PodSpec: {
    type: 'object',
    required: ['containers'],
    properties: {
      containers: {
        type: 'array',
        items: ref('Container', { default: {} }),
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        'x-kubernetes-patch-merge-key': 'name',
        'x-kubernetes-patch-strategy': 'merge',
      },
      dnsPolicy: str,
    },
  },
  Container: {
    type: 'object',
    required: ['name'],
    properties: {
      name: str,
      image: str,
      args: { type: 'array', items: str, 'x-kubernetes-list-type': 'atomic' },
      ports: {
        type: 'array',
        items: ref('ContainerPort', { default: {} }),
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
        'x-kubernetes-patch-merge-key': 'containerPort',
        'x-kubernetes-patch-strategy': 'merge',
      },
      env: { type: 'array', items: ref('EnvVar', { default: {} }), 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' },
      resources: ref('Resources', { default: {} }),
    },
  },
  ContainerPort: { type: 'object', properties: { containerPort: { type: 'integer' }, protocol: { type: 'string', default: 'TCP' }, name: str } },
  EnvVar: { type: 'object', properties: { name: str, value: str } },
  Resources: { type: 'object', properties: { limits: { type: 'object', additionalProperties: str } } },
  Status: { type: 'object', properties: { replicas: { type: 'integer' } } },
};
const base = { schemas, rootSchema: 'Deployment', apiVersion: 'apps/v1' };
const T0 = '2024-05-01T10:00:00Z';
const T1 = '2024-05-01T11:00:00Z';

function deployment(replicas = 1, image = 'nginx:1') {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'nginx', image, ports: [{ containerPort: 80 }], resources: {} }] },
      },
    },
  };
}

function expectConflict(fn: () => unknown, message: string, causes: { message: string; field: string }[]) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.code, 409);
    assert.equal(e.reason, 'Conflict');
    assert.equal(e.status.message, message);
    assert.deepEqual(e.status.details?.causes, causes.map((c) => ({ reason: 'FieldManagerConflict', ...c })));
    return true;
  });
}

describe('FieldsV1 encoding', () => {
  test('members, "." for a path that is both, upstream key order', () => {
    const s = FieldSet.of(
      ['f:spec', 'f:containers', 'k:{"name":"b"}'],
      ['f:spec', 'f:containers', 'k:{"name":"b"}', 'f:image'],
      ['f:spec', 'f:containers', 'k:{"name":"a"}', 'f:name'],
      ['f:metadata', 'f:labels', 'f:z'],
      ['f:metadata', 'f:finalizers', 'v:"x"'],
      ['f:metadata', 'f:labels', 'f:a'],
    );
    const json = JSON.stringify(s.toFieldsV1());
    assert.equal(
      json,
      '{"f:metadata":{"f:finalizers":{"v:\\"x\\"":{}},"f:labels":{"f:a":{},"f:z":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"a\\"}":{"f:name":{}},"k:{\\"name\\":\\"b\\"}":{".":{},"f:image":{}}}}}',
    );
    assert.deepEqual(FieldSet.fromFieldsV1(JSON.parse(json))!.toFieldsV1(), s.toFieldsV1());
  });
  test('field names sort by code point, as Go compares UTF-8 bytes (not by UTF-16 unit)', () => {
    // U+1F600 is a surrogate pair in UTF-16 (0xD83D...), which JavaScript would sort before U+FFFD.
    const s = FieldSet.of(['f:\u{1F600}'], ['f:\uFFFD'], ['f:z'], ['f:\u00e9']);
    assert.deepEqual(Object.keys(s.toFieldsV1()), ['f:z', 'f:\u00e9', 'f:\uFFFD', 'f:\u{1F600}']);
  });
  test('keys are canonicalized with sorted fields', () => {
    const s = FieldSet.fromFieldsV1({ 'k:{"protocol":"TCP","containerPort":80}': {} })!;
    assert.deepEqual(Object.keys(s.toFieldsV1()), ['k:{"containerPort":80,"protocol":"TCP"}']);
  });
});

describe('trackUpdate', () => {
  test('create records every field, with "." where upstream puts it', () => {
    const entries = trackUpdate(undefined, deployment(), { ...base, manager: 'kubectl-create', now: T0 });
    assert.deepEqual(entries, [
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'apps/v1',
        time: T0,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"nginx"}': {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    'f:ports': { '.': {}, 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
                    'f:resources': {},
                  },
                },
              },
            },
          },
        },
      },
    ]);
  });

  test('a later edit moves the changed field to the editing manager', () => {
    const created = { ...deployment(), metadata: { ...deployment().metadata, managedFields: trackUpdate(undefined, deployment(), { ...base, manager: 'kubectl-create', now: T0 }) } };
    const edited = structuredClone(created);
    edited.spec.replicas = 5;
    const entries = trackUpdate(created, edited, { ...base, manager: 'kubectl-edit', now: T1 });
    assert.equal(entries.length, 2);
    assert.equal(entries[0].manager, 'kubectl-create');
    assert.equal(entries[0].time, T0, 'losing a field does not touch the time');
    assert.equal((entries[0].fieldsV1 as Record<string, Record<string, unknown>>)['f:spec']['f:replicas'], undefined);
    assert.deepEqual(entries[1], { manager: 'kubectl-edit', operation: 'Update', apiVersion: 'apps/v1', time: T1, fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } });
  });

  test('an update that changes nothing leaves entries untouched; status is not tracked on the main resource', () => {
    const created = { ...deployment(), metadata: { ...deployment().metadata, managedFields: trackUpdate(undefined, deployment(), { ...base, manager: 'kubectl-create', now: T0 }) } };
    const same = { ...structuredClone(created), status: { replicas: 3 } };
    assert.deepEqual(trackUpdate(created, same, { ...base, manager: 'kubectl-replace', now: T1 }), created.metadata.managedFields);
    const viaStatus = trackUpdate(created, same, { ...base, manager: 'controller', now: T1, subresource: 'status' });
    assert.deepEqual(viaStatus.at(-1), { manager: 'controller', operation: 'Update', apiVersion: 'apps/v1', time: T1, fieldsType: 'FieldsV1', fieldsV1: { 'f:status': { 'f:replicas': {} } }, subresource: 'status' });
  });

  test('a manager whose fields did not change keeps its stored FieldsV1; a changed one is encoded again', () => {
    const created = { ...deployment(), metadata: { ...deployment().metadata, managedFields: trackUpdate(undefined, deployment(), { ...base, manager: 'kubectl-create', now: T0 }) } };
    const labelled = structuredClone(created);
    (labelled.metadata.labels as Record<string, string>).tier = 'web';
    const v2 = { ...labelled, metadata: { ...labelled.metadata, managedFields: trackUpdate(created, labelled, { ...base, manager: 'kubectl-label', now: T1 }) } };
    // A client sends the object back as it read it: the untouched entries are the stored ones.
    const sent = structuredClone(v2);
    sent.spec.replicas = 3;
    const entries = trackUpdate(v2, sent, { ...base, manager: 'kubectl-scale', now: T1 });
    assert.deepEqual(entries.map((e) => e.manager), ['kubectl-create', 'kubectl-label', 'kubectl-scale']);
    assert.equal(entries[1].fieldsV1, sent.metadata.managedFields[1].fieldsV1, 'kubectl-label lost nothing: the FieldsV1 as sent (= stored)');
    assert.notEqual(entries[0].fieldsV1, v2.metadata.managedFields[0].fieldsV1, 'kubectl-create lost spec.replicas');
    assert.equal((entries[0].fieldsV1 as Record<string, Record<string, unknown>>)['f:spec']['f:replicas'], undefined);
  });

  test('FieldsV1 a client sends that differs from the stored one is written in canonical form', () => {
    const obj = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', labels: { a: '1', b: '2' } } };
    const v1 = { ...obj, metadata: { ...obj.metadata, managedFields: trackUpdate(undefined, obj, { ...base, manager: 'm', now: T0 }) } };
    const sent = structuredClone(v1);
    // Same fields, keys in another order (as a hand-edited manifest might have them).
    sent.metadata.managedFields[0].fieldsV1 = { 'f:metadata': { 'f:labels': { 'f:b': {}, 'f:a': {}, '.': {} } } };
    const entries = trackUpdate(v1, sent, { ...base, manager: 'other', now: T1 });
    assert.deepEqual(Object.keys((entries[0].fieldsV1 as Record<string, Record<string, Record<string, unknown>>>)['f:metadata']['f:labels']), ['.', 'f:a', 'f:b']);
  });

  test('removing a label removes it from its owner; an owner left empty disappears', () => {
    const obj = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', labels: { a: '1' } } };
    const v1 = { ...obj, metadata: { ...obj.metadata, managedFields: trackUpdate(undefined, obj, { ...base, manager: 'kubectl-label', now: T0 }) } };
    const v2 = structuredClone(v1);
    delete (v2.metadata as { labels?: unknown }).labels;
    assert.deepEqual(trackUpdate(v1, v2, { ...base, manager: 'kubectl-label', now: T1 }), []);
  });

  test('metadata system fields are never tracked', () => {
    const obj = { apiVersion: 'v1', kind: 'X', metadata: { name: 'n', namespace: 'd', uid: 'u', resourceVersion: '1', generation: 1, creationTimestamp: T0 } };
    assert.deepEqual(trackUpdate(undefined, obj, { ...base, manager: 'm', now: T0 }), []);
  });
});

describe('server-side apply', () => {
  const ssa = { ...base, manager: 'kubectl', force: false, now: T1 };

  test('create by apply: Apply entry, no "." on maps, object merged', () => {
    const out = apply(undefined, deployment(), ssa);
    const mf = (out.metadata as { managedFields: unknown[] }).managedFields;
    assert.deepEqual(mf, [
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: T1,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"nginx"}': {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
                    'f:resources': {},
                  },
                },
              },
            },
          },
        },
      },
    ]);
    const { metadata, ...rest } = out as { metadata: Record<string, unknown> };
    const { metadata: wantMeta, ...wantRest } = deployment();
    assert.deepEqual(rest, wantRest);
    assert.deepEqual({ ...metadata, managedFields: undefined }, { ...wantMeta, managedFields: undefined });
  });

  const csaLive = () => {
    const obj = deployment(1);
    return { ...obj, metadata: { ...obj.metadata, managedFields: trackUpdate(undefined, obj, { ...base, manager: 'kubectl-client-side-apply', now: T0 }) } };
  };

  test('conflict with another manager is 409 with upstream message and causes', () => {
    expectConflict(() => apply(csaLive(), deployment(3), ssa), 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas', [
      { message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' },
    ]);
  });

  test('several conflicts use the plural form', () => {
    expectConflict(
      () => apply(csaLive(), deployment(3, 'nginx:2'), ssa),
      'Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image',
      [
        { message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' },
        { message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.template.spec.containers[name="nginx"].image' },
      ],
    );
  });

  test('conflict with another applier names it without a version', () => {
    const first = apply(undefined, deployment(1), { ...ssa, manager: 'argo' });
    expectConflict(() => apply(first, deployment(2), ssa), 'Apply failed with 1 conflict: conflict with "argo": .spec.replicas', [{ message: 'conflict with "argo"', field: '.spec.replicas' }]);
  });

  test('applying the same value shares ownership without conflict', () => {
    const out = apply(csaLive(), deployment(1), ssa);
    const mf = (out.metadata as { managedFields: { manager: string; fieldsV1: Record<string, Record<string, unknown>> }[] }).managedFields;
    assert.deepEqual(mf.map((e) => e.manager), ['kubectl', 'kubectl-client-side-apply']);
    for (const e of mf) assert.deepEqual(e.fieldsV1['f:spec']['f:replicas'], {});
  });

  test('force takes ownership and changes the value', () => {
    const out = apply(csaLive(), deployment(3), { ...ssa, force: true }) as ReturnType<typeof deployment> & { metadata: { managedFields: { manager: string; fieldsV1: Record<string, Record<string, unknown>> }[] } };
    assert.equal(out.spec.replicas, 3);
    const [mine, theirs] = out.metadata.managedFields;
    assert.equal(mine.manager, 'kubectl');
    assert.deepEqual(mine.fieldsV1['f:spec']['f:replicas'], {});
    assert.equal(theirs.manager, 'kubectl-client-side-apply');
    assert.equal(theirs.fieldsV1['f:spec']['f:replicas'], undefined);
  });

  test('fields dropped from the applied config are removed', () => {
    const first = apply(undefined, { ...deployment(), metadata: { name: 'web', labels: { app: 'web', tier: 'fe' } } }, ssa);
    const second = apply(first, { ...deployment(), metadata: { name: 'web', labels: { app: 'web' } } }, { ...ssa, now: '2024-05-02T00:00:00Z' });
    assert.deepEqual((second.metadata as { labels: unknown }).labels, { app: 'web' });
    const dropContainerPort = deployment();
    dropContainerPort.spec.template.spec.containers[0].ports = [];
    delete (dropContainerPort.spec as { replicas?: number }).replicas;
    const third = apply(second, dropContainerPort, ssa) as ReturnType<typeof deployment>;
    assert.equal(third.spec.replicas, undefined);
    assert.equal(third.spec.template.spec.containers[0].ports, undefined);
  });

  test('a dropped field another manager also owns stays', () => {
    const first = apply(undefined, { ...deployment(), metadata: { name: 'web', labels: { app: 'web', tier: 'fe' } } }, ssa);
    const shared = apply(first, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { tier: 'fe' } } }, { ...ssa, manager: 'other' });
    const second = apply(shared, { ...deployment(), metadata: { name: 'web', labels: { app: 'web' } } }, ssa);
    assert.deepEqual((second.metadata as { labels: unknown }).labels, { app: 'web', tier: 'fe' });
  });

  test('map-list items merge by key in upstream order; fields of other managers survive', () => {
    const live = deployment();
    live.spec.template.spec.containers.push({ name: 'sidecar', image: 'busybox', ports: [], resources: {} });
    const withMf = { ...live, metadata: { ...live.metadata, managedFields: trackUpdate(undefined, live, { ...base, manager: 'kubectl-create', now: T0 }) } };
    const cfg = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { template: { spec: { containers: [{ name: 'logger', image: 'fluent' }, { name: 'nginx', args: ['-g'] }] } } },
    };
    const out = apply(withMf, cfg, ssa) as ReturnType<typeof deployment>;
    assert.deepEqual(
      out.spec.template.spec.containers.map((c) => c.name),
      ['logger', 'nginx', 'sidecar'],
    );
    assert.equal(out.spec.template.spec.containers[1].image, 'nginx:1');
    assert.deepEqual((out.spec.template.spec.containers[1] as { args?: string[] }).args, ['-g']);
  });

  test('fields of an object without managedFields belong to before-first-apply', () => {
    expectConflict(() => apply(deployment(1), deployment(2), ssa), 'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas', [
      { message: 'conflict with "before-first-apply" using apps/v1', field: '.spec.replicas' },
    ]);
    const out = apply(deployment(1), deployment(1), ssa) as { metadata: { managedFields: { manager: string }[] } };
    assert.deepEqual(out.metadata.managedFields.map((e) => e.manager), ['kubectl', 'before-first-apply']);
  });

  test('bad configurations are refused with upstream messages', () => {
    assert.throws(() => apply(undefined, { ...deployment(), apiVersion: 'apps/v1beta1' }, ssa), (e: unknown) => {
      assert.ok(e instanceof ApiError && e.code === 400);
      assert.equal(e.status.message, 'Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, expected: apps/v1');
      return true;
    });
    assert.throws(() => apply(undefined, { ...deployment(), metadata: { name: 'web', managedFields: [] } }, ssa), (e: unknown) => e instanceof ApiError && e.code === 400 && e.status.message === 'metadata.managedFields must be nil');
    const dup = deployment();
    dup.spec.template.spec.containers.push({ ...dup.spec.template.spec.containers[0] });
    assert.throws(() => apply(undefined, dup, ssa), (e: unknown) => e instanceof ApiError && e.code === 500 && /duplicate entries for key \[name="nginx"\]/.test(e.status.message ?? ''));
  });

  test('objects without a schema: maps are granular, lists atomic', () => {
    const cr = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 1, tags: ['a', 'b'] } };
    const opts = { schemas: {}, rootSchema: undefined, apiVersion: 'example.com/v1', manager: 'kubectl', force: false, now: T1 };
    const first = apply(undefined, cr, opts);
    const mf = (first.metadata as { managedFields: { fieldsV1: unknown }[] }).managedFields;
    // metadata.name and the metadata member itself are stripped; undeclared map keys are members ("." on spec).
    assert.deepEqual(mf[0].fieldsV1, { 'f:spec': { '.': {}, 'f:size': {}, 'f:tags': {} } });
    const second = apply(first, { ...cr, spec: { tags: ['c'] } }, opts) as typeof cr;
    assert.deepEqual(second.spec, { tags: ['c'] });
  });
});

describe('client-side apply interop and manager cap', () => {
  const LA = 'kubectl.kubernetes.io/last-applied-configuration';
  const csaApplied = () => {
    const obj = deployment(1);
    const withAnnotation = { ...obj, metadata: { ...obj.metadata, annotations: { [LA]: JSON.stringify(deployment(1)) + '\n' } } };
    return { ...withAnnotation, metadata: { ...withAnnotation.metadata, managedFields: trackUpdate(undefined, withAnnotation, { ...base, manager: 'kubectl-client-side-apply', now: T0 }) } };
  };

  test('kubectl server-side apply takes over fields recorded by client-side apply, and updates the annotation', () => {
    const out = apply(csaApplied(), deployment(3), { ...base, manager: 'kubectl', force: false, now: T1 }) as ReturnType<typeof deployment> & { metadata: { annotations: Record<string, string> } };
    assert.equal(out.spec.replicas, 3);
    const annotation = out.metadata.annotations[LA];
    assert.ok(annotation.endsWith('\n'));
    assert.equal(JSON.parse(annotation).spec.replicas, 3);
    assert.deepEqual(Object.keys(JSON.parse(annotation)), ['apiVersion', 'kind', 'metadata', 'spec'], 'keys sorted as encoding/json writes them');
  });

  test('other managers get no such pass', () => {
    assert.throws(() => apply(csaApplied(), deployment(3), { ...base, manager: 'helm', force: false, now: T1 }), (e: unknown) => e instanceof ApiError && e.code === 409);
  });

  test('a field changed since the last client-side apply still conflicts', () => {
    const live = csaApplied();
    live.spec.replicas = 7;
    live.metadata.managedFields = trackUpdate(csaApplied(), live, { ...base, manager: 'kubectl-scale', now: T1 });
    assert.throws(
      () => apply(live, deployment(3), { ...base, manager: 'kubectl', force: false, now: T1 }),
      (e: unknown) => e instanceof ApiError && e.status.message === 'Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1: .spec.replicas',
    );
  });

  test('more than ten Update managers fold the oldest into ancient-changes', () => {
    let obj: Record<string, unknown> & { metadata: Record<string, unknown> } = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', labels: {} as Record<string, string> } };
    for (let i = 0; i < 12; i++) {
      const next = structuredClone(obj);
      (next.metadata.labels as Record<string, string>)[`l${i}`] = 'v';
      next.metadata.managedFields = trackUpdate(obj, next, { ...base, manager: `m${String(i).padStart(2, '0')}`, now: new Date(Date.parse(T0) + i * 1000) });
      obj = next;
    }
    const entries = obj.metadata.managedFields as { manager: string; fieldsV1: { 'f:metadata': { 'f:labels': Record<string, unknown> } } }[];
    assert.equal(entries.length, 10);
    assert.equal(entries[0].manager, 'ancient-changes');
    // labels existed (empty) before the first update, so no manager owns the map itself.
    assert.deepEqual(Object.keys(entries[0].fieldsV1['f:metadata']['f:labels']), ['f:l0', 'f:l1', 'f:l2']);
    assert.deepEqual(entries.slice(1).map((e) => e.manager), ['m03', 'm04', 'm05', 'm06', 'm07', 'm08', 'm09', 'm10', 'm11']);
  });
});

test('FieldSet.isSubsetOf answers as difference(other).empty() and insert builds the same sets', () => {
  const pes = ['f:a', 'f:b', 'k:{"name":"x"}', 'v:"s"', 'i:0'];
  let seed = 1;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const randomSet = () => {
    const paths: string[][] = [];
    for (let n = Math.floor(next() * 6); n > 0; n--) paths.push(Array.from({ length: 1 + Math.floor(next() * 3) }, () => pes[Math.floor(next() * pes.length)]));
    return { set: FieldSet.of(...paths), paths };
  };
  let subsets = 0;
  for (let i = 0; i < 500; i++) {
    const a = randomSet();
    const b = randomSet();
    const u = a.set.union(b.set);
    for (const [x, y] of [[a.set, b.set], [a.set, u], [b.set, u], [u, a.set], [new FieldSet(), a.set], [a.set, a.set]] as const) {
      assert.equal(x.isSubsetOf(y), x.difference(y).empty());
      if (x.isSubsetOf(y)) subsets++;
    }
    for (const p of a.paths) assert.ok(a.set.has(p));
  }
  assert.ok(subsets > 1000 && subsets < 3000);
});

describe('trackUpdate on create: entries remembered per object shape', () => {
  // Variants of a deployment that differ in what names fields (map keys, list keys, set values, nulls, empty maps,
  // kinds of values) and in what does not (scalar values outside lists).
  const variants: Record<string, unknown>[] = [];
  const d = () => deployment();
  variants.push(d());
  variants.push({ ...d(), metadata: { ...d().metadata, name: 'other', namespace: 'x' } });
  variants.push({ ...d(), metadata: { ...d().metadata, labels: { tier: 'web' } } });
  variants.push({ ...d(), metadata: { ...d().metadata, labels: { app: 'web', tier: 'b' } } });
  variants.push({ ...d(), metadata: { ...d().metadata, labels: {} } });
  variants.push({ ...d(), metadata: { ...d().metadata, labels: null } });
  variants.push({ ...d(), metadata: { ...d().metadata, finalizers: ['a', 'b'] } });
  variants.push({ ...d(), metadata: { ...d().metadata, finalizers: ['b', 'c'] } });
  variants.push({ ...d(), metadata: { ...d().metadata, finalizers: [] } });
  variants.push({ ...d(), spec: { ...d().spec, replicas: 0 } });
  variants.push({ ...d(), spec: { ...d().spec, replicas: null } });
  variants.push({ ...d(), spec: { ...d().spec, replicas: '3' } });
  variants.push({ ...d(), spec: { ...d().spec, replicas: { a: 1 } } });
  variants.push({ ...d(), spec: { ...d().spec, replicas: [1] } });
  variants.push({ ...d(), spec: { ...d().spec, strategy: { rollingUpdate: { maxSurge: 1 } } } });
  variants.push({ ...d(), spec: { ...d().spec, strategy: { rollingUpdate: { maxSurge: '25%' } } } });
  variants.push({ ...d(), spec: { ...d().spec, strategy: {} } });
  variants.push({ ...d(), spec: { ...d().spec, selector: { matchLabels: { other: 'x' } } } });
  // selector is required: the zero object holds it as null, so a null selector is no change but a string is.
  variants.push({ ...d(), spec: { ...d().spec, selector: null } });
  variants.push({ ...d(), spec: { ...d().spec, selector: 'x' } });
  variants.push({ ...d(), spec: { ...d().spec, selector: {} } });
  const withContainers = (containers: unknown[]) => ({ ...d(), spec: { ...d().spec, template: { metadata: {}, spec: { containers } } } });
  variants.push(withContainers([{ name: 'a', image: 'i' }]));
  variants.push(withContainers([{ name: 'b', image: 'i' }]));
  variants.push(withContainers([{ name: 'a', image: 'j', args: ['x'] }]));
  variants.push(withContainers([{ name: 'a', ports: [{ containerPort: 80 }] }]));
  variants.push(withContainers([{ name: 'a', ports: [{ containerPort: 81, protocol: 'UDP' }] }]));
  variants.push(withContainers([{ name: 'a', ports: [{ containerPort: 80 }, { containerPort: 80 }] }]));
  variants.push(withContainers([{ name: 'a' }, { name: 'a' }]));
  variants.push(withContainers([{ name: 'a', env: [{ name: 'X', value: '1' }] }]));
  variants.push(withContainers([{ image: 'no-name' }]));
  variants.push(withContainers([{ name: 'a', ports: [{ protocol: 'TCP' }] }]));
  variants.push(withContainers([]));
  variants.push(withContainers(['not-a-map']));
  variants.push({ ...d(), status: { replicas: 3 } });
  variants.push({ ...d(), spec: { ...d().spec, unknownField: { x: 'y' } } });
  variants.push({ ...d(), metadata: { name: 'web' } });
  variants.push({ ...d(), metadata: { name: 'web', uid: 'u', resourceVersion: '5', generation: 3 } });
  variants.push({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: {} });
  // The same shapes with other scalar values outside lists: these are the ones answered from memory.
  const rescalar = (v: unknown): unknown => {
    if (Array.isArray(v)) return v;
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rescalar(x)]));
    if (typeof v === 'string') return `${v}-2`;
    if (typeof v === 'number') return v + 7;
    if (typeof v === 'boolean') return !v;
    return v;
  };
  const all = [...variants, ...variants.map((v) => rescalar(v) as Record<string, unknown>)];

  test('every create gets what a full comparison gives, in any order and for every subresource', () => {
    for (const subresource of [undefined, 'status', 'scale']) {
      const warm = { ...base, now: T0, manager: 'm', subresource };
      // Each is compared against a typer that has remembered nothing (its own copy of the schemas).
      const expected = all.map((o) => trackUpdate(undefined, structuredClone(o), { ...warm, schemas: { ...schemas } }));
      for (const order of [all.map((_, i) => i), all.map((_, i) => all.length - 1 - i), all.map((_, i) => (i * 7) % all.length)]) {
        const shared = { ...warm, schemas: { ...schemas } };
        for (const i of order) {
          const got = trackUpdate(undefined, structuredClone(all[i]), shared);
          assert.deepEqual(got, expected[i], `variant ${i} (subresource ${subresource ?? '-'})`);
          assert.equal(JSON.stringify(got), JSON.stringify(expected[i]), `variant ${i}: key order`);
        }
      }
    }
  });

  test('remembered entries are not shared between objects, and carry this call\'s manager, version and time', () => {
    const opts = { ...base, schemas: { ...schemas }, now: T0, manager: 'a' };
    const first = trackUpdate(undefined, deployment(), opts);
    const second = trackUpdate(undefined, deployment(3, 'nginx:2'), { ...opts, manager: 'b', apiVersion: 'apps/v1beta2', now: T1, subresource: 'status' });
    assert.equal(second.length, 1);
    assert.equal(second[0].manager, 'b');
    assert.equal(second[0].apiVersion, 'apps/v1beta2');
    assert.equal(second[0].time, T1);
    assert.equal(second[0].subresource, 'status');
    (second[0].fieldsV1 as Record<string, unknown>)['f:spec'] = 'changed';
    const third = trackUpdate(undefined, deployment(), opts);
    assert.deepEqual(third, first);
    assert.notEqual(third[0].fieldsV1, first[0].fieldsV1);
    // managedFields sent with a create are decoded as before.
    const sent = () => ({ ...deployment(), metadata: { ...deployment().metadata, managedFields: [...first, { manager: 'x', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:name': {} } } }] } });
    const cold = trackUpdate(undefined, sent(), { ...opts, schemas: { ...schemas }, manager: 'c', now: T1 });
    assert.deepEqual(trackUpdate(undefined, sent(), { ...opts, manager: 'c', now: T1 }), cold);
  });
});

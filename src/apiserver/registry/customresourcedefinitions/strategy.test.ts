import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const schema = { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { replicas: { type: 'integer' } } } } } };
const crd = (spec: Record<string, unknown> = {}, name = 'widgets.example.com'): KubeObject => {
  const o: KubeObject = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', kind: 'Widget' },
      versions: [{ name: 'v1', served: true, storage: true, schema }],
      ...spec,
    },
  };
  Strategy.defaults!(o);
  return o;
};
const created = (spec: Record<string, unknown> = {}, name?: string): KubeObject => {
  const o = crd(spec, name);
  Strategy.prepareForCreate!(o);
  return o;
};
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);
const v = (spec: Record<string, unknown>, name?: string) => summary(Strategy.validate(created(spec, name)));

describe('customresourcedefinitions strategy', () => {
  test('defaults singular, listKind and conversion strategy None', () => {
    const spec = crd().spec as Record<string, Record<string, unknown>>;
    assert.equal(spec.names.singular, 'widget');
    assert.equal(spec.names.listKind, 'WidgetList');
    assert.deepEqual(spec.conversion, { strategy: 'None' });
  });

  test('create resets status and records the storage version', () => {
    const o = crd();
    o.status = { acceptedNames: { plural: 'x', kind: 'X' }, conditions: [{ type: 'Established', status: 'True' }], storedVersions: ['v0'] };
    Strategy.prepareForCreate!(o);
    assert.deepEqual(o.status, { acceptedNames: { kind: '', plural: '' }, storedVersions: ['v1'] });
    assert.deepEqual(Strategy.validate(o), []);
  });

  test('update appends a new storage version to storedVersions', () => {
    const old = created();
    const next = crd({ versions: [{ name: 'v1', served: true, storage: false, schema }, { name: 'v2', served: true, storage: true, schema }] });
    next.status = structuredClone(old.status);
    Strategy.prepareForUpdate!(next, old);
    assert.deepEqual((next.status as { storedVersions: string[] }).storedVersions, ['v1', 'v2']);
    assert.deepEqual(Strategy.validate(next), []);
  });

  test('name must be <plural>.<group>', () => {
    assert.deepEqual(v({}, 'widgets.other.com'), ['FieldValueInvalid metadata.name: must be spec.names.plural+"."+spec.group']);
  });

  test('group, scope and names (upstream cases)', () => {
    assert.deepEqual(v({ group: 'example', names: { plural: 'widgets', kind: 'Widget' } }, 'widgets.example'), [
      'FieldValueInvalid spec.group: should be a domain with at least one dot',
    ]);
    assert.deepEqual(v({ scope: 'Global' }), ['FieldValueNotSupported spec.scope: supported values: "Cluster", "Namespaced"']);
    assert.deepEqual(v({ scope: '' }), ['FieldValueRequired spec.scope: ']);
    const nameErrs = Strategy.validate(created({ names: { plural: 'widgets', kind: 'Widget', listKind: 'Widget', shortNames: ['W_1'] } }));
    assert.deepEqual(
      nameErrs.map((e) => `${e.type} ${e.field}`),
      ['FieldValueInvalid spec.names.shortNames[0]', 'FieldValueInvalid spec.names.listKind'],
    );
    assert.equal(nameErrs[1].detail, 'kind and listKind may not be the same');
    assert.deepEqual(v({ names: { plural: 'widgets' } }), ['FieldValueRequired spec.names.singular: ', 'FieldValueRequired spec.names.kind: ', 'FieldValueRequired spec.names.listKind: ']);
  });

  test('versions: exactly one storage version, unique names, schemas required', () => {
    const two = (a: boolean, b: boolean) => [
      { name: 'v1', served: true, storage: a, schema },
      { name: 'v2', served: true, storage: b, schema },
    ];
    // Only the first storage version is recorded, so upstream also reports the second as missing from storedVersions.
    assert.deepEqual(v({ versions: two(true, true) }), [
      'FieldValueInvalid spec.versions: must have exactly one version marked as storage version',
      'FieldValueInvalid status.storedVersions: must have the storage version v2',
    ]);
    const none = summary(Strategy.validate(crd({ versions: two(false, false) })));
    assert.deepEqual(none, ['FieldValueInvalid spec.versions: must have exactly one version marked as storage version']);
    assert.deepEqual(v({ versions: [{ name: 'v1', served: true, storage: true, schema }, { name: 'v1', served: false, storage: false, schema }] }), [
      'FieldValueInvalid spec.versions: must contain unique version names',
    ]);
    assert.deepEqual(v({ versions: [{ name: 'v1', served: true, storage: true }] }), ['FieldValueRequired spec.versions[0].schema.openAPIV3Schema: schemas are required']);
    assert.equal(v({ versions: [{ name: 'V1', served: true, storage: true, schema }] })[0].split(':')[0], 'FieldValueInvalid spec.versions[0].name');
  });

  test('structural schema basics', () => {
    const withSchema = (s: unknown) => v({ versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: s } }] });
    assert.deepEqual(withSchema({}), ['FieldValueRequired spec.versions[0].schema.openAPIV3Schema.type: must not be empty at the root']);
    assert.deepEqual(withSchema({ type: 'string' }), ['FieldValueInvalid spec.versions[0].schema.openAPIV3Schema.type: must be object at the root']);
    assert.deepEqual(withSchema({ type: 'object', properties: { spec: {}, any: { 'x-kubernetes-preserve-unknown-fields': true }, port: { 'x-kubernetes-int-or-string': true } } }), [
      'FieldValueRequired spec.versions[0].schema.openAPIV3Schema.properties[spec].type: must not be empty for specified object fields',
    ]);
    assert.deepEqual(withSchema({ type: 'object', properties: { list: { type: 'array', items: {} }, other: { type: 'array' } } }), [
      'FieldValueRequired spec.versions[0].schema.openAPIV3Schema.properties[list].items.type: must not be empty for specified array items',
      'FieldValueRequired spec.versions[0].schema.openAPIV3Schema.properties[other].items: must be specified',
    ]);
  });

  test('conversion', () => {
    assert.deepEqual(v({ conversion: { strategy: 'Magic' } }), ['FieldValueNotSupported spec.conversion.strategy: supported values: "None", "Webhook"']);
    assert.deepEqual(v({ conversion: { strategy: 'Webhook' } }), [
      'FieldValueRequired spec.conversion.webhookClientConfig: required when strategy is set to Webhook',
      'FieldValueRequired spec.conversion.conversionReviewVersions: must specify one of v1, v1beta1',
    ]);
    const hook = { strategy: 'Webhook', webhook: { clientConfig: { service: { name: 's', namespace: 'n' } }, conversionReviewVersions: ['v1'] } };
    const o = created({ conversion: hook });
    assert.deepEqual(Strategy.validate(o), []);
    assert.equal((o.spec as { conversion: typeof hook & { webhook: { clientConfig: { service: { port: number } } } } }).conversion.webhook.clientConfig.service.port, 443);
    assert.deepEqual(v({ conversion: { ...hook, webhook: { ...hook.webhook, clientConfig: { url: 'http://x.example.com' } } } }), [
      "FieldValueInvalid spec.conversion.webhookClientConfig.url: 'https' is the only allowed URL scheme; desired format: https://host[/path]",
    ]);
    assert.deepEqual(v({ conversion: { strategy: 'None', webhook: { clientConfig: { url: 'https://x' } } } }), [
      'FieldValueForbidden spec.conversion.webhookClientConfig: should not be set when strategy is not set to Webhook',
    ]);
  });

  test('group and plural are immutable; scope and kind once established', () => {
    const old = created();
    assert.deepEqual(Strategy.validateUpdate!(created({ scope: 'Cluster' }), old), []);
    assert.deepEqual(summary(Strategy.validateUpdate!(created({ group: 'other.com', names: { plural: 'gadgets', kind: 'Widget' } }), old)), [
      'FieldValueInvalid spec.group: field is immutable',
      'FieldValueInvalid spec.names.plural: field is immutable',
    ]);
    (old.status as { conditions: unknown[] }).conditions = [{ type: 'Established', status: 'True' }];
    assert.deepEqual(summary(Strategy.validateUpdate!(created({ scope: 'Cluster', names: { plural: 'widgets', kind: 'Gizmo' } }), old)), [
      'FieldValueInvalid spec.scope: field is immutable',
      'FieldValueInvalid spec.names.kind: field is immutable',
    ]);
  });

  test('status updates keep storedVersions consistent', () => {
    const o = created();
    (o.status as { storedVersions: string[] }).storedVersions = ['v0'];
    assert.deepEqual(summary(Strategy.validateStatusUpdate!(o, o)), [
      'FieldValueInvalid status.storedVersions: must have the storage version v1',
      'FieldValueInvalid status.storedVersions[0]: must appear in spec.versions',
    ]);
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Event as CoreEvent } from 'kubernetes-types/core/v1.js';
import type { Event as EventsV1Event } from 'kubernetes-types/events/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { eventsV1ToCoreEvent } from './convert.js';
import { Strategy, validateEventCreate, validateEventUpdate } from './strategy.js';

const ev = (fields: Record<string, unknown>): KubeObject => ({
  apiVersion: 'events.k8s.io/v1',
  kind: 'Event',
  metadata: { name: 'e', namespace: 'default' },
  eventTime: '2024-05-01T10:00:00.000000Z',
  reportingController: 'k8s.io/kubelet',
  reportingInstance: 'node-1',
  action: 'Pulling',
  reason: 'Pulling',
  regarding: { kind: 'Pod', namespace: 'default', name: 'p' },
  type: 'Normal',
  ...fields,
});
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);

describe('events.k8s.io events strategy', () => {
  test('accepts a well-formed new-style event', () => {
    assert.deepEqual(Strategy.validate(ev({})), []);
    assert.deepEqual(Strategy.validate(ev({ series: { count: 2, lastObservedTime: '2024-05-01T10:01:00.000000Z' } })), []);
  });

  test('strict create rules (upstream cases)', () => {
    assert.deepEqual(
      summary(Strategy.validate(ev({ eventTime: undefined, type: 'Bad', deprecatedCount: 3, deprecatedSource: { component: 'x' }, deprecatedFirstTimestamp: '2024-01-01T00:00:00Z' }))),
      [
        'FieldValueRequired eventTime: ',
        'FieldValueInvalid type: has invalid value: Bad',
        'FieldValueInvalid deprecatedFirstTimestamp: needs to be unset',
        'FieldValueInvalid deprecatedCount: needs to be unset',
        'FieldValueInvalid deprecatedSource: needs to be unset',
      ],
    );
    assert.deepEqual(summary(Strategy.validate(ev({ series: { count: 1 } }))), [
      'FieldValueInvalid series.count: should be at least 2',
      'FieldValueRequired series.lastObservedTime: ',
    ]);
  });

  test('new-style events need reporting fields and short strings', () => {
    const missing = Strategy.validate(ev({ reportingController: '', reportingInstance: '', action: '', reason: '' }));
    assert.deepEqual(
      missing.filter((e) => e.type === 'FieldValueRequired').map((e) => e.field),
      ['reportingController', 'reportingInstance', 'action', 'reason'],
    );
    // An empty controller is also not a qualified name, as upstream reports.
    assert.ok(missing.some((e) => e.type === 'FieldValueInvalid' && e.field === 'reportingController'));
    assert.deepEqual(summary(Strategy.validate(ev({ action: 'a'.repeat(129), note: 'n'.repeat(1025) }))), [
      'FieldValueInvalid action: can have at most 128 characters',
      'FieldValueInvalid note: can have at most 1024 characters',
    ]);
    assert.deepEqual(summary(Strategy.validate(ev({ metadata: { name: 'e', namespace: 'other' }, regarding: { kind: 'Node', name: 'n' } }))), [
      'FieldValueInvalid involvedObject.namespace: does not match event.namespace',
    ]);
  });

  test('core/v1 keeps the lenient legacy rules and names reportingComponent', () => {
    const legacy: CoreEvent = { metadata: { name: 'e', namespace: 'ns1' }, involvedObject: { kind: 'Pod', namespace: 'ns1', name: 'p' }, reason: 'X', count: 4 };
    assert.deepEqual(validateEventCreate(legacy, 'v1'), []);
    assert.deepEqual(summary(validateEventCreate({ ...legacy, involvedObject: { namespace: 'other' } }, 'v1')), [
      'FieldValueInvalid involvedObject.namespace: does not match event.namespace',
    ]);
    const newStyle: CoreEvent = { ...legacy, eventTime: '2024-05-01T10:00:00.000000Z', reportingInstance: 'i', action: 'a' };
    assert.deepEqual(
      [...new Set(validateEventCreate(newStyle, 'v1').map((e) => e.field))],
      ['reportingComponent'],
    );
    assert.equal(validateEventCreate(newStyle, 'v1')[0]?.type, 'FieldValueRequired');
  });

  test('updates may change series but nothing else', () => {
    const old = ev({});
    assert.deepEqual(Strategy.validateUpdate!(ev({ series: { count: 2, lastObservedTime: '2024-05-01T10:01:00.000000Z' } }), old), []);
    // Sub-microsecond differences are tolerated.
    assert.deepEqual(Strategy.validateUpdate!(ev({ eventTime: '2024-05-01T10:00:00.0000004Z' }), old), []);
    assert.deepEqual(summary(Strategy.validateUpdate!(ev({ note: 'changed', reason: 'Other', eventTime: '2024-05-01T10:00:01.000000Z', reportingInstance: 'node-2' }), old)), [
      'FieldValueInvalid reason: field is immutable',
      'FieldValueInvalid message: field is immutable',
      'FieldValueInvalid eventTime: field is immutable',
      'FieldValueInvalid reportingInstance: field is immutable',
    ]);
    const coreOld = eventsV1ToCoreEvent(old as unknown as EventsV1Event);
    assert.deepEqual(validateEventUpdate({ ...coreOld, reason: 'changed' }, coreOld, 'v1'), []);
    assert.deepEqual(summary(validateEventUpdate({ ...coreOld, reason: 'changed' }, coreOld, 'events.k8s.io/v1')), ['FieldValueInvalid reason: field is immutable']);
  });

  test('selectable fields follow upstream', () => {
    const f = Strategy.selectableFields!(ev({}));
    assert.equal(f['involvedObject.kind'], 'Pod');
    assert.equal(f['involvedObject.name'], 'p');
    assert.equal(f.reason, 'Pulling');
    assert.equal(f.reportingComponent, 'k8s.io/kubelet');
    assert.equal(f.type, 'Normal');
    assert.equal(f.source, '');
  });
});

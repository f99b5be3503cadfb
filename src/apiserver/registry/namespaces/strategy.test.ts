import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { Strategy } from './strategy.js';

const brief = (errs: FieldError[]): string[] => errs.map((e) => `${e.type} ${e.field}`);
const ns = (body: Record<string, unknown> = {}, name = 'team-a'): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name }, ...body });

describe('namespaces', () => {
  test('create: name label, kubernetes finalizer, Active phase', () => {
    const o = ns({ spec: { finalizers: ['example.com/x'] } });
    Strategy.defaults!(o);
    Strategy.prepareForCreate!(o);
    assert.deepEqual(o.metadata.labels, { 'kubernetes.io/metadata.name': 'team-a' });
    assert.deepEqual(o.spec, { finalizers: ['example.com/x', 'kubernetes'] });
    assert.deepEqual(o.status, { phase: 'Active' });
    assert.deepEqual(Strategy.validate(o), []);
  });
  test('names are DNS labels', () => {
    assert.deepEqual(Strategy.validateName!('team-a'), []);
    assert.equal(Strategy.validateName!('a.b').length, 1);
  });
  test('finalizers must be qualified or standard', () => {
    assert.deepEqual(brief(Strategy.validate(ns({ spec: { finalizers: ['custom'] } }))), ['FieldValueInvalid spec.finalizers[0]']);
  });
  test('spec.finalizers cannot change through update', () => {
    const old = ns({ spec: { finalizers: ['kubernetes'] } });
    const next = ns({ spec: { finalizers: [] } });
    Strategy.prepareForUpdate!(next, old);
    assert.deepEqual(next.spec, { finalizers: ['kubernetes'] });
  });
  test('status phase follows deletion', () => {
    const next = ns({ status: { phase: 'Terminating' } });
    assert.deepEqual(brief(Strategy.validateStatusUpdate!(next, ns())), ['FieldValueInvalid status.Phase']);
    next.metadata.deletionTimestamp = '2024-01-01T00:00:00Z';
    assert.deepEqual(Strategy.validateStatusUpdate!(next, ns()), []);
  });
  test('field selector', () => {
    assert.deepEqual(Strategy.selectableFields!(ns({ status: { phase: 'Active' } })), { 'status.phase': 'Active' });
  });
});

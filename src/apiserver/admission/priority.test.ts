// Priority admission: priorityClassName resolved to priority and preemptionPolicy, the globalDefault class, system
// classes, and upstream's refusals.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import type { KubeObject } from '../../api/object.js';
import { PriorityAdmission } from './priority.js';
import type { AdmissionAttributes } from './types.js';

const pod = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [], ...spec } });
const attrs = (object: KubeObject, operation: AdmissionAttributes['operation'] = 'CREATE'): AdmissionAttributes => ({
  operation,
  group: '',
  version: 'v1',
  resource: 'pods',
  subresource: '',
  kind: 'Pod',
  namespace: 'default',
  name: 'p',
  object,
  user: { name: 'u', groups: [] },
  dryRun: false,
});
const admission = (classes: PriorityClass[]) => new PriorityAdmission(async () => classes);
const spec = (o: KubeObject) => o.spec as { priority?: number; preemptionPolicy?: string; priorityClassName?: string };

describe('Priority admission', () => {
  test('a named class sets priority and preemptionPolicy', async () => {
    const o = pod({ priorityClassName: 'high' });
    await admission([{ metadata: { name: 'high' }, value: 1000, preemptionPolicy: 'Never' }]).admit(attrs(o));
    assert.deepEqual([spec(o).priority, spec(o).preemptionPolicy], [1000, 'Never']);
  });

  test('no class: the lowest globalDefault class, else 0 and PreemptLowerPriority', async () => {
    const o = pod({});
    await admission([]).admit(attrs(o));
    assert.deepEqual([spec(o).priority, spec(o).preemptionPolicy, spec(o).priorityClassName], [0, 'PreemptLowerPriority', undefined]);
    const d = pod({});
    await admission([
      { metadata: { name: 'a' }, value: 50, globalDefault: true },
      { metadata: { name: 'b' }, value: 10, globalDefault: true },
    ]).admit(attrs(d));
    assert.deepEqual([spec(d).priority, spec(d).priorityClassName], [10, 'b']);
  });

  test('system classes resolve without being stored', async () => {
    const o = pod({ priorityClassName: 'system-node-critical' });
    await admission([]).admit(attrs(o));
    assert.equal(spec(o).priority, 2_000_001_000);
  });

  test('unknown classes and conflicting values are forbidden; updates are left alone', async () => {
    await assert.rejects(admission([]).admit(attrs(pod({ priorityClassName: 'nope' }))), /pods "p" is forbidden: no PriorityClass with name nope was found/);
    await assert.rejects(
      admission([{ metadata: { name: 'high' }, value: 1000 }]).admit(attrs(pod({ priorityClassName: 'high', priority: 5 }))),
      /the integer value of priority \(5\) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name/,
    );
    const u = pod({ priorityClassName: 'nope' });
    await admission([]).admit(attrs(u, 'UPDATE'));
    assert.equal(spec(u).priority, undefined);
  });
});

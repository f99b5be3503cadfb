import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/object.js';
import { BUILTIN_RESOURCES } from '../../api/catalog.js';
import { coreStrategies } from './core-strategies.js';
import { strategyKey } from './strategy.js';

/** Bodies of the wrong shape at every level a strategy reads. */
const GARBAGE: unknown[] = [
  undefined,
  null,
  'text',
  42,
  [],
  [1, 'x', null],
  { spec: 'x', status: 7, template: [], data: 'y' },
  {
    spec: {
      containers: [null, 'c', { name: 5, image: {}, ports: 'p', env: [{ valueFrom: 'x' }], resources: { limits: 'x', requests: { cpu: {} } } }],
      volumes: [{ name: 'v', secret: 'x' }, 'v'],
      template: { metadata: 'm', spec: { containers: {} } },
      selector: 'sel',
      strategy: { type: 'RollingUpdate', rollingUpdate: 'x' },
      updateStrategy: 5,
      ports: [{ port: 'x', targetPort: {} }, null],
      jobTemplate: { spec: { template: 9 } },
      schedule: 12,
      limits: [null, { type: 'Container', max: 'x' }],
      hard: { pods: {} },
      accessModes: 'RWO',
      resources: { requests: { storage: [] } },
      capacity: 'x',
      taints: [{}],
      finalizers: 'k',
    },
    status: { capacity: { cpu: {} }, containerStatuses: 'x', podIPs: [null], loadBalancer: { ingress: ['x'] } },
    subsets: [null, { addresses: 'x', ports: [{}] }],
    involvedObject: 'x',
    target: 1,
  },
];

describe('coreStrategies', () => {
  test('covers every core/v1, apps/v1 and batch/v1 resource of the catalog', () => {
    const expected = BUILTIN_RESOURCES.filter((r) => ['', 'apps', 'batch'].includes(r.group)).map((r) => strategyKey(r.group, r.resource));
    assert.deepEqual([...coreStrategies.keys()].sort(), [...new Set(expected)].sort());
  });

  test('malformed bodies yield field errors, never exceptions', () => {
    for (const [key, strategy] of coreStrategies) {
      for (const body of GARBAGE) {
        const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? body : { spec: body };
        const make = (): KubeObject => ({ apiVersion: 'v1', kind: 'X', metadata: { name: 'n', namespace: 'default', uid: 'u' }, ...structuredClone(fields) });
        const obj = make();
        const old = make();
        assert.doesNotThrow(() => {
          strategy.defaults?.(obj);
          strategy.prepareForCreate?.(obj);
          strategy.validate(obj);
          strategy.prepareForUpdate?.(obj, old);
          strategy.validateUpdate?.(obj, old);
          strategy.validateStatusUpdate?.(obj, old);
          strategy.selectableFields?.(obj);
          strategy.validate(make());
          strategy.validateUpdate?.(make(), make());
        }, `${key} with ${JSON.stringify(body)}`);
      }
    }
  });
});

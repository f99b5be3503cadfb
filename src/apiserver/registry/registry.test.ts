import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openMemoryStorage } from '../../storage/memory/memory.js';
import { ApiError } from '../../machinery/errors.js';
import { Registry } from './registry.js';
import { builtinConverters } from './converters.js';

const ctx = { user: { name: 'tester', groups: [] }, dryRun: false };

test('events expire after the event TTL; other kinds do not', async () => {
  const storage = openMemoryStorage({ ttlCheckIntervalMs: 50 });
  try {
    const registry = new Registry({ storage, strategies: new Map(), converters: builtinConverters, eventTTLSeconds: 1 });
    const events = registry.store('', 'events');
    const configmaps = registry.store('', 'configmaps');
    await events.create('default', { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e1' }, involvedObject: {}, reason: 'X' }, ctx);
    await configmaps.create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1' } }, ctx);
    assert.equal((await events.get('default', 'e1')).metadata.name, 'e1');
    await new Promise((r) => setTimeout(r, 1600));
    await assert.rejects(events.get('default', 'e1'), (err: unknown) => err instanceof ApiError && err.code === 404);
    assert.equal((await configmaps.get('default', 'c1')).metadata.name, 'c1');
  } finally {
    await storage.close();
  }
});

test('autoscaling/v1 and v2 share one stored collection through the converter', async () => {
  const storage = openMemoryStorage();
  try {
    const registry = new Registry({ storage, strategies: new Map(), converters: builtinConverters });
    const v1 = registry.resolve('autoscaling', 'v1', 'horizontalpodautoscalers')!;
    const v2 = registry.resolve('autoscaling', 'v2', 'horizontalpodautoscalers')!;
    assert.equal(v1.store, v2.store);
    assert.ok(v1.converter);
    assert.equal(v2.converter, undefined);
    const stored = v1.converter!.toStored({
      apiVersion: 'autoscaling/v1',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'h' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 3, targetCPUUtilizationPercentage: 50 },
    });
    assert.equal(stored.apiVersion, 'autoscaling/v2');
    const created = await v2.store.create('default', stored, ctx);
    const back = v1.converter!.fromStored(created);
    assert.equal(back.apiVersion, 'autoscaling/v1');
    assert.equal((back.spec as { targetCPUUtilizationPercentage: number }).targetCPUUtilizationPercentage, 50);
  } finally {
    await storage.close();
  }
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_RESOURCES } from '../../api/catalog.js';
import { coreStrategies } from './core-strategies.js';
import { strategyKey } from './strategy.js';

describe('coreStrategies', () => {
  test('covers every core/v1, apps/v1 and batch/v1 resource of the catalog', () => {
    const expected = BUILTIN_RESOURCES.filter((r) => ['', 'apps', 'batch'].includes(r.group)).map((r) => strategyKey(r.group, r.resource));
    assert.deepEqual([...coreStrategies.keys()].sort(), [...new Set(expected)].sort());
  });
});

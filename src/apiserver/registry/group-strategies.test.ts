import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_RESOURCES } from '../../api/catalog.js';
import { groupStrategies } from './group-strategies.js';
import { strategyKey } from './strategy.js';

const OTHER_TEAMS = new Set(['', 'apps', 'batch']);

describe('groupStrategies', () => {
  test('covers every built-in resource outside core/apps/batch', () => {
    const expected = new Set(BUILTIN_RESOURCES.filter((r) => !OTHER_TEAMS.has(r.group)).map((r) => strategyKey(r.group, r.resource)));
    assert.deepEqual([...groupStrategies.keys()].sort(), [...expected].sort());
  });
  test('every strategy validates', () => {
    for (const [key, s] of groupStrategies) assert.equal(typeof s.validate, 'function', key);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from './cycle-state.js';

test('activeFilterPlugins leaves out the plugins PreFilter skipped, and follows later skips', () => {
  const all = [{ name: 'A' }, { name: 'B' }, { name: 'C' }];
  const state = new CycleState();
  assert.equal(state.activeFilterPlugins(all), all, 'nothing skipped: the list itself');
  state.skipFilterPlugins.add('B');
  assert.deepEqual(state.activeFilterPlugins(all).map((p) => p.name), ['A', 'C']);
  assert.equal(state.activeFilterPlugins(all), state.activeFilterPlugins(all), 'worked out once per skip set');
  state.skipFilterPlugins.add('A');
  assert.deepEqual(state.activeFilterPlugins(all).map((p) => p.name), ['C']);
  const other = [{ name: 'A' }, { name: 'D' }];
  assert.deepEqual(state.activeFilterPlugins(other).map((p) => p.name), ['D'], 'another plugin list is not answered from the memo');
  // A clone for nominated pods re-runs PreFilter and may skip more; the original keeps its own answer.
  const copy = state.clone();
  copy.skipFilterPlugins.add('C');
  assert.deepEqual(copy.activeFilterPlugins(all).map((p) => p.name), []);
  assert.deepEqual(state.activeFilterPlugins(all).map((p) => p.name), ['C']);
});

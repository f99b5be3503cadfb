// Golden-file tests of the default stages: for each pod in testdata/pods.yaml, the stage that matches, its delay and
// the status it writes are compared with testdata/golden/<case>.json (UPDATE_GOLDEN=1 rewrites them). Plus the
// expression language and stage-list validation.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parse as parseYaml } from 'yaml';
import { evalExpr, parseDuration, render, type Scope } from './expr.js';
import { podScope } from './simulator.js';
import { defaultStages, firstMatch, mergeInto, parseStages, stageDelay, withVars } from './stages.js';

const TESTDATA = fileURLToPath(new URL('../../../../src/kubelet/simulated/testdata/', import.meta.url));
const NOW = Date.parse('2026-01-02T03:04:05Z');

interface Case {
  name: string;
  pod: Pod;
}

function outcome(pod: Pod): unknown {
  const scope = podScope(pod, { now: () => new Date(NOW), nodeName: 'sim-node-0', hostIP: '127.1.2.3', podIP: () => '198.18.7.2' });
  const stage = firstMatch(defaultStages(), pod, scope);
  if (!stage) return { stage: null };
  // Jitter picks the middle of its range.
  const delayMs = stageDelay(stage.delay, scope, NOW, () => 0.5);
  const vars = withVars(stage, scope);
  const status = stage.next.statusTemplate === undefined ? undefined : render(stage.next.statusTemplate, vars);
  return {
    stage: stage.name,
    delayMs,
    ...(stage.next.delete ? { delete: true } : {}),
    ...(status !== undefined ? { status, statusAfter: mergeInto(pod.status, status) } : {}),
  };
}

describe('default stages (golden files)', () => {
  const cases = parseYaml(readFileSync(`${TESTDATA}pods.yaml`, 'utf8')) as Case[];
  for (const c of cases) {
    test(c.name, () => {
      const got = JSON.stringify(outcome(c.pod), null, 2) + '\n';
      const file = `${TESTDATA}golden/${c.name}.json`;
      if (process.env.UPDATE_GOLDEN) writeFileSync(file, got);
      assert.equal(got, readFileSync(file, 'utf8'));
    });
  }
});

describe('stage expressions', () => {
  const scope = (root: unknown): Scope => ({
    root,
    vars: new Map<string, unknown>([['x', 3]]),
    funcs: { default: (d, v) => (v === undefined || v === '' ? d : v), int: (v) => parseInt(String(v), 10), eq: (a, b) => String(a) === String(b), up: (s) => String(s).toUpperCase() },
  });
  const pod = { metadata: { annotations: { 'skiff.dev/a': '7' } }, status: { conditions: [{ type: 'Ready', status: 'True' }], list: [1, 2] } };

  test('paths: fields, quoted keys, indexes, field=value selection', () => {
    assert.equal(evalExpr('.metadata.annotations["skiff.dev/a"]', scope(pod)), '7');
    assert.equal(evalExpr('.status.conditions[type=Ready].status', scope(pod)), 'True');
    assert.equal(evalExpr('.status.conditions[type=Nope].status', scope(pod)), undefined);
    assert.equal(evalExpr('.status.list[1]', scope(pod)), 2);
    assert.equal(evalExpr('.missing.deeper', scope(pod)), undefined);
    assert.equal(evalExpr('$x', scope(pod)), 3);
  });

  test('calls, pipes and parentheses', () => {
    assert.equal(evalExpr('.metadata.annotations["nope"] | default "0" | int', scope(pod)), 0);
    assert.equal(evalExpr('.metadata.annotations["skiff.dev/a"] | int', scope(pod)), 7);
    assert.equal(evalExpr('eq (int "3") $x', scope(pod)), true);
    assert.equal(evalExpr('up "a"', scope(pod)), 'A');
    assert.throws(() => evalExpr('nope 1', scope(pod)), /unknown function nope/);
    assert.throws(() => evalExpr('.a[', scope(pod)), /expression/);
  });

  test('templates: whole values keep their type, text interpolates, $forEach and $if expand', () => {
    const t = {
      n: '{{ $x }}',
      s: 'x={{ $x }}!',
      dropped: '{{ .missing }}',
      list: { $forEach: '.status.conditions', $template: { t: '{{ $item.type }}', i: '{{ $index }}' } },
      none: { $forEach: '.missing', $template: {} },
      pick: { $if: 'eq $x 3', $then: 'yes', $else: 'no' },
    };
    assert.deepEqual(render(t, scope(pod)), { n: 3, s: 'x=3!', list: [{ t: 'Ready', i: 0 }], pick: 'yes' });
  });

  test('durations as Go writes them', () => {
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('1500'), 1500);
    assert.equal(parseDuration('soon'), undefined);
  });

  test('delays: fixed, from an expression (duration or timestamp), jitter as an upper bound', () => {
    const s = scope({ metadata: { deletionTimestamp: '2026-01-02T03:04:15Z', annotations: { d: '2s' } } });
    assert.equal(stageDelay({ durationMilliseconds: 100 }, s, NOW, () => 0), 100);
    assert.equal(stageDelay({ durationFrom: { expressionFrom: '.metadata.annotations["d"]' } }, s, NOW, () => 0), 2000);
    assert.equal(stageDelay({ durationFrom: { expressionFrom: '.metadata.deletionTimestamp' } }, s, NOW, () => 0), 10_000);
    assert.equal(stageDelay({ durationMilliseconds: 500, durationFrom: { expressionFrom: '.nope' } }, s, NOW, () => 0), 500);
    assert.equal(stageDelay({ durationMilliseconds: 1000, jitterDurationMilliseconds: 3000 }, s, NOW, () => 0.5), 2000);
    assert.equal(stageDelay({ durationFrom: { expressionFrom: '"2020-01-01T00:00:00Z"' } }, s, NOW, () => 0), 0);
  });

  test('stage lists are validated', () => {
    assert.throws(() => parseStages({ items: [{ name: 'a', resource: 'Pod' }] }), /next is required/);
    assert.throws(() => parseStages([{ name: 'a', resource: 'Node', next: {} }]), /resource must be Pod/);
    assert.throws(() => parseStages([{ name: 'a', resource: 'Pod', next: {} }, { name: 'a', resource: 'Pod', next: {} }]), /duplicate name/);
    assert.throws(
      () => parseStages([{ name: 'a', resource: 'Pod', next: {}, selector: { matchExpressions: [{ key: '.x', operator: 'Gt' }] } }]),
      /unknown operator/,
    );
    assert.equal(parseStages([{ name: 'a', resource: 'Pod', next: { delete: true } }]).length, 1);
  });
});

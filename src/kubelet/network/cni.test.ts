import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cniConflist, ensureMasquerade, removeMasquerade } from './cni.js';

const rulesOf = (bridge: string) =>
  execFileSync('iptables', ['-w', '-t', 'nat', '-S', 'POSTROUTING'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(`skiff-masquerade:${bridge}`));

test('the bridge plugin does not masquerade per pod: one node rule does, kept to the current pod CIDR', async () => {
  const conf = cniConflist({ agentDir: '/tmp/x', podCIDR: '198.18.7.0/24', bridge: 'skiffabc' }) as { plugins: { type: string; ipMasq?: boolean }[] };
  assert.equal(conf.plugins.find((p) => p.type === 'bridge')?.ipMasq, false);

  const bridge = `skifftest${process.pid % 100000}`;
  try {
    await ensureMasquerade('198.18.7.0/24', bridge);
    await ensureMasquerade('198.18.7.0/24', bridge);
    let rules = rulesOf(bridge);
    assert.equal(rules.length, 1);
    assert.match(rules[0]!, /-s 198\.18\.7\.0\/24 ! -d 198\.18\.7\.0\/24 .*-j MASQUERADE/);
    // A new pod CIDR replaces the rule.
    await ensureMasquerade('198.18.8.0/24', bridge);
    rules = rulesOf(bridge);
    assert.equal(rules.length, 1);
    assert.match(rules[0]!, /-s 198\.18\.8\.0\/24 /);
    await removeMasquerade(bridge);
    assert.deepEqual(rulesOf(bridge), []);
  } finally {
    await removeMasquerade(bridge);
  }
});

// PodDisruptionBudgets in the real `skiff server` with the real kubectl: the disruption controller fills in the status
// (kubectl get pdb shows ALLOWED DISRUPTIONS), an eviction beyond the budget is refused with 429 and upstream's
// message (also what `kubectl drain` reports), and loosening the budget lets one eviction through.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer, eventually } from './harness.js';

async function ok(srv: TestServer, args: string[], stdin?: string): Promise<string> {
  const r = await srv.kubectl(args, { stdin });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}\n${srv.logs().slice(-3000)}`);
  return r.stdout;
}

describe('PodDisruptionBudget with kubectl', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ args: ['--simulated-nodes', '2', '--simulated-zones', '0'] });
  });
  after(async () => {
    await srv?.stop();
  });

  test('status, 429 beyond the budget, drain blocked, one eviction allowed after loosening', async () => {
    await ok(srv, ['create', 'deployment', 'web', '--image=busybox', '--replicas=3']);
    await ok(srv, ['create', 'poddisruptionbudget', 'web', '--selector=app=web', '--min-available=3']);
    await eventually('3 ready replicas', async () => (await ok(srv, ['get', 'deployment', 'web', '-o', 'jsonpath={.status.readyReplicas}'])).trim() === '3', 60_000);
    const status = async () => (await ok(srv, ['get', 'pdb', 'web', '-o', 'jsonpath={.status.expectedPods}/{.status.desiredHealthy}/{.status.currentHealthy}/{.status.disruptionsAllowed}/{.status.observedGeneration}'])).trim();
    await eventually('pdb status', async () => (await status()) === '3/3/3/0/1', 30_000, () => status.toString());
    const table = await ok(srv, ['get', 'pdb', 'web']);
    assert.match(table, /NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE/);
    assert.match(table, /web\s+3\s+N\/A\s+0\s+/);
    const cond = await ok(srv, ['get', 'pdb', 'web', '-o', 'jsonpath={.status.conditions[?(@.type=="DisruptionAllowed")].reason}']);
    assert.equal(cond.trim(), 'InsufficientPods');

    const pod = (await ok(srv, ['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
    const eviction = JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: 'default' } });
    const refused = await srv.kubectl(['create', '--raw', `/api/v1/namespaces/default/pods/${pod}/eviction`, '-f', '-'], { stdin: eviction });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Error from server \(TooManyRequests\): Cannot evict pod as it would violate the pod's disruption budget\./);

    const node = (await ok(srv, ['get', 'pod', pod, '-o', 'jsonpath={.spec.nodeName}'])).trim();
    const drain = await srv.kubectl(['drain', node, '--ignore-daemonsets', '--timeout=3s'], { timeoutMs: 30_000 });
    assert.notEqual(drain.code, 0);
    assert.match(drain.stdout + drain.stderr, /Cannot evict pod as it would violate the pod's disruption budget/);
    await ok(srv, ['uncordon', node]);

    await ok(srv, ['patch', 'pdb', 'web', '--type=merge', '-p', '{"spec":{"minAvailable":2}}']);
    await eventually('one disruption allowed', async () => (await status()) === '3/2/3/1/2', 30_000);
    assert.equal((await ok(srv, ['get', 'pdb', 'web', '-o', 'jsonpath={.status.conditions[?(@.type=="DisruptionAllowed")].reason}'])).trim(), 'SufficientPods');
    await ok(srv, ['create', '--raw', `/api/v1/namespaces/default/pods/${pod}/eviction`, '-f', '-'], eviction);
    const evicted = await srv.kubectl(['get', 'pod', pod, '-o', 'jsonpath={.metadata.deletionTimestamp}']);
    assert.ok(evicted.code !== 0 || evicted.stdout.trim() !== '', 'the evicted pod is being deleted');
    // The replacement becomes ready and the budget allows one disruption again.
    await eventually('budget restored', async () => (await status()) === '3/2/3/1/2', 60_000);
  });
});

// Deployments inside the real `skiff server`, driven by the real kubectl: rollout status, set image (availability
// watched with `kubectl get -w`), rollout history / undo / pause / resume / restart, scale, a replaced pod, and an
// exceeded progress deadline. No node runs pods yet, so a stand-in kubelet here marks pods Running and Ready through
// the status subresource.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { KUBECTL, startTestServer, type TestServer, eventually, waitForServiceAccount } from './harness.js';
import { RestClient, type ResourceClient } from '../../src/client/index.js';

async function ok(srv: TestServer, args: string[], stdin?: string): Promise<string> {
  const r = await srv.kubectl(args, { ...(stdin === undefined ? {} : { stdin }), timeoutMs: 90_000 });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}\n${srv.logs().slice(-3000)}`);
  return r.stdout;
}

/** A stand-in kubelet for some namespaces: every pod there becomes Running and Ready soon after it appears. */
function readyMaker(pods: ResourceClient<Pod>, namespaces: Set<string>): { stop: () => Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const ns of namespaces) {
        const list = await pods.list({ namespace: ns }).catch(() => ({ items: [] as Pod[] }));
        for (const p of list.items) {
          if (p.metadata?.deletionTimestamp || p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
          const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
          const status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] };
          await pods.patch(p.metadata!.name!, { status }, { namespace: ns, type: 'merge', subresource: 'status' }).catch(() => undefined);
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

describe('Deployment controller in skiff server (kubectl)', () => {
  let srv: TestServer;
  let client: RestClient;
  let kubelet: { stop: () => Promise<void> };
  const readyNamespaces = new Set(['deploy-e2e', 'deploy-ops', 'deploy-gc']);

  before(async () => {
    srv = await startTestServer();
    client = await RestClient.fromKubeconfig(srv.kubeconfig);
    kubelet = readyMaker(client.resource<Pod>({ group: '', version: 'v1', resource: 'pods' }), readyNamespaces);
    for (const ns of [...readyNamespaces, 'deploy-stuck']) await ok(srv, ['create', 'namespace', ns]);
    for (const ns of [...readyNamespaces, 'deploy-stuck']) await waitForServiceAccount(srv, ns);
  });
  after(async () => {
    await kubelet?.stop();
    client?.close();
    await srv?.stop();
  });

  const rsRevisions = async (ns: string, selector: string) =>
    (await ok(srv, ['get', 'rs', '-n', ns, '-l', selector, '-o', 'jsonpath={range .items[*]}{.metadata.annotations.deployment\\.kubernetes\\.io/revision}={.spec.replicas}={.spec.template.spec.containers[0].image}{"\\n"}{end}']))
      .split('\n')
      .filter(Boolean)
      .sort();

  test('rollout status, set image within maxUnavailable, history, undo', async () => {
    const ns = 'deploy-e2e';
    await ok(srv, ['create', 'deployment', 'web', '-n', ns, '--image=nginx:1', '--replicas=4']);
    const status = await ok(srv, ['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s']);
    assert.match(status, /deployment "web" successfully rolled out/);
    const hash = (await ok(srv, ['get', 'rs', '-n', ns, '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.labels.pod-template-hash}'])).trim();
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal((await ok(srv, ['get', 'rs', '-n', ns, '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).trim(), `web-${hash}`);
    assert.match(await ok(srv, ['get', 'deployment', 'web', '-n', ns, '--no-headers']), /^web\s+4\/4\s+4\s+4\s+/);

    // Watch availability while revision 2 rolls out: 4 replicas at 25%/25% may lose at most one.
    const watcher = spawn(KUBECTL, ['--kubeconfig', srv.kubeconfig, 'get', 'deployment', 'web', '-n', ns, '-w', '-o', 'jsonpath={.status.availableReplicas}{"\\n"}'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let watched = '';
    watcher.stdout.on('data', (d: Buffer) => (watched += d.toString()));
    await eventually('watch started', () => watched.includes('\n'), 10_000);
    await ok(srv, ['set', 'image', 'deployment/web', '-n', ns, 'nginx=nginx:2']);
    await ok(srv, ['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s']);
    await eventually('watch saw the end state', () => watched.trim().split('\n').at(-1) === '4', 10_000);
    watcher.kill();
    const seen = watched.trim().split('\n').map((l) => Number(l || 0));
    assert.ok(seen.length > 2, `watch events: ${watched}`);
    assert.ok(Math.min(...seen) >= 3, `available dropped below 3: ${seen.join(',')}`);
    assert.deepEqual(await rsRevisions(ns, 'app=web'), ['1=0=nginx:1', '2=4=nginx:2']);
    assert.equal((await ok(srv, ['get', 'deployment', 'web', '-n', ns, '-o', 'jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}'])).trim(), '2');

    const history = await ok(srv, ['rollout', 'history', 'deployment/web', '-n', ns]);
    assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    assert.match(await ok(srv, ['rollout', 'history', 'deployment/web', '-n', ns, '--revision=1']), /Image:\s+nginx:1/);

    assert.match(await ok(srv, ['rollout', 'undo', 'deployment/web', '-n', ns]), /deployment.apps\/web rolled back/);
    await ok(srv, ['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s']);
    assert.equal((await ok(srv, ['get', 'deployment', 'web', '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).trim(), 'nginx:1');
    // The first template's ReplicaSet is reused and becomes revision 3, remembering it was 1.
    assert.deepEqual(await rsRevisions(ns, 'app=web'), ['2=0=nginx:2', '3=4=nginx:1']);
    assert.equal((await ok(srv, ['get', 'rs', `web-${hash}`, '-n', ns, '-o', 'jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision-history}'])).trim(), '1');

    await ok(srv, ['rollout', 'undo', 'deployment/web', '-n', ns, '--to-revision=2']);
    await ok(srv, ['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s']);
    assert.equal((await ok(srv, ['get', 'deployment', 'web', '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).trim(), 'nginx:2');
    assert.deepEqual(await rsRevisions(ns, 'app=web'), ['3=0=nginx:1', '4=4=nginx:2']);

    const events = await ok(srv, ['get', 'events', '-n', ns, '--field-selector', 'involvedObject.kind=Deployment', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']);
    assert.match(events, new RegExp(`ScalingReplicaSet: Scaled up replica set web-${hash} to 4\\n`));
    assert.match(events, /ScalingReplicaSet: Scaled down replica set web-\w+ to \d from \d/);
  });

  test('scale, a deleted pod replaced, pause and resume, restart', async () => {
    const ns = 'deploy-ops';
    await ok(srv, ['create', 'deployment', 'app', '-n', ns, '--image=busybox:1', '--replicas=2']);
    await ok(srv, ['rollout', 'status', 'deployment/app', '-n', ns, '--timeout=60s']);
    await ok(srv, ['scale', 'deployment', 'app', '-n', ns, '--replicas=5']);
    await ok(srv, ['rollout', 'status', 'deployment/app', '-n', ns, '--timeout=60s']);
    const podNames = async () =>
      (await ok(srv, ['get', 'pods', '-n', ns, '-l', 'app=app', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.metadata.deletionTimestamp}{"\\n"}{end}']))
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.includes(' '));
    assert.equal((await podNames()).length, 5);
    const victim = (await podNames())[0]!;
    await ok(srv, ['delete', 'pod', victim, '-n', ns]);
    await eventually('replaced', async () => {
      const now = await podNames();
      return now.length === 5 && !now.includes(victim);
    });

    await ok(srv, ['rollout', 'pause', 'deployment/app', '-n', ns]);
    await ok(srv, ['set', 'image', 'deployment/app', '-n', ns, 'busybox=busybox:2']);
    await eventually('paused condition', async () => (await ok(srv, ['get', 'deployment', 'app', '-n', ns, '-o', 'jsonpath={.status.conditions[?(@.type=="Progressing")].reason}'])).trim() === 'DeploymentPaused');
    assert.equal((await rsRevisions(ns, 'app=app')).length, 1, 'no rollout while paused');
    await ok(srv, ['rollout', 'resume', 'deployment/app', '-n', ns]);
    await ok(srv, ['rollout', 'status', 'deployment/app', '-n', ns, '--timeout=60s']);
    assert.deepEqual(await rsRevisions(ns, 'app=app'), ['1=0=busybox:1', '2=5=busybox:2']);

    await ok(srv, ['rollout', 'restart', 'deployment/app', '-n', ns]);
    assert.notEqual((await ok(srv, ['get', 'deployment', 'app', '-n', ns, '-o', 'jsonpath={.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}'])).trim(), '');
    await ok(srv, ['rollout', 'status', 'deployment/app', '-n', ns, '--timeout=60s']);
    assert.deepEqual(await rsRevisions(ns, 'app=app'), ['1=0=busybox:1', '2=0=busybox:2', '3=5=busybox:2']);
  });

  test('kubectl delete collects the ReplicaSets and pods; --cascade=orphan leaves them', async () => {
    const ns = 'deploy-gc';
    const count = async (kind: string, selector: string) =>
      (await ok(srv, ['get', kind, '-n', ns, '-l', selector, '-o', 'jsonpath={range .items[*]}{.metadata.name} {.metadata.deletionTimestamp}{"\\n"}{end}']))
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.includes(' ')).length;
    for (const name of ['gone', 'kept']) {
      await ok(srv, ['create', 'deployment', name, '-n', ns, '--image=busybox', '--replicas=2']);
      await ok(srv, ['set', 'image', `deployment/${name}`, '-n', ns, 'busybox=busybox:2']);
      await ok(srv, ['rollout', 'status', `deployment/${name}`, '-n', ns, '--timeout=60s']);
    }
    assert.equal(await count('rs', 'app=gone'), 2);
    assert.equal(await count('pods', 'app=gone'), 2);

    await ok(srv, ['delete', 'deployment', 'gone', '-n', ns]);
    await eventually('ReplicaSets and pods collected', async () => (await count('rs', 'app=gone')) === 0 && (await count('pods', 'app=gone')) === 0);

    await ok(srv, ['delete', 'deployment', 'kept', '-n', ns, '--cascade=orphan']);
    await eventually('deployment gone', async () => (await srv.kubectl(['get', 'deployment', 'kept', '-n', ns])).code !== 0);
    await eventually('ReplicaSets orphaned', async () => {
      const owners = await ok(srv, ['get', 'rs', '-n', ns, '-l', 'app=kept', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.metadata.ownerReferences}{"\\n"}{end}']);
      const lines = owners.split('\n').filter(Boolean);
      return lines.length === 2 && lines.every((l) => l.endsWith('='));
    });
    assert.equal(await count('pods', 'app=kept'), 2, 'the pods stay, still owned by their ReplicaSet');
  });

  test('pods that never become ready exceed the progress deadline', async () => {
    const ns = 'deploy-stuck';
    await ok(srv, ['create', 'deployment', 'stuck', '-n', ns, '--image=busybox', '--replicas=1']);
    await ok(srv, ['patch', 'deployment', 'stuck', '-n', ns, '--type=merge', '-p', '{"spec":{"progressDeadlineSeconds":2}}']);
    const r = await srv.kubectl(['rollout', 'status', 'deployment/stuck', '-n', ns, '--timeout=60s'], { timeoutMs: 70_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /deployment "stuck" exceeded its progress deadline/);
    const cond = (await ok(srv, ['get', 'deployment', 'stuck', '-n', ns, '-o', 'jsonpath={.status.conditions[?(@.type=="Progressing")].status}/{.status.conditions[?(@.type=="Progressing")].reason}'])).trim();
    assert.equal(cond, 'False/ProgressDeadlineExceeded');
  });
});

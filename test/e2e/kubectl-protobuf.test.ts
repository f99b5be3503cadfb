// kubectl 1.32 and 1.33 send protobuf bodies for `create namespace|configmap|deployment|rolebinding`; run them
// directly (the /usr/bin/kubectl dispatcher would pick the client matching the server's minor) and check that the
// objects arrive exactly as their JSON twins would.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type TestServer, waitForServiceAccount } from './harness.js';

const CLIENTS = ['1.32', '1.33'].map((v) => `/usr/lib/google-cloud-sdk/bin/kubectl.${v}`).filter((f) => existsSync(f));

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server?.stop());

function kubectl(bin: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(bin, ['--kubeconfig', server.kubeconfig, '--cache-dir', join(server.dataDir, `cache-${bin.split('.').slice(-2).join('.')}`), ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

test('the protobuf-speaking clients are installed', () => {
  assert.ok(CLIENTS.length > 0, 'kubectl 1.32 or 1.33 under /usr/lib/google-cloud-sdk/bin');
});

for (const bin of CLIENTS) {
  const v = bin.split('.').slice(-2).join('');
  describe(`kubectl ${bin.split('kubectl.')[1]}`, () => {
    const ns = `pb${v}`;
    const ok = async (args: string[]) => {
      const r = await kubectl(bin, args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const getJson = async (args: string[]) => JSON.parse(await ok([...args, '-o', 'json'])) as Record<string, Record<string, unknown>>;

    test('create namespace, configmap, deployment and rolebinding', async () => {
      await ok(['create', 'namespace', ns]);
      await waitForServiceAccount(server, ns);
      assert.equal((await getJson(['get', 'namespace', ns])).status.phase, 'Active');

      await ok(['create', 'configmap', 'cm', '-n', ns, '--from-literal', 'greeting=hello', '--from-literal', 'empty=']);
      assert.deepEqual((await getJson(['get', 'configmap', 'cm', '-n', ns])).data, { greeting: 'hello', empty: '' });

      await ok(['create', 'deployment', 'web', '-n', ns, '--image', 'busybox', '--replicas', '0', '--port', '8080']);
      const d = await getJson(['get', 'deployment', 'web', '-n', ns]);
      const spec = d.spec as { replicas: number; selector: unknown; template: { spec: { containers: { name: string; image: string; ports: unknown }[] } } };
      assert.equal(spec.replicas, 0, 'replicas 0 is sent and kept');
      assert.deepEqual(spec.selector, { matchLabels: { app: 'web' } });
      assert.deepEqual(spec.template.spec.containers.map((c) => [c.name, c.image, c.ports]), [['busybox', 'busybox', [{ containerPort: 8080, protocol: 'TCP' }]]]);
      assert.match(String(d.metadata.creationTimestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'set by the server');

      await ok(['create', 'rolebinding', 'viewers', '-n', ns, '--clusterrole', 'view', '--user', 'alice', '--group', 'devs']);
      const rb = await getJson(['get', 'rolebinding', 'viewers', '-n', ns]);
      assert.deepEqual(rb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' });
      assert.deepEqual(
        (rb.subjects as unknown as { kind: string; name: string }[]).map((s) => `${s.kind}/${s.name}`),
        ['User/alice', 'Group/devs'],
      );
    });

    test('validation still applies to protobuf bodies', async () => {
      const r = await kubectl(bin, ['create', 'configmap', 'Bad_Name', '-n', ns]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /ConfigMap "Bad_Name" is invalid/);
    });
  });
}

// The legacy ServiceAccount token cleaner end to end with the real kubectl: `skiff server --kube-controller-manager-arg
// legacy-service-account-token-clean-up-period=1s`, the API server's tracking date moved back (as if it had tracked
// legacy token use for years), an auto-generated token Secret (listed in its ServiceAccount's secrets) last used long
// ago: the cleaner's pass at start labels it kubernetes.io/legacy-token-invalid-since=<today> and its token stops
// authenticating; with that date in the past too, the next pass deletes it. A recently used token is kept. The
// cleaner passes once at start and then daily (upstream's interval), so each step restarts the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { startTestServer, type TestServer, eventually, waitForServiceAccount } from './harness.js';

async function ok(srv: TestServer, args: string[], stdin?: string): Promise<string> {
  const r = await srv.kubectl(args, stdin === undefined ? {} : { stdin });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}\n${srv.logs().slice(-2000)}`);
  return r.stdout;
}

test('an unused legacy token Secret is invalidated, then deleted; a used one stays', { timeout: 300_000 }, async () => {
  const srv = await startTestServer({ args: ['--kube-controller-manager-arg', 'legacy-service-account-token-clean-up-period=1s'] });
  const logs = () => srv.logs().slice(-3000);
  try {
    await waitForServiceAccount(srv, 'default');
    const today = new Date().toISOString().slice(0, 10);
    assert.equal(
      (await ok(srv, ['get', 'configmap', '-n', 'kube-system', 'kube-apiserver-legacy-service-account-token-tracking', '-o', 'jsonpath={.data.since}'])).trim(),
      today,
      'the API server records since when it tracks legacy token use',
    );
    await ok(srv, ['patch', 'configmap', '-n', 'kube-system', 'kube-apiserver-legacy-service-account-token-tracking', '--type=merge', '-p', '{"data":{"since":"2020-01-01"}}']);
    await ok(srv, ['create', 'serviceaccount', 'robot']);
    // RBAC: the token's holder may list what it asks for below.
    await ok(srv, ['create', 'rolebinding', 'robot-view', '--clusterrole=view', '--serviceaccount=default:robot']);
    const tokenSecret = (name: string) =>
      JSON.stringify({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token', metadata: { name, annotations: { 'kubernetes.io/service-account.name': 'robot' } } });
    await ok(srv, ['create', '-f', '-'], tokenSecret('old-token'));
    await ok(srv, ['create', '-f', '-'], tokenSecret('fresh-token'));
    // Auto-generated tokens are the ones their ServiceAccount lists.
    await ok(srv, ['patch', 'serviceaccount', 'robot', '--type=merge', '-p', '{"secrets":[{"name":"old-token"},{"name":"fresh-token"}]}']);
    const tokenOf = (name: string) =>
      eventually(`${name} filled in`, async () => Buffer.from((await ok(srv, ['get', 'secret', name, '-o', 'jsonpath={.data.token}'])).trim(), 'base64').toString('utf8'), 30_000, logs);
    const oldToken = await tokenOf('old-token');
    const freshToken = await tokenOf('fresh-token');
    const ca = await readFile(join(srv.dataDir, 'server', 'tls', 'ca.crt'), 'utf8');
    const statusWith = (token: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${srv.url}/api/v1/namespaces/default/serviceaccounts`, { ca, agent: false, headers: { Authorization: `Bearer ${token}` } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
    assert.equal(await statusWith(oldToken), 200);
    assert.equal(await statusWith(freshToken), 200);
    const label = (name: string, key: string) => ok(srv, ['get', 'secret', name, '-o', `jsonpath={.metadata.labels.kubernetes\\.io/${key}}`]).then((s) => s.trim());
    await eventually('fresh-token last used today', async () => (await label('fresh-token', 'legacy-token-last-used')) === today, undefined, logs);
    // old-token was last used long ago.
    await eventually('old-token last-used label written', async () => (await label('old-token', 'legacy-token-last-used')) === today, undefined, logs);
    await ok(srv, ['label', 'secret', 'old-token', 'kubernetes.io/legacy-token-last-used=2020-01-02', '--overwrite']);
    // Both were created more than the 1 s period ago by the time the restarted server's cleaner passes.
    await srv.restart();
    await eventually('old-token marked invalid', async () => (await label('old-token', 'legacy-token-invalid-since')) === today, 90_000, logs);
    assert.equal(await statusWith(oldToken), 401, 'an invalidated token no longer authenticates');
    assert.equal(await label('fresh-token', 'legacy-token-invalid-since'), '', 'a token used today is kept');
    assert.equal(await statusWith(freshToken), 200);

    await ok(srv, ['label', 'secret', 'old-token', 'kubernetes.io/legacy-token-invalid-since=2020-01-03', '--overwrite']);
    await srv.restart();
    await eventually('old-token deleted', async () => (await srv.kubectl(['get', 'secret', 'old-token'])).code !== 0, 90_000, logs);
    assert.match((await srv.kubectl(['get', 'secret', 'old-token'])).stderr, /NotFound|not found/);
    await ok(srv, ['get', 'secret', 'fresh-token']);
  } finally {
    await srv.stop();
  }
});

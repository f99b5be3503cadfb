// Service account issuer discovery end to end with the real kubectl: `kubectl get --raw` reads the OpenID discovery
// document and the key set as upstream serves them; a token from `kubectl create token` verifies with the published
// key and names it; a service account may read both with its own token (the system:service-account-issuer-discovery
// ClusterRole and binding exist as upstream bootstraps them); a client with no credentials may not;
// --kube-apiserver-arg service-account-jwks-uri replaces the key set's URL.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { startTestServer, type TestServer, waitForServiceAccount } from './harness.js';

async function ok(srv: TestServer, args: string[]): Promise<string> {
  const r = await srv.kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}\n${srv.logs().slice(-2000)}`);
  return r.stdout;
}

describe('service account issuer discovery', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ args: ['--advertise-address', '127.0.0.1'] });
    await waitForServiceAccount(srv, 'default');
  });
  after(async () => {
    await srv?.stop();
  });

  test('kubectl get --raw reads the discovery document and the key set; a created token verifies with the key', async () => {
    const config = JSON.parse(await ok(srv, ['get', '--raw', '/.well-known/openid-configuration'])) as Record<string, unknown>;
    const port = new URL(srv.url).port;
    assert.deepEqual(config, {
      issuer: 'https://kubernetes.default.svc.cluster.local',
      jwks_uri: `https://127.0.0.1:${port}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
    const { keys } = JSON.parse(await ok(srv, ['get', '--raw', '/openid/v1/jwks'])) as { keys: (JsonWebKey & { kid: string; use: string; alg: string })[] };
    assert.equal(keys.length, 1);
    assert.equal(keys[0]!.use, 'sig');
    assert.equal(keys[0]!.kty, 'RSA');
    assert.equal(keys[0]!.alg, 'RS256');

    const token = (await ok(srv, ['create', 'token', 'default', '--audience', 'vault'])).trim();
    const [h, p, s] = token.split('.');
    const header = JSON.parse(Buffer.from(h!, 'base64url').toString()) as { kid: string; alg: string };
    assert.equal(header.kid, keys[0]!.kid, 'the token names the published key');
    const good = verify('sha256', Buffer.from(`${h}.${p}`), createPublicKey({ key: keys[0]!, format: 'jwk' }), Buffer.from(s!, 'base64url'));
    assert.ok(good, 'signature verifies with the published key');
    assert.equal((JSON.parse(Buffer.from(p!, 'base64url').toString()) as { iss: string }).iss, config.issuer);
  });

  test('the bootstrap ClusterRole and binding; a service account reads the documents with its own token; no credentials: refused', async () => {
    const role = JSON.parse(await ok(srv, ['get', 'clusterrole', 'system:service-account-issuer-discovery', '-o', 'json'])) as {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      rules: { verbs: string[]; nonResourceURLs: string[] }[];
    };
    assert.deepEqual(role.rules, [{ verbs: ['get'], nonResourceURLs: ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'] }]);
    assert.equal(role.metadata.labels['kubernetes.io/bootstrapping'], 'rbac-defaults');
    assert.equal(role.metadata.annotations['rbac.authorization.kubernetes.io/autoupdate'], 'true');
    const binding = (await ok(srv, ['get', 'clusterrolebinding', 'system:service-account-issuer-discovery', '-o', 'jsonpath={.roleRef.name} {.subjects[*].kind}/{.subjects[*].name}'])).trim();
    assert.equal(binding, 'system:service-account-issuer-discovery Group/system:serviceaccounts');

    const ca = await readFile(join(srv.dataDir, 'server', 'tls', 'ca.crt'), 'utf8');
    const get = (path: string, token?: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(`${srv.url}${path}`, { ca, agent: false, ...(token ? { headers: { Authorization: `Bearer ${token}` } } : {}) }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    const token = (await ok(srv, ['create', 'token', 'default'])).trim();
    const asServiceAccount = await get('/openid/v1/jwks', token);
    assert.equal(asServiceAccount.status, 200, asServiceAccount.body);
    assert.match(asServiceAccount.body, /"keys":\[/);
    const anonymous = await get('/.well-known/openid-configuration');
    assert.ok(anonymous.status === 401 || anonymous.status === 403, `${anonymous.status} ${anonymous.body}`);
    assert.doesNotMatch(anonymous.body, /jwks_uri/);
  });
});

test('--kube-apiserver-arg service-account-jwks-uri names where relying parties fetch the keys', async () => {
  const srv = await startTestServer({ args: ['--kube-apiserver-arg', 'service-account-jwks-uri=https://keys.example.com/openid/v1/jwks'] });
  try {
    const config = JSON.parse(await ok(srv, ['get', '--raw', '/.well-known/openid-configuration'])) as { jwks_uri: string };
    assert.equal(config.jwks_uri, 'https://keys.example.com/openid/v1/jwks');
  } finally {
    await srv.stop();
  }
});

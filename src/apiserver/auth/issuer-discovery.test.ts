// Service account issuer discovery: upstream's discovery document and key set (TestServingKeys/NewOpenIDMetadata
// cases): fields, the default jwks_uri from the external address, https only, and a token the server signs verifies
// with the published key (RSA and EC keys).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServiceAccountTokens } from './serviceaccount.js';
import { issuerDiscovery, joinHostPort } from './issuer-discovery.js';

const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const ecPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString();

function request(d: ReturnType<typeof issuerDiscovery>, method: string, url: string) {
  const out: { status?: number; headers?: Record<string, string | number>; body?: string } = {};
  const res = {
    writeHead(status: number, headers: Record<string, string | number>) {
      out.status = status;
      out.headers = headers;
    },
    end(body?: string) {
      out.body = body ?? '';
    },
  } as unknown as ServerResponse;
  const served = d.serve({ method, url } as IncomingMessage, res);
  return { served, ...out };
}

test('the discovery document names the issuer, the key set at the external address and the key\'s algorithm', () => {
  const tokens = new ServiceAccountTokens(rsaPem);
  const d = issuerDiscovery({ tokens, externalAddress: joinHostPort('198.18.0.1', 6443) });
  const r = request(d, 'GET', '/.well-known/openid-configuration');
  assert.equal(r.served, true);
  assert.equal(r.status, 200);
  assert.equal(r.headers?.['Content-Type'], 'application/json');
  assert.equal(r.headers?.['Cache-Control'], 'public, max-age=3600');
  assert.equal(
    r.body,
    '{"issuer":"https://kubernetes.default.svc.cluster.local","jwks_uri":"https://198.18.0.1:6443/openid/v1/jwks",' +
      '"response_types_supported":["id_token"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"]}',
  );
  assert.equal(JSON.parse(issuerDiscovery({ tokens, externalAddress: joinHostPort('::1', 6443) }).configuration).jwks_uri, 'https://[::1]:6443/openid/v1/jwks');
  const given = issuerDiscovery({ tokens, externalAddress: 'x:1', jwksUri: 'https://keys.example.com/jwks' });
  assert.equal(JSON.parse(given.configuration).jwks_uri, 'https://keys.example.com/jwks');
  assert.equal(request(d, 'GET', '/openid/v1/jwks?x=1').headers?.['Content-Type'], 'application/jwk-set+json');
  assert.equal(request(d, 'GET', '/api/v1/pods').served, false);
  assert.equal(request(d, 'GET', '/openid/v1/jwks/extra').served, false);
  // Targets the URL parser resolves to the paths are served as before (dot segments, "%2e", a tab it drops).
  for (const t of ['/x/../openid/v1/jwks', '/x/%2e%2e/.well-known/openid-configuration', '/open\tid/v1/jwks', '/openid/v1/jwks#f']) {
    assert.equal(request(d, 'GET', t).served, true, t);
  }
  assert.equal(request(d, 'GET', '/.well-known/%6Fpenid-configuration').served, false);
  assert.throws(() => request(d, 'POST', '/openid/v1/jwks'), (e: { code?: number }) => e.code === 405);
});

for (const [kind, pem, alg] of [['RSA', rsaPem, 'RS256'], ['EC', ecPem, 'ES256']] as const) {
  test(`the key set verifies the server's tokens (${kind} key, members in go-jose's order)`, () => {
    const tokens = new ServiceAccountTokens(pem);
    const d = issuerDiscovery({ tokens, externalAddress: '127.0.0.1:6443' });
    const { keys } = JSON.parse(d.jwks) as { keys: Record<string, string>[] };
    assert.equal(keys.length, 1);
    const key = keys[0]!;
    assert.deepEqual(Object.keys(key), kind === 'RSA' ? ['use', 'kty', 'kid', 'alg', 'n', 'e'] : ['use', 'kty', 'kid', 'crv', 'alg', 'x', 'y']);
    assert.equal(key.use, 'sig');
    assert.equal(key.alg, alg);
    assert.equal(JSON.parse(d.configuration).id_token_signing_alg_values_supported[0], alg);
    const jwt = tokens.sign(tokens.claims({ serviceAccount: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'ns', uid: 'u' } }, audiences: ['a'], expirationSeconds: 600, nowMs: Date.now() }));
    const [h, p, s] = jwt.split('.');
    assert.equal(JSON.parse(Buffer.from(h!, 'base64url').toString()).kid, key.kid, 'tokens name the published key');
    const pub = createPublicKey({ key: key as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
    const ok = verify('sha256', Buffer.from(`${h}.${p}`), alg === 'ES256' ? { key: pub, dsaEncoding: 'ieee-p1363' } : pub, Buffer.from(s!, 'base64url'));
    assert.ok(ok);
  });
}

test('discovery needs an https issuer without query or fragment, and an https key set URL', () => {
  const base = new ServiceAccountTokens(rsaPem);
  const withIssuer = (issuer: string) => new ServiceAccountTokens(rsaPem, { issuer });
  assert.throws(() => issuerDiscovery({ tokens: withIssuer('http://kubernetes.default.svc'), externalAddress: 'h:1' }), /issuer URL must use https scheme/);
  assert.throws(() => issuerDiscovery({ tokens: withIssuer('https://a.example.com?x=1'), externalAddress: 'h:1' }), /may not include a query/);
  assert.throws(() => issuerDiscovery({ tokens: withIssuer('https://a.example.com#f'), externalAddress: 'h:1' }), /may not include a fragment/);
  assert.throws(() => issuerDiscovery({ tokens: base, externalAddress: 'h:1', jwksUri: 'http://keys.example.com' }), /jwks URI must use https scheme/);
});

test('--kube-apiserver-arg service-account-jwks-uri takes an https URL only', async () => {
  const { parseApiServerArgs } = await import('../args.js');
  assert.equal(parseApiServerArgs(['service-account-jwks-uri=https://keys.example.com/openid/v1/jwks']).serviceAccountJwksUri, 'https://keys.example.com/openid/v1/jwks');
  assert.throws(() => parseApiServerArgs(['service-account-jwks-uri=http://keys.example.com']), /requires https scheme/);
  assert.throws(() => parseApiServerArgs(['service-account-jwks-uri=not a url']), /invalid URL/);
});

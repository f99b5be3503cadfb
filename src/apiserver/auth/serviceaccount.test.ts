import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { KubeObject } from '../../api/object.js';
import { ServiceAccountTokenAuthenticator, ServiceAccountTokens, type TokenObjectGetter } from './serviceaccount.js';

const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const ecPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const T0 = Date.parse('2026-01-01T00:00:00Z');

const obj = (name: string, uid: string, namespace?: string, extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'X',
  metadata: { name, uid, ...(namespace ? { namespace } : {}), ...extra },
});

function getter(objects: Record<string, KubeObject | undefined>): TokenObjectGetter {
  return {
    serviceAccount: async (ns, name) => objects[`sa/${ns}/${name}`],
    pod: async (ns, name) => objects[`pod/${ns}/${name}`],
    secret: async (ns, name) => objects[`secret/${ns}/${name}`],
    node: async (name) => objects[`node/${name}`],
  };
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } }) as unknown as IncomingMessage;

for (const [alg, pem] of [
  ['RS256', rsaPem],
  ['ES256', ecPem],
] as const) {
  test(`${alg}: signed claims verify; a changed payload, expiry or another audience do not`, () => {
    const tokens = new ServiceAccountTokens(pem);
    const sa = obj('robot', 'u-sa', 'ns');
    const claims = tokens.claims({ serviceAccount: sa, audiences: tokens.apiAudiences, expirationSeconds: 600, nowMs: T0 });
    const jwt = tokens.sign(claims);
    assert.equal(JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()).alg, alg);
    const ok = tokens.verify(jwt, T0 + 1000);
    assert.ok(ok.ok);
    assert.equal(ok.claims.sub, 'system:serviceaccount:ns:robot');

    const [h, , s] = jwt.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'system:serviceaccount:ns:admin' })).toString('base64url')}.${s}`;
    assert.deepEqual(tokens.verify(tampered, T0), { ok: false, ours: true, reason: 'invalid signature' });
    // 600 s plus the 60 s leeway.
    assert.equal(tokens.verify(jwt, T0 + 661_000).ok, false);
    const vault = tokens.sign(tokens.claims({ serviceAccount: sa, audiences: ['vault'], expirationSeconds: 600, nowMs: T0 }));
    assert.equal(tokens.verify(vault, T0).ok, false);
    // Another key's tokens fail the signature check.
    assert.equal(new ServiceAccountTokens(alg === 'RS256' ? ecPem : rsaPem).verify(jwt, T0).ok, false);
    // Not a JWT of this issuer: left to other authenticators.
    assert.deepEqual(tokens.verify('abc', T0), { ok: false, ours: false, reason: 'not a JWT' });
  });
}

test('the authenticator checks the service account and bound objects by uid, and names pod and node in extra', async () => {
  let now = T0;
  const tokens = new ServiceAccountTokens(ecPem);
  const auth = new ServiceAccountTokenAuthenticator(tokens, () => now);
  const sa = obj('robot', 'u-sa', 'ns');
  const pod = obj('p', 'u-pod', 'ns');
  const node = obj('n1', 'u-node');
  const jwt = tokens.sign(tokens.claims({ serviceAccount: sa, audiences: tokens.apiAudiences, expirationSeconds: 3600, pod, node, nowMs: T0 }));

  assert.equal((await auth.authenticate(bearer(jwt))).kind, 'invalid', 'no getter yet: the server is starting');
  const objects: Record<string, KubeObject | undefined> = { 'sa/ns/robot': sa, 'pod/ns/p': pod };
  auth.getter = getter(objects);
  const r = await auth.authenticate(bearer(jwt));
  assert.equal(r.kind, 'ok');
  if (r.kind !== 'ok') return;
  assert.equal(r.user.name, 'system:serviceaccount:ns:robot');
  assert.equal(r.user.uid, 'u-sa');
  assert.deepEqual(r.user.groups, ['system:serviceaccounts', 'system:serviceaccounts:ns']);
  assert.deepEqual(r.user.extra?.['authentication.kubernetes.io/pod-uid'], ['u-pod']);
  assert.deepEqual(r.user.extra?.['authentication.kubernetes.io/node-name'], ['n1']);

  // A pod of the same name but another uid (deleted and created again) does not vouch for the token.
  objects['pod/ns/p'] = obj('p', 'u-other', 'ns');
  assert.deepEqual(await auth.authenticate(bearer(jwt)), { kind: 'invalid', reason: 'pod UID (u-other) does not match claim (u-pod)' });
  // Being deleted: valid for a minute after the deletion timestamp, not longer.
  objects['pod/ns/p'] = obj('p', 'u-pod', 'ns', { deletionTimestamp: new Date(T0).toISOString() });
  now = T0 + 30_000;
  assert.equal((await auth.authenticate(bearer(jwt))).kind, 'ok');
  now = T0 + 61_000;
  assert.equal((await auth.authenticate(bearer(jwt))).kind, 'invalid');
  objects['pod/ns/p'] = pod;
  delete objects['sa/ns/robot'];
  assert.deepEqual(await auth.authenticate(bearer(jwt)), { kind: 'invalid', reason: 'service account ns/robot has been deleted' });
  // Tokens of no issuer here are none of this authenticator's business.
  assert.deepEqual(await auth.authenticate(bearer('static-token')), { kind: 'none' });
});

test('legacy Secret tokens: claims checked as upstream, the Secret must hold the token, tracked once a day', async () => {
  const now = T0;
  const tokens = new ServiceAccountTokens(rsaPem);
  const auth = new ServiceAccountTokenAuthenticator(tokens, () => now);
  const sa = obj('robot', 'u-sa', 'ns');
  const jwt = tokens.sign(tokens.legacyClaims(sa, 'robot-token'));
  const secret = (labels: Record<string, string> = {}, token = jwt): KubeObject =>
    ({ ...obj('robot-token', 'u-secret', 'ns', { labels }), data: { token: Buffer.from(token).toString('base64') } }) as KubeObject;
  const objects: Record<string, KubeObject | undefined> = { 'sa/ns/robot': sa, 'secret/ns/robot-token': secret() };
  const marked: string[] = [];
  auth.getter = { ...getter(objects), markLegacyTokenUsed: async (ns, name, uid, day) => void marked.push(`${ns}/${name}/${uid}/${day}`) };

  const r = await auth.authenticateToken(jwt);
  assert.deepEqual(r, { kind: 'ok', user: { name: 'system:serviceaccount:ns:robot', uid: 'u-sa', groups: ['system:serviceaccounts', 'system:serviceaccounts:ns'] } });
  assert.deepEqual(marked, ['ns/robot-token/u-secret/2026-01-01']);
  // Already labelled today (or tomorrow): no write.
  objects['secret/ns/robot-token'] = secret({ 'kubernetes.io/legacy-token-last-used': '2026-01-02' });
  assert.equal((await auth.authenticateToken(jwt)).kind, 'ok');
  assert.equal(marked.length, 1);
  objects['secret/ns/robot-token'] = secret({ 'kubernetes.io/legacy-token-invalid-since': '2025-12-01' });
  assert.deepEqual(await auth.authenticateToken(jwt), { kind: 'invalid', reason: 'Token has been invalidated' });
  objects['secret/ns/robot-token'] = secret({}, 'other');
  assert.deepEqual(await auth.authenticateToken(jwt), { kind: 'invalid', reason: "Token does not match server's copy" });
  objects['secret/ns/robot-token'] = secret();
  objects['sa/ns/robot'] = obj('robot', 'u-new', 'ns');
  assert.deepEqual(await auth.authenticateToken(jwt), { kind: 'invalid', reason: 'ServiceAccount UID (u-new) does not match claim (u-sa)' });
  delete objects['secret/ns/robot-token'];
  assert.deepEqual(await auth.authenticateToken(jwt), { kind: 'invalid', reason: 'Token has been invalidated' });

  // Claims as the legacy validator wants them: sub naming the same account, every private claim present.
  const forged = tokens.sign({ ...tokens.legacyClaims(sa, 'robot-token'), sub: 'system:serviceaccount:ns:admin' });
  assert.deepEqual(await auth.authenticateToken(forged), { kind: 'invalid', reason: 'sub claim is invalid' });
  const noUid = tokens.sign({ ...tokens.legacyClaims(sa, 'robot-token'), 'kubernetes.io/serviceaccount/service-account.uid': '' });
  assert.deepEqual(await auth.authenticateToken(noUid), { kind: 'invalid', reason: 'serviceAccountUID claim is missing' });
});

// Service account tokens through the real kubectl: `kubectl create token` asks serviceaccounts/token for a signed JWT
// that then authenticates as the service account (`kubectl auth whoami`, `get`), bound tokens die with the pod they
// are bound to, a token for another audience does not authenticate here, and TokenRequest validation answers as
// upstream. One server (no node agent) serves every case.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually, kubeconfigCredentials, startTestServer, type TestServer } from './harness.js';

let server: TestServer;
let caFile: string;

before(async () => {
  server = await startTestServer();
  caFile = join(server.dataDir, 'e2e-ca.crt');
  await writeFile(caFile, (await kubeconfigCredentials(server.kubeconfig)).ca);
  await server.kubectl(['create', 'namespace', 'tok']);
  await server.kubectl(['-n', 'tok', 'create', 'serviceaccount', 'robot']);
  // RBAC: every service account of the namespace may read it (what the tokens below ask).
  await server.kubectl(['-n', 'tok', 'create', 'rolebinding', 'tok-view', '--clusterrole=view', '--group=system:serviceaccounts:tok']);
});

after(async () => {
  await server?.stop();
});

/** kubectl with only a bearer token (no client certificate, which would win). */
function asToken(token: string, args: string[]) {
  return server.kubectl(['--server', server.url, '--certificate-authority', caFile, '--token', token, ...args], {
    kubeconfig: '/dev/null',
  });
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

test('kubectl create token: the token authenticates as the service account', async () => {
  const created = await server.kubectl(['-n', 'tok', 'create', 'token', 'robot', '--duration', '20m']);
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  const claims = claimsOf(token);
  assert.equal(claims.sub, 'system:serviceaccount:tok:robot');
  assert.deepEqual(claims.aud, ['https://kubernetes.default.svc.cluster.local']);
  assert.equal((claims.exp as number) - (claims.iat as number), 1200);
  const sa = JSON.parse((await server.kubectl(['-n', 'tok', 'get', 'sa', 'robot', '-o', 'json'])).stdout) as { metadata: { uid: string } };
  assert.deepEqual((claims['kubernetes.io'] as { serviceaccount: unknown }).serviceaccount, { name: 'robot', uid: sa.metadata.uid });

  const who = await asToken(token, ['auth', 'whoami', '-o', 'json']);
  assert.equal(who.code, 0, who.stderr);
  const info = (JSON.parse(who.stdout) as { status: { userInfo: { username: string; uid: string; groups: string[] } } }).status.userInfo;
  assert.equal(info.username, 'system:serviceaccount:tok:robot');
  assert.equal(info.uid, sa.metadata.uid);
  assert.deepEqual(info.groups, ['system:serviceaccounts', 'system:serviceaccounts:tok', 'system:authenticated']);

  const list = await asToken(token, ['-n', 'tok', 'get', 'serviceaccounts', '-o', 'name']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /serviceaccount\/robot/);

  // A forged signature, another audience, or a deleted service account: 401.
  const forged = `${token.slice(0, token.lastIndexOf('.'))}.${Buffer.from('x'.repeat(256)).toString('base64url')}`;
  assert.match((await asToken(forged, ['-n', 'tok', 'get', 'sa'])).stderr, /Unauthorized/);
  const other = (await server.kubectl(['-n', 'tok', 'create', 'token', 'robot', '--audience', 'vault'])).stdout.trim();
  assert.deepEqual(claimsOf(other).aud, ['vault']);
  assert.match((await asToken(other, ['-n', 'tok', 'get', 'sa'])).stderr, /Unauthorized/);

  // A service account deleted and created again under its name has another uid: the old token is refused at once.
  await server.kubectl(['-n', 'tok', 'create', 'serviceaccount', 'phoenix']);
  const old = (await server.kubectl(['-n', 'tok', 'create', 'token', 'phoenix'])).stdout.trim();
  assert.equal((await asToken(old, ['-n', 'tok', 'get', 'sa'])).code, 0);
  await server.kubectl(['-n', 'tok', 'delete', 'serviceaccount', 'phoenix']);
  assert.match((await asToken(old, ['-n', 'tok', 'get', 'sa'])).stderr, /Unauthorized/);
  await server.kubectl(['-n', 'tok', 'create', 'serviceaccount', 'phoenix']);
  assert.match((await asToken(old, ['-n', 'tok', 'get', 'sa'])).stderr, /Unauthorized/);
  const renewed = (await server.kubectl(['-n', 'tok', 'create', 'token', 'phoenix'])).stdout.trim();
  assert.equal((await asToken(renewed, ['-n', 'tok', 'get', 'sa'])).code, 0);
});

test('a token bound to a pod stops authenticating when the pod is deleted', async () => {
  await server.kubectl(['-n', 'tok', 'run', 'holder', '--image', 'busybox', '--overrides', '{"spec":{"serviceAccountName":"robot"}}']);
  const created = await server.kubectl(['-n', 'tok', 'create', 'token', 'robot', '--bound-object-kind', 'Pod', '--bound-object-name', 'holder']);
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  const pod = JSON.parse((await server.kubectl(['-n', 'tok', 'get', 'pod', 'holder', '-o', 'json'])).stdout) as { metadata: { uid: string } };
  assert.deepEqual((claimsOf(token)['kubernetes.io'] as { pod: unknown }).pod, { name: 'holder', uid: pod.metadata.uid });
  const who = await asToken(token, ['auth', 'whoami', '-o', 'json']);
  assert.equal(who.code, 0, who.stderr);
  const extra = (JSON.parse(who.stdout) as { status: { userInfo: { extra: Record<string, string[]> } } }).status.userInfo.extra;
  assert.deepEqual(extra['authentication.kubernetes.io/pod-name'], ['holder']);
  assert.deepEqual(extra['authentication.kubernetes.io/pod-uid'], [pod.metadata.uid]);

  // The pod has no node: deleting it removes it at once, and with it the token's validity.
  assert.equal((await server.kubectl(['-n', 'tok', 'delete', 'pod', 'holder', '--wait=false'])).code, 0);
  // The authenticator reads watched caches that have caught up with every committed write: refused at once.
  assert.match((await asToken(token, ['-n', 'tok', 'get', 'sa'])).stderr, /Unauthorized/);

  // A pod running as another service account cannot hold a token of this one; an unknown pod is NotFound.
  await server.kubectl(['-n', 'tok', 'run', 'other', '--image', 'busybox']);
  const wrongSa = await server.kubectl(['-n', 'tok', 'create', 'token', 'robot', '--bound-object-kind', 'Pod', '--bound-object-name', 'other']);
  assert.notEqual(wrongSa.code, 0);
  assert.match(wrongSa.stderr, /cannot bind token for serviceaccount "robot" to pod running with different serviceaccount name/);
  const missing = await server.kubectl(['-n', 'tok', 'create', 'token', 'robot', '--bound-object-kind', 'Pod', '--bound-object-name', 'nope']);
  assert.match(missing.stderr, /pods "nope" not found/);
});

test('a token bound to a secret dies with the secret; TokenRequest validation', async () => {
  await server.kubectl(['-n', 'tok', 'create', 'secret', 'generic', 'anchor', '--from-literal=a=b']);
  const token = (await server.kubectl(['-n', 'tok', 'create', 'token', 'robot', '--bound-object-kind', 'Secret', '--bound-object-name', 'anchor'])).stdout.trim();
  assert.equal((await asToken(token, ['-n', 'tok', 'get', 'sa'])).code, 0);
  await server.kubectl(['-n', 'tok', 'delete', 'secret', 'anchor']);
  assert.match((await asToken(token, ['-n', 'tok', 'get', 'sa'])).stderr, /Unauthorized/);

  // Upstream's validation message for a too short lifetime (kubectl checks only that it is positive).
  const raw = await server.kubectl(['create', '--raw', '/api/v1/namespaces/tok/serviceaccounts/robot/token', '-f', '-'], {
    stdin: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 60 } }),
  });
  assert.notEqual(raw.code, 0);
  assert.match(raw.stderr, /may not specify a duration less than 10 minutes/);
  const noSa = await server.kubectl(['-n', 'tok', 'create', 'token', 'ghost']);
  assert.match(noSa.stderr, /serviceaccounts "ghost" not found/);
});

test('legacy token Secret: the tokens controller fills it in, the token authenticates, and goes with the service account', async () => {
  await server.kubectl(['-n', 'tok', 'create', 'serviceaccount', 'legacy']);
  const manifest = `apiVersion: v1
kind: Secret
metadata:
  name: legacy-token
  namespace: tok
  annotations:
    kubernetes.io/service-account.name: legacy
type: kubernetes.io/service-account-token
`;
  const applied = await server.kubectl(['apply', '-f', '-'], { stdin: manifest });
  assert.equal(applied.code, 0, applied.stderr);
  const encoded = await eventually('the token in the Secret', async () => {
    const got = await server.kubectl(['-n', 'tok', 'get', 'secret', 'legacy-token', '-o', 'jsonpath={.data.token}']);
    return got.code === 0 && got.stdout.trim() ? got.stdout.trim() : undefined;
  });
  const token = Buffer.from(encoded, 'base64').toString('utf8');
  const claims = claimsOf(token);
  assert.equal(claims.iss, 'kubernetes/serviceaccount');
  assert.equal(claims['kubernetes.io/serviceaccount/secret.name'], 'legacy-token');
  assert.equal(claims.exp, undefined, 'legacy tokens do not expire');
  const secret = JSON.parse((await server.kubectl(['-n', 'tok', 'get', 'secret', 'legacy-token', '-o', 'json'])).stdout) as {
    data: Record<string, string>;
    metadata: { annotations: Record<string, string> };
  };
  assert.equal(Buffer.from(secret.data.namespace!, 'base64').toString(), 'tok');
  assert.match(Buffer.from(secret.data['ca.crt']!, 'base64').toString(), /BEGIN CERTIFICATE/);
  const sa = JSON.parse((await server.kubectl(['-n', 'tok', 'get', 'sa', 'legacy', '-o', 'json'])).stdout) as { metadata: { uid: string } };
  assert.equal(secret.metadata.annotations['kubernetes.io/service-account.uid'], sa.metadata.uid);

  const who = await asToken(token, ['auth', 'whoami']);
  assert.equal(who.code, 0, who.stderr);
  assert.match(who.stdout, /Username\s+system:serviceaccount:tok:legacy/);
  // Upstream's legacy token tracking: the Secret is labelled with the day it was last used.
  await eventually('the last-used label', async () =>
    /^\d{4}-\d{2}-\d{2}$/.test((await server.kubectl(['-n', 'tok', 'get', 'secret', 'legacy-token', '-o', 'jsonpath={.metadata.labels.kubernetes\\.io/legacy-token-last-used}'])).stdout.trim()),
  );

  // Secret validation as upstream: the annotation is required.
  const bad = await server.kubectl(['apply', '-f', '-'], { stdin: manifest.replace(/ {2}annotations:\n.*\n/, '').replace('legacy-token', 'nameless') });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /metadata.annotations\[kubernetes.io\/service-account.name\]: Required value/);

  // Deleting the service account deletes its token Secrets; the token is refused at once.
  await server.kubectl(['-n', 'tok', 'delete', 'serviceaccount', 'legacy']);
  assert.match((await asToken(token, ['-n', 'tok', 'get', 'sa'])).stderr, /Unauthorized/);
  await eventually('the token Secret deleted', async () => /NotFound/.test((await server.kubectl(['-n', 'tok', 'get', 'secret', 'legacy-token'])).stderr));
});

// The tokens controller against an in-process API server that authenticates service account tokens: a token Secret
// is filled in with a legacy token that authenticates (and gets the last-used label), Secrets of missing or replaced
// service accounts are deleted, and deleting a service account deletes its token Secrets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { eventually } from '../../../test/e2e/harness.js';
import { ServiceAccountTokenAuthenticator, ServiceAccountTokens } from '../../apiserver/auth/serviceaccount.js';
import { isApiError, isNotFound } from '../../machinery/errors.js';
import { startControllerOn, startInProcessApi } from '../testing/in-process-api.js';
import { TokensController } from './tokens-controller.js';

const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const CA = '-----BEGIN CERTIFICATE-----\nZmFrZQ==\n-----END CERTIFICATE-----\n';
const TYPE = 'kubernetes.io/service-account-token';
const decode = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');

test('token Secrets are filled in, authenticate while Secret and service account live, and go with the service account', async () => {
  const tokens = new ServiceAccountTokens(pem);
  const auth = new ServiceAccountTokenAuthenticator(tokens);
  const api = await startInProcessApi({ serviceAccountTokens: tokens, serviceAccountAuthenticator: auth });
  const running = await startControllerOn(api, (ctx) => new TokensController(ctx, tokens, CA));
  try {
    const sas = api.client.resource<ServiceAccount>({ group: '', version: 'v1', resource: 'serviceaccounts' });
    const secrets = api.client.resource<Secret>({ group: '', version: 'v1', resource: 'secrets' });
    const sa = await sas.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'default' } });
    const tokenSecret = (name: string, annotations: Record<string, string>) =>
      secrets.create({ apiVersion: 'v1', kind: 'Secret', type: TYPE, metadata: { name, namespace: 'default', annotations } });
    await tokenSecret('robot-token', { 'kubernetes.io/service-account.name': 'robot' });

    const filled = await eventually('the token Secret filled in', async () => {
      const s = await secrets.get('robot-token', { namespace: 'default' });
      return s.data?.token ? s : undefined;
    });
    assert.equal(decode(filled.data?.['ca.crt']), CA);
    assert.equal(decode(filled.data?.namespace), 'default');
    assert.equal(filled.metadata?.annotations?.['kubernetes.io/service-account.uid'], sa.metadata?.uid);
    const jwt = decode(filled.data?.token);
    const [header, payload] = jwt.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>);
    assert.equal(header!.alg, 'RS256');
    assert.deepEqual(payload, {
      iss: 'kubernetes/serviceaccount',
      'kubernetes.io/serviceaccount/namespace': 'default',
      'kubernetes.io/serviceaccount/secret.name': 'robot-token',
      'kubernetes.io/serviceaccount/service-account.name': 'robot',
      'kubernetes.io/serviceaccount/service-account.uid': sa.metadata?.uid,
      sub: 'system:serviceaccount:default:robot',
    });

    const r = await auth.authenticateToken(jwt);
    assert.equal(r.kind, 'ok');
    assert.equal(r.kind === 'ok' && r.user.name, 'system:serviceaccount:default:robot');
    assert.equal(r.kind === 'ok' && r.user.uid, sa.metadata?.uid);
    const today = new Date().toISOString().slice(0, 10);
    await eventually('the legacy-token-last-used label', async () => {
      const label = (await secrets.get('robot-token', { namespace: 'default' })).metadata?.labels?.['kubernetes.io/legacy-token-last-used'];
      return label === today || label === new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    });

    // Other content in the Secret: the token no longer matches the server's copy; put back, it works again.
    const setToken = async (token: string) => {
      const cur = await secrets.get('robot-token', { namespace: 'default' });
      await secrets.update({ ...cur, data: { ...cur.data, token: Buffer.from(token).toString('base64') } });
    };
    await setToken('something-else');
    assert.deepEqual(await auth.authenticateToken(jwt), { kind: 'invalid', reason: "Token does not match server's copy" });
    await setToken(jwt);
    assert.equal((await auth.authenticateToken(jwt)).kind, 'ok');

    // Validation as upstream: the service account annotation is required.
    await assert.rejects(tokenSecret('anonymous', {}), (e: unknown) => isApiError(e) && e.status.code === 422 && /metadata.annotations\[kubernetes.io\/service-account.name\]: Required value/.test(e.message));

    // A Secret for a service account that does not exist, or for another incarnation (uid) of one, is deleted.
    await tokenSecret('ghost-token', { 'kubernetes.io/service-account.name': 'ghost' });
    await tokenSecret('stale-token', { 'kubernetes.io/service-account.name': 'robot', 'kubernetes.io/service-account.uid': 'not-the-uid' });
    const gone = (name: string) => async () => {
      try {
        await secrets.get(name, { namespace: 'default' });
        return false;
      } catch (e) {
        return isNotFound(e);
      }
    };
    await eventually('the ghost token Secret deleted', gone('ghost-token'));
    await eventually('the stale token Secret deleted', gone('stale-token'));

    // Deleting the service account deletes its token Secrets; the token stops authenticating at once.
    await sas.delete('robot', { namespace: 'default' });
    assert.equal((await auth.authenticateToken(jwt)).kind, 'invalid');
    await eventually('the service account token Secret deleted with it', gone('robot-token'));
  } finally {
    await running.stop();
    await api.close();
  }
});

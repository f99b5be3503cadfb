import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { authenticateRequest, type Authenticator } from './authenticator.js';
import { AllowAuthenticatedAuthorizer, PublicInfoAuthorizer, UnionAuthorizer, isPublicInfoPath, type AuthorizationAttributes } from './authorizer.js';
import { TokenAuthenticator, bearerToken } from './token.js';
import { ANONYMOUS } from './user.js';

const req = (headers: Record<string, string> = {}) => ({ headers, socket: {} }) as unknown as IncomingMessage;

test('bearer tokens are read case-insensitively from the Authorization header', () => {
  assert.equal(bearerToken('Bearer abc'), 'abc');
  assert.equal(bearerToken('bearer   abc '), 'abc');
  assert.equal(bearerToken('Basic abc'), undefined);
  assert.equal(bearerToken('Bearer a b'), undefined);
  assert.equal(bearerToken(undefined), undefined);
});

test('the chain adds system:authenticated and never falls back after invalid credentials', async () => {
  const tokens = new TokenAuthenticator(new Map([['t1', { name: 'alice', groups: ['dev'] }]]));
  const ok = await authenticateRequest([tokens], req({ authorization: 'Bearer t1' }));
  assert.deepEqual(ok, { kind: 'ok', user: { name: 'alice', groups: ['dev', 'system:authenticated'] } });
  const bad = await authenticateRequest([tokens], req({ authorization: 'Bearer t2' }));
  assert.equal(bad.kind, 'invalid');
  assert.deepEqual(await authenticateRequest([tokens], req()), { kind: 'none' });
  // A later authenticator may still recognise the request when an earlier one found nothing of its kind.
  const always: Authenticator = { name: 'fixed', authenticate: () => ({ kind: 'ok', user: { name: 'bob', groups: [] } }) };
  const r = await authenticateRequest([tokens, always], req());
  assert.deepEqual(r, { kind: 'ok', user: { name: 'bob', groups: ['system:authenticated'] } });
});

function attrs(over: Partial<AuthorizationAttributes>): AuthorizationAttributes {
  return {
    user: ANONYMOUS,
    verb: 'get',
    apiGroup: '',
    apiVersion: '',
    resource: '',
    subresource: '',
    namespace: '',
    name: '',
    path: '/',
    isResourceRequest: false,
    ...over,
  };
}

test('default authorization: public info for everyone, the rest for authenticated users', async () => {
  const authz = new UnionAuthorizer([new PublicInfoAuthorizer(), new AllowAuthenticatedAuthorizer()]);
  assert.equal((await authz.authorize(attrs({ path: '/livez/ping' }))).decision, 'allow');
  assert.equal((await authz.authorize(attrs({ path: '/version' }))).decision, 'allow');
  assert.equal((await authz.authorize(attrs({ path: '/version', verb: 'post' }))).decision, 'no-opinion');
  assert.equal((await authz.authorize(attrs({ path: '/api' }))).decision, 'no-opinion');
  const alice = { name: 'alice', groups: ['system:authenticated'] };
  assert.equal((await authz.authorize(attrs({ user: alice, path: '/api', verb: 'get' }))).decision, 'allow');
  assert.equal(isPublicInfoPath('/livezz'), false);
});

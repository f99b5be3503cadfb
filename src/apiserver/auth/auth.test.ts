import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { authenticateRequest, type Authenticator } from './authenticator.js';
import { PublicInfoAuthorizer, UnionAuthorizer, isPublicInfoPath, type AuthorizationAttributes, type Authorizer } from './authorizer.js';

/** The permissive authorizer skiff had before RBAC: every authenticated user may do everything. */
const allowAuthenticated: Authorizer = {
  authorize: (a) => (a.user.groups.includes('system:authenticated') ? { decision: 'allow' } : { decision: 'no-opinion' }),
};
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
  const authz = new UnionAuthorizer([new PublicInfoAuthorizer(), allowAuthenticated]);
  assert.equal((await authz.authorize(attrs({ path: '/livez/ping' }))).decision, 'allow');
  assert.equal((await authz.authorize(attrs({ path: '/version' }))).decision, 'allow');
  assert.equal((await authz.authorize(attrs({ path: '/version', verb: 'post' }))).decision, 'no-opinion');
  assert.equal((await authz.authorize(attrs({ path: '/api' }))).decision, 'no-opinion');
  const alice = { name: 'alice', groups: ['system:authenticated'] };
  assert.equal((await authz.authorize(attrs({ user: alice, path: '/api', verb: 'get' }))).decision, 'allow');
  assert.equal(isPublicInfoPath('/livezz'), false);
});

test('node users may write what upstream\'s node rules grant; the rest is left to the next authorizer', async () => {
  const { NodeAuthorizer } = await import('./node.js');
  const nodeAuthz = new NodeAuthorizer();
  const node = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
  const res = (over: Partial<AuthorizationAttributes>) => attrs({ user: node, isResourceRequest: true, ...over });
  const decide = async (over: Partial<AuthorizationAttributes>) => (await nodeAuthz.authorize(res(over))).decision;
  assert.equal(await decide({ verb: 'patch', resource: 'nodes', subresource: 'status', name: 'n1' }), 'allow');
  assert.equal(await decide({ verb: 'update', apiGroup: 'coordination.k8s.io', resource: 'leases' }), 'allow');
  assert.equal(await decide({ verb: 'create', resource: 'events' }), 'allow');
  assert.equal(await decide({ verb: 'delete', resource: 'pods' }), 'allow');
  // Upstream's node authorizer never denies: what its rules do not grant gets no opinion.
  assert.equal(await decide({ verb: 'create', apiGroup: 'apps', resource: 'deployments' }), 'no-opinion');
  assert.equal(await decide({ verb: 'update', resource: 'pods' }), 'no-opinion');
  assert.equal(await decide({ verb: 'delete', resource: 'namespaces' }), 'no-opinion');
  assert.equal(await decide({ verb: 'create', resource: 'secrets' }), 'no-opinion');
  // Without a graph, reads are the next authorizer's business; with the permissive one behind it, allowed.
  assert.equal(await decide({ verb: 'get', resource: 'secrets' }), 'no-opinion');
  const authz = new UnionAuthorizer([nodeAuthz, allowAuthenticated]);
  assert.equal((await authz.authorize(res({ verb: 'create', apiGroup: 'apps', resource: 'deployments' }))).decision, 'allow');
});

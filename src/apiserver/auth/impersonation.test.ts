// Upstream's impersonation cases: what is asked of the authorizer per header, the groups the impersonated user ends
// with, the 400 for groups/extras/uid without a user, and the 403 naming the first thing not allowed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { isApiError } from '../../machinery/errors.js';
import type { AuthorizationAttributes, Authorizer } from './authorizer.js';
import { hasImpersonationHeaders, impersonatedUser } from './impersonation.js';
import { splitServiceAccountUsername } from './serviceaccount.js';
import type { UserInfo } from './user.js';

const bob: UserInfo = { name: 'bob', groups: ['system:authenticated'] };

/** A request as Node parses it: repeated headers kept apart in headersDistinct, joined in headers. */
function request(pairs: [string, string][]): IncomingMessage {
  const distinct: Record<string, string[]> = {};
  for (const [k, v] of pairs) (distinct[k.toLowerCase()] ??= []).push(v);
  const headers = Object.fromEntries(Object.entries(distinct).map(([k, v]) => [k, v.join(', ')]));
  return { headers, headersDistinct: distinct } as unknown as IncomingMessage;
}

/** Allows what `allowed` accepts and records every question. */
function recording(allowed: (a: AuthorizationAttributes) => boolean): Authorizer & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    authorize(a) {
      const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
      asked.push(`${a.user.name} ${a.verb} ${a.apiGroup}/${res} ${a.namespace}/${a.name}`);
      return { decision: allowed(a) ? 'allow' : 'no-opinion' };
    },
  };
}

async function failure(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (e) {
    assert.ok(isApiError(e));
    return { code: e.code, message: e.status.message ?? '' };
  }
  assert.fail('expected an error');
}

test('service account usernames split as upstream (valid namespace and name only)', () => {
  assert.deepEqual(splitServiceAccountUsername('system:serviceaccount:ns:robot'), { namespace: 'ns', name: 'robot' });
  assert.deepEqual(splitServiceAccountUsername('system:serviceaccount:ns:a.b'), { namespace: 'ns', name: 'a.b' });
  assert.equal(splitServiceAccountUsername('system:serviceaccount:ns'), undefined);
  assert.equal(splitServiceAccountUsername('system:serviceaccount:ns:a:b'), undefined);
  assert.equal(splitServiceAccountUsername('system:serviceaccount:N_S:robot'), undefined);
  assert.equal(splitServiceAccountUsername('system:serviceaccounts:ns:robot'), undefined);
});

test('no impersonation headers: the requester itself, nothing asked', async () => {
  const authz = recording(() => true);
  const req = request([['authorization', 'Bearer x']]);
  assert.equal(hasImpersonationHeaders(req), false);
  assert.equal(await impersonatedUser(req, bob, authz), bob);
  // An empty user header asks for nothing (upstream tests the value's length).
  assert.equal(await impersonatedUser(request([['Impersonate-User', '']]), bob, authz), bob);
  assert.deepEqual(authz.asked, []);
});

test('a user: impersonate users/<name>, groups as given plus system:authenticated, extras and uid', async () => {
  const authz = recording(() => true);
  const jane = await impersonatedUser(request([['Impersonate-User', 'jane']]), bob, authz);
  assert.deepEqual(jane, { name: 'jane', groups: ['system:authenticated'] });
  assert.deepEqual(authz.asked, ['bob impersonate /users /jane']);

  authz.asked.length = 0;
  const fullRequest = request([
      ['Impersonate-User', 'jane'],
      ['Impersonate-Group', 'devs'],
      ['Impersonate-Group', 'ops, night'],
      ['Impersonate-Extra-Scopes', 'view'],
      ['Impersonate-Extra-Scopes', 'development'],
      ['Impersonate-Extra-acme.com%2Fproject', 'x'],
      ['Impersonate-Uid', 'u-1'],
    ]);
  const full = await impersonatedUser(fullRequest, bob, authz);
  assert.ok(!hasImpersonationHeaders(fullRequest), 'honoured headers are removed from the request');
  assert.deepEqual(fullRequest.headersDistinct, {});
  assert.deepEqual(full, {
    name: 'jane',
    uid: 'u-1',
    groups: ['devs', 'ops, night', 'system:authenticated'],
    extra: { scopes: ['view', 'development'], 'acme.com/project': ['x'] },
  });
  assert.deepEqual(authz.asked, [
    'bob impersonate /users /jane',
    'bob impersonate /groups /devs',
    'bob impersonate /groups /ops, night',
    'bob impersonate authentication.k8s.io/userextras/scopes /view',
    'bob impersonate authentication.k8s.io/userextras/scopes /development',
    'bob impersonate authentication.k8s.io/userextras/acme.com/project /x',
    'bob impersonate authentication.k8s.io/uids /u-1',
  ]);
  // system:authenticated or system:unauthenticated among the groups: nothing added.
  const unauth = await impersonatedUser(request([['Impersonate-User', 'jane'], ['Impersonate-Group', 'system:unauthenticated']]), bob, authz);
  assert.deepEqual(unauth.groups, ['system:unauthenticated']);
  const anon = await impersonatedUser(request([['Impersonate-User', 'system:anonymous']]), bob, authz);
  assert.deepEqual(anon, { name: 'system:anonymous', groups: ['system:unauthenticated'] });
});

test('a service account: impersonate serviceaccounts in its namespace, its groups unless groups are given', async () => {
  const authz = recording(() => true);
  const sa = await impersonatedUser(request([['Impersonate-User', 'system:serviceaccount:team:robot']]), bob, authz);
  assert.deepEqual(sa, { name: 'system:serviceaccount:team:robot', groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'] });
  assert.deepEqual(authz.asked, ['bob impersonate /serviceaccounts team/robot']);
  const grouped = await impersonatedUser(request([['Impersonate-User', 'system:serviceaccount:team:robot'], ['Impersonate-Group', 'g']]), bob, authz);
  assert.deepEqual(grouped.groups, ['g', 'system:authenticated']);
  // Not a valid service account name: an ordinary user.
  authz.asked.length = 0;
  await impersonatedUser(request([['Impersonate-User', 'system:serviceaccount:Team:robot']]), bob, authz);
  assert.deepEqual(authz.asked, ['bob impersonate /users /system:serviceaccount:Team:robot']);
});

test('forbidden: the first thing not allowed, with upstream\'s message; groups without a user: 400', async () => {
  const authz = recording((a) => a.resource === 'users');
  const denied = await failure(impersonatedUser(request([['Impersonate-User', 'jane'], ['Impersonate-Group', 'admins']]), bob, authz));
  assert.deepEqual(denied, { code: 403, message: 'groups "admins" is forbidden: User "bob" cannot impersonate resource "groups" in API group "" at the cluster scope' });
  const none = recording(() => false);
  assert.equal(
    (await failure(impersonatedUser(request([['Impersonate-User', 'jane']]), bob, none))).message,
    'users "jane" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope',
  );
  assert.equal(
    (await failure(impersonatedUser(request([['Impersonate-User', 'system:serviceaccount:team:robot']]), bob, none))).message,
    'serviceaccounts "robot" is forbidden: User "bob" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "team"',
  );
  assert.equal(
    (await failure(impersonatedUser(request([['Impersonate-User', 'jane'], ['Impersonate-Extra-scopes', 'view']]), bob, recording((a) => a.resource === 'users')))).message,
    'userextras.authentication.k8s.io "view" is forbidden: User "bob" cannot impersonate resource "userextras/scopes" in API group "authentication.k8s.io" at the cluster scope',
  );
  const bad = await failure(impersonatedUser(request([['Impersonate-Group', 'devs'], ['Impersonate-Uid', 'u-1']]), bob, recording(() => true)));
  assert.deepEqual(bad, { code: 400, message: 'requested [{Group  devs    } {UID  u-1  authentication.k8s.io/v1  }] without impersonating a user' });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { KubeObject } from '../../api/object.js';
import { findResource } from '../../api/catalog.js';
import { openMemoryStorage } from '../../storage/memory/memory.js';
import { Store } from '../registry/store.js';
import { ObjectCache } from '../admission/namespace-cache.js';
import { ServiceAccountTokenAuthenticator, ServiceAccountTokens } from './serviceaccount.js';
import { TokenObjectCaches, slimTokenObject } from './token-objects.js';

const ctx = { user: { name: 'tester', groups: [] }, dryRun: false };
const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

test('service account tokens are checked from watched caches: no storage read per request, revocation at once', async () => {
  const storage = openMemoryStorage();
  const store = (resource: string) => new Store({ info: findResource('', 'v1', resource)!, storage, strategy: { validate: () => [] } });
  const stores = { serviceaccounts: store('serviceaccounts'), pods: store('pods'), secrets: store('secrets'), nodes: store('nodes') };
  const liveGets: string[] = [];
  const serviceAccounts = new ObjectCache(stores.serviceaccounts);
  const caches = new TokenObjectCaches(stores, serviceAccounts, async (resource, ns, name) => {
    liveGets.push(`${resource}/${name}`);
    try {
      return await stores[resource].get(ns, name);
    } catch {
      return undefined;
    }
  });
  const tokens = new ServiceAccountTokens(pem);
  const auth = new ServiceAccountTokenAuthenticator(tokens);
  try {
    await Promise.all([serviceAccounts.start(), caches.start()]);
    auth.getter = caches.getter();
    const create = (s: Store, o: KubeObject) => s.create('ns', o, ctx);
    let sa = await create(stores.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'ns' } });
    let pod = await create(stores.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' }, spec: { containers: [{ name: 'c', image: 'i' }] } } as KubeObject);
    const podToken = () => tokens.sign(tokens.claims({ serviceAccount: sa, audiences: tokens.apiAudiences, expirationSeconds: 3600, pod, nowMs: Date.now() }));
    let jwt = podToken();

    // Created a moment ago: answered from the caches once the watch delivered them, never from storage.
    for (let i = 0; i < 5; i++) assert.equal((await auth.authenticateToken(jwt)).kind, 'ok');
    assert.deepEqual(liveGets, []);
    assert.equal(caches.liveReads, 0);

    // Deleted: refused on the very next request (no waiting for the watch).
    await stores.pods.delete('ns', 'p', {}, ctx);
    assert.deepEqual(await auth.authenticateToken(jwt), { kind: 'invalid', reason: 'pod ns/p has been deleted' });

    // Created again under the same name: another uid, the old token stays dead, a new one works.
    pod = await create(stores.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' }, spec: { containers: [{ name: 'c', image: 'i' }] } } as KubeObject);
    const r = await auth.authenticateToken(jwt);
    assert.equal(r.kind, 'invalid');
    assert.match(r.kind === 'invalid' ? r.reason : '', /pod UID \(.+\) does not match claim/);
    jwt = podToken();
    assert.equal((await auth.authenticateToken(jwt)).kind, 'ok');

    // The service account replaced: its old tokens die at once.
    await stores.serviceaccounts.delete('ns', 'robot', {}, ctx);
    assert.deepEqual(await auth.authenticateToken(jwt), { kind: 'invalid', reason: 'service account ns/robot has been deleted' });
    sa = await create(stores.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'ns' } });
    assert.equal((await auth.authenticateToken(jwt)).kind, 'invalid');

    // A secret-bound token dies with its secret.
    const secret = await create(stores.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'ns' }, data: { big: 'eA==' } } as KubeObject);
    const secretToken = tokens.sign(tokens.claims({ serviceAccount: sa, audiences: tokens.apiAudiences, expirationSeconds: 3600, secret, nowMs: Date.now() }));
    assert.equal((await auth.authenticateToken(secretToken)).kind, 'ok');
    await stores.secrets.delete('ns', 's', {}, ctx);
    assert.equal((await auth.authenticateToken(secretToken)).kind, 'invalid');
  } finally {
    caches.stop();
    serviceAccounts.stop();
    await storage.close();
  }
});

test('token objects are kept slim: identity, deletion and labels; only token secrets keep their token', () => {
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's', namespace: 'ns', uid: 'u', labels: { a: 'b' }, annotations: { x: 'y' }, managedFields: [] },
    data: { password: 'cA==' },
  } as KubeObject;
  assert.deepEqual(slimTokenObject(secret), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'ns', uid: 'u', labels: { a: 'b' } } });
  const token = { ...secret, type: 'kubernetes.io/service-account-token', data: { token: 'dA==', 'ca.crt': 'Yw==' } } as KubeObject;
  assert.deepEqual(slimTokenObject(token), {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's', namespace: 'ns', uid: 'u', labels: { a: 'b' }, annotations: { x: 'y' } },
    type: 'kubernetes.io/service-account-token',
    data: { token: 'dA==' },
  });
});

test('pods are kept without their labels', () => {
  const p = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { app: 'x' } }, spec: { containers: [] } } as KubeObject;
  assert.deepEqual(slimTokenObject(p), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u' } });
});

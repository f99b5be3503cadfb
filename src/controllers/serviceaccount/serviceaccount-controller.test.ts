// The ServiceAccounts controller in-process against a real server (its own controllers off): active namespaces get a
// "default" ServiceAccount, again after it is deleted; terminating namespaces get none.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Namespace, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { startTestServer, type TestServer, eventually } from '../../../test/e2e/harness.js';
import { createLogger } from '../../apiserver/log.js';
import { RestClient } from '../../client/index.js';
import { ControllerManager } from '../manager.js';
import { serviceAccountControllerDescriptor } from './serviceaccount-controller.js';


describe('ServiceAccountsController against a server', () => {
  let srv: TestServer;
  let client: RestClient;
  let manager: ControllerManager;
  before(async () => {
    srv = await startTestServer({ args: ['--disable-controllers', 'namespace,serviceaccount'] });
    client = await RestClient.fromKubeconfig(srv.kubeconfig);
  });
  after(async () => {
    await manager?.stop();
    client?.close();
    await srv?.stop();
  });

  test('existing and new namespaces get "default"; a deleted one comes back; a terminating namespace gets none', async () => {
    const namespaces = client.resource<Namespace>({ group: '', version: 'v1', resource: 'namespaces' });
    const serviceAccounts = client.resource<ServiceAccount>({ group: '', version: 'v1', resource: 'serviceaccounts' });
    const defaultIn = async (ns: string) => (await serviceAccounts.list({ namespace: ns })).items.find((s) => s.metadata?.name === 'default');
    await namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'before' } });
    await namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'dying' } });
    // Terminating before the controller starts (the namespace controller is off, so it stays so).
    await namespaces.delete('dying');
    assert.equal(await defaultIn('before'), undefined, 'nothing creates it without the controller');

    manager = new ControllerManager({ client, controllers: [serviceAccountControllerDescriptor], leaderElection: false, log: createLogger('error') });
    manager.start();
    await eventually('default in an existing namespace', async () => (await defaultIn('before')) !== undefined);
    await namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'after' } });
    await eventually('default in a new namespace', async () => (await defaultIn('after')) !== undefined);

    const uid = (await defaultIn('after'))?.metadata?.uid;
    await serviceAccounts.delete('default', { namespace: 'after' });
    await eventually('default recreated', async () => {
      const sa = await defaultIn('after');
      return sa !== undefined && sa.metadata?.uid !== uid;
    });
    assert.equal(await defaultIn('dying'), undefined);
  });
});

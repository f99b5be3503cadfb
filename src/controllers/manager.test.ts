// The manager's registry rules in-process, and leader election between two managers on a real server's Lease.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { startTestServer, type TestServer, eventually } from '../../test/e2e/harness.js';
import { createLogger } from '../apiserver/log.js';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { RestClient, SharedInformerFactory, type Transport } from '../client/index.js';
import { ControllerManager, type ControllerContext, type ControllerDescriptor } from './manager.js';

const log = createLogger('error');

/** A transport for managers whose controllers never call the server. */
const unusedTransport: Transport = {
  request: () => Promise.reject(new Error('unexpected request')),
  stream: () => Promise.reject(new Error('unexpected request')),
  close: () => undefined,
};

/** A controller that records its lifecycle: running while its signal is not aborted. */
function recording(name: string, seen: { created: string[]; running: Set<string>; contexts: ControllerContext[] }): ControllerDescriptor {
  return {
    name,
    create: (ctx) => {
      seen.created.push(name);
      seen.contexts.push(ctx);
      return {
        run: (signal) =>
          new Promise<void>((resolve) => {
            seen.running.add(name);
            signal.addEventListener('abort', () => {
              seen.running.delete(name);
              resolve();
            });
          }),
      };
    },
  };
}

const newSeen = () => ({ created: [] as string[], running: new Set<string>(), contexts: [] as ControllerContext[] });


describe('ControllerManager registry', () => {
  const client = new RestClient(unusedTransport);

  test('a name registered twice is refused at start-up', () => {
    const seen = newSeen();
    assert.throws(
      () => new ControllerManager({ client, controllers: [recording('a', seen), recording('b', seen), recording('a', seen)], leaderElection: false, log }),
      /controller "a" is registered twice/,
    );
  });

  test('disabled controllers are never created; the others share one informer factory and stop with the manager', async () => {
    const seen = newSeen();
    const m = new ControllerManager({
      client,
      controllers: [recording('a', seen), recording('b', seen), recording('c', seen)],
      disabled: ['b', 'not-here'],
      leaderElection: false,
      log,
    });
    assert.deepEqual(m.enabledControllers(), ['a', 'c']);
    m.start();
    await eventually('controllers running', () => seen.running.size === 2);
    assert.deepEqual(seen.created, ['a', 'c']);
    assert.equal(seen.contexts[0]?.informers, seen.contexts[1]?.informers);
    await m.stop();
    assert.equal(seen.running.size, 0);
  });

  test('with shared informers each term runs on a scope of them: the same caches, its handlers removed when it ends', async () => {
    const shared = new SharedInformerFactory(client);
    const gvr = { group: '', version: 'v1', resource: 'configmaps' };
    const heard: string[] = [];
    const seen = newSeen();
    const listening: ControllerDescriptor = {
      name: 'listening',
      create: (ctx) => {
        ctx.informers.informerFor<ConfigMap>(gvr).addEventHandler({ onAdd: (o) => heard.push(o.metadata?.name ?? '') });
        return recording('inner', seen).create(ctx);
      },
    };
    const m = new ControllerManager({ client, controllers: [listening], leaderElection: false, log, informers: shared });
    m.start();
    await eventually('controller running', () => seen.running.size === 1);
    const base = shared.informerFor<ConfigMap>(gvr);
    assert.equal(seen.contexts[0]?.informers.informerFor(gvr).indexer, base.indexer, 'one cache for the manager and the owner');
    base.add({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'a', name: 'during' } });
    assert.deepEqual(heard, ['during']);
    await m.stop();
    base.add({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'a', name: 'after' } });
    assert.deepEqual(heard, ['during'], 'the handler went with the term');
    assert.equal(base.indexer.getByKey('a/after')?.metadata?.name, 'after', 'the informer stays with its owner');
    await shared.shutdown();
  });
});

describe('ControllerManager leader election', () => {
  let srv: TestServer;
  let client: RestClient;
  before(async () => {
    srv = await startTestServer({ args: ['--disable-controllers', 'namespace,serviceaccount'] });
    client = await RestClient.fromKubeconfig(srv.kubeconfig);
  });
  after(async () => {
    client?.close();
    await srv?.stop();
  });

  test('two managers on one server run one set of controllers; the other takes over when the leader stops', async () => {
    const fast = { name: 'test-manager', leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 };
    const seenA = newSeen();
    const seenB = newSeen();
    const a = new ControllerManager({ client, controllers: [recording('x', seenA)], leaderElection: { ...fast, identity: 'a' }, log });
    const b = new ControllerManager({ client, controllers: [recording('x', seenB)], leaderElection: { ...fast, identity: 'b' }, log });
    a.start();
    await eventually('a leads', () => seenA.running.has('x'));
    b.start();
    // b keeps polling the Lease for a while but never starts its controllers while a renews.
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(seenB.created.length, 0);
    const lease = await client.resource<Lease>({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases' }).get('test-manager', { namespace: 'kube-system' });
    assert.equal(lease.spec?.holderIdentity, 'a');
    await a.stop();
    assert.equal(seenA.running.size, 0);
    // a released the Lease on stop, so b need not wait for it to expire.
    await eventually('b leads', () => seenB.running.has('x'), 3000);
    await b.stop();
  });
});

// Leader election between candidates sharing one real `skiff server`.
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { startTestServer, type TestServer } from '../../test/e2e/harness.js';
import { LeaderElector } from './leaderelection.js';
import { RestClient } from './rest.js';
import { eventually } from '../../test/e2e/harness.js';


describe('LeaderElector', () => {
  test('validates its timing like client-go', () => {
    const callbacks = { onStartedLeading: () => undefined, onStoppedLeading: () => undefined };
    const base = { client: new RestClient({ request: () => Promise.reject(new Error('unused')), stream: () => Promise.reject(new Error('unused')), close: () => undefined }), namespace: 'ns', name: 'l', identity: 'me', callbacks };
    assert.throws(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }), /leaseDuration must be greater than renewDeadline/);
    assert.throws(() => new LeaderElector({ ...base, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }), /renewDeadline must be greater than retryPeriod\*JitterFactor/);
    assert.throws(() => new LeaderElector({ ...base, identity: '' }), /Lock identity is empty/);
  });

  describe('against a real server', () => {
    let srv: TestServer;
    let client: RestClient;
    before(async () => {
      srv = await startTestServer();
      client = await RestClient.fromKubeconfig(srv.kubeconfig);
    });
    after(async () => {
      client?.close();
      await srv?.stop();
    });

    // Electors still campaigning after a failed assertion would keep the test process alive forever.
    const electors: LeaderElector[] = [];
    afterEach(() => {
      for (const e of electors.splice(0)) e.stop();
    });

    test('one leader at a time; release hands over at once; a silent leader is replaced after the lease duration', async () => {
      const log: string[] = [];
      const candidate = (identity: string, releaseOnCancel: boolean) => {
        const elector = new LeaderElector({
          client,
          namespace: 'kube-system',
          name: 'skiff-controller-manager',
          identity,
          // Long enough that "released" (immediate) and "expired" (after the duration) stay apart on a loaded machine.
          leaseDurationMs: 8000,
          renewDeadlineMs: 6000,
          retryPeriodMs: 100,
          releaseOnCancel,
          callbacks: {
            onStartedLeading: () => log.push(`${identity} leads`),
            onStoppedLeading: () => log.push(`${identity} stops`),
          },
        });
        electors.push(elector);
        return { elector, done: elector.run() };
      };
      const leases = client.resource<Lease>({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases' });

      const a = candidate('a', true);
      await eventually('a leads', () => log.includes('a leads'));
      const b = candidate('b', false);
      await eventually('b sees a as leader', () => b.elector.getLeader() === 'a');
      assert.deepEqual(log, ['a leads'], 'b waits while a renews');
      const held = await leases.get('skiff-controller-manager', { namespace: 'kube-system' });
      assert.equal(held.spec?.holderIdentity, 'a');
      assert.equal(held.spec?.leaseDurationSeconds, 8);
      assert.match(held.spec?.renewTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

      const handoverStart = Date.now();
      a.elector.stop();
      await a.done;
      await eventually('b leads', () => log.includes('b leads'));
      assert.ok(Date.now() - handoverStart < 6000, 'released: no need to wait for expiry');
      assert.deepEqual(log, ['a leads', 'a stops', 'b leads']);
      const afterHandover = await leases.get('skiff-controller-manager', { namespace: 'kube-system' });
      assert.equal(afterHandover.spec?.holderIdentity, 'b');
      assert.equal(afterHandover.spec?.leaseTransitions, 1);

      // b goes silent without releasing (as a crashed process would): c must wait out the lease duration.
      b.elector.stop();
      await b.done;
      const silentSince = Date.now();
      const c = candidate('c', true);
      await eventually('c leads', () => log.includes('c leads'), 30_000);
      assert.ok(Date.now() - silentSince >= 7800, `c took over after ${Date.now() - silentSince} ms`);
      assert.equal((await leases.get('skiff-controller-manager', { namespace: 'kube-system' })).spec?.leaseTransitions, 2);
      c.elector.stop();
      await c.done;
      assert.equal((await leases.get('skiff-controller-manager', { namespace: 'kube-system' })).spec?.holderIdentity ?? '', '');
    });
  });
});

// Node IPAM: the CIDR set (rotating next-free allocation, occupy, release, exhaustion) and the controller against an
// in-process API: the map is rebuilt from existing nodes, new nodes get podCIDR/podCIDRs, a deleted node's CIDR is
// reused, and an exhausted range records CIDRNotAvailable on the node.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Event, Node } from 'kubernetes-types/core/v1.js';
import { eventually } from '../../../test/e2e/harness.js';
import { startControllerOn, startInProcessApi, type InProcessApi } from '../testing/in-process-api.js';
import { CidrExhaustedError, CidrSet } from './cidrset.js';
import { NodeIpamController } from './nodeipam-controller.js';

describe('CidrSet', () => {
  test('allocates subnets in order, skips occupied ones, wraps after release, and runs out', () => {
    const set = new CidrSet('198.18.0.0/22', 24);
    assert.equal(set.maxCidrs, 4);
    assert.equal(set.occupy('198.18.1.0/24'), true);
    assert.equal(set.occupy('198.19.0.0/24'), false, 'outside the cluster CIDR');
    assert.equal(set.occupy('198.18.2.0/25'), false, 'wrong mask size');
    assert.equal(set.allocateNext(), '198.18.0.0/24');
    assert.equal(set.allocateNext(), '198.18.2.0/24');
    assert.equal(set.allocateNext(), '198.18.3.0/24');
    assert.throws(() => set.allocateNext(), CidrExhaustedError);
    set.release('198.18.0.0/24');
    assert.equal(set.isAllocated('198.18.0.0/24'), false);
    assert.equal(set.allocateNext(), '198.18.0.0/24');
  });

  test('mask sizes are checked against the cluster prefix; IPv6 works the same', () => {
    assert.throws(() => new CidrSet('198.18.0.0/16', 8));
    assert.throws(() => new CidrSet('198.18.0.0/8', 30), /too big/);
    const v6 = new CidrSet('fd00::/48', 64);
    assert.equal(v6.allocateNext(), 'fd00::/64');
    assert.equal(v6.allocateNext(), 'fd00:0:0:1::/64');
  });
});

describe('NodeIpamController against an in-process API', () => {
  let api: InProcessApi;
  const stops: (() => Promise<void>)[] = [];
  after(async () => {
    for (const s of stops) await s();
    await api?.close();
  });

  test('rebuilds from existing nodes, allocates to new ones, reuses a released CIDR, reports CIDRNotAvailable', async () => {
    api = await startInProcessApi();
    const nodes = api.client.resource<Node>({ group: '', version: 'v1', resource: 'nodes' });
    const node = (name: string, podCIDR?: string): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, ...(podCIDR ? { spec: { podCIDR, podCIDRs: [podCIDR] } } : {}) });
    // Existing before the controller starts: its CIDR must not be handed out again.
    await nodes.create(node('old', '198.18.0.0/26'));
    const running = await startControllerOn(api, (ctx) => new NodeIpamController(ctx), { options: { clusterCidr: '198.18.0.0/24', nodeCidrMaskSize: 26 } });
    stops.push(running.stop);
    const cidrOf = async (name: string) => (await nodes.get(name)).spec?.podCIDRs?.join(',');
    await nodes.create(node('a'));
    await nodes.create(node('b'));
    await eventually('a and b get CIDRs', async () => (await cidrOf('a')) !== undefined && (await cidrOf('b')) !== undefined);
    const got = [await cidrOf('a'), await cidrOf('b')].sort();
    assert.deepEqual(got, ['198.18.0.128/26', '198.18.0.64/26']);
    assert.equal((await nodes.get('a')).spec?.podCIDR, await cidrOf('a'));

    await nodes.create(node('c'));
    await eventually('c gets the last CIDR', async () => (await cidrOf('c')) === '198.18.0.192/26');
    await nodes.create(node('d'));
    const events = api.client.resource<Event>({ group: '', version: 'v1', resource: 'events' });
    await eventually('CIDRNotAvailable for d', async () =>
      (await events.list({ namespace: 'default' })).items.some((e) => e.reason === 'CIDRNotAvailable' && e.involvedObject.name === 'd' && e.message === 'Node d status is now: CIDRNotAvailable'),
    );
    assert.equal(await cidrOf('d'), undefined);

    // Deleting "old" frees its CIDR; d gets it on its next retry.
    await nodes.delete('old');
    await nodes.patch('d', { metadata: { labels: { retry: 'now' } } }, { type: 'merge' });
    await eventually('d gets the released CIDR', async () => (await cidrOf('d')) === '198.18.0.0/26');
  });
});

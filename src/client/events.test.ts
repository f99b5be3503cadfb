// Event recorders writing to a real `skiff server`, with an injected clock for the timestamps and the spam filter.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, Event as CoreEvent } from 'kubernetes-types/core/v1.js';
import type { Event as EventsV1Event } from 'kubernetes-types/events/v1.js';
import { startTestServer, type TestServer } from '../../test/e2e/harness.js';
import { FakeClock } from './clock.js';
import { CoreEventRecorder, EventRecorder, MAX_QUEUED_EVENTS } from './events.js';
import { RestClient } from './rest.js';

describe('event recorders against a real server', () => {
  let srv: TestServer;
  let client: RestClient;
  let subject: ConfigMap;
  before(async () => {
    srv = await startTestServer();
    client = await RestClient.fromKubeconfig(srv.kubeconfig);
    await client.resource({ group: '', version: 'v1', resource: 'namespaces' }).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ev' } });
    subject = await client.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps' }).create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'subject' } }, { namespace: 'ev' });
    subject = { ...subject, apiVersion: 'v1', kind: 'ConfigMap' };
  });
  after(async () => {
    client?.close();
    await srv?.stop();
  });

  test('core/v1: identical events are counted on one Event, similar ones aggregated, floods dropped', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const errors: unknown[] = [];
    const rec = new CoreEventRecorder(client, { component: 'test-controller', host: 'h1', clock, onError: (e) => errors.push(e) });
    rec.event(subject, 'Normal', 'Synced', 'all good');
    clock.step(5000);
    rec.event(subject, 'Normal', 'Synced', 'all good');
    rec.event(subject, 'Normal', 'Synced', 'all good');
    for (let i = 1; i <= 12; i++) rec.event(subject, 'Warning', 'Similar', `attempt ${i} failed`);
    for (let i = 0; i < 30; i++) rec.event(subject, 'Warning', 'Flood', 'again');
    await rec.flush();
    assert.deepEqual(errors, []);

    const events = (await client.resource<CoreEvent>({ group: '', version: 'v1', resource: 'events' }).list({ namespace: 'ev' })).items;
    const synced = events.filter((e) => e.reason === 'Synced');
    assert.equal(synced.length, 1);
    assert.equal(synced[0].count, 3);
    assert.equal(synced[0].firstTimestamp, '2026-01-01T00:00:00Z');
    assert.equal(synced[0].lastTimestamp, '2026-01-01T00:00:05Z');
    assert.deepEqual(synced[0].involvedObject, { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ev', name: 'subject', uid: subject.metadata?.uid, resourceVersion: subject.metadata?.resourceVersion });
    assert.deepEqual(synced[0].source, { component: 'test-controller', host: 'h1' });
    assert.match(synced[0].metadata?.name ?? '', /^subject\.[0-9a-f]+$/);

    const similar = events.filter((e) => e.reason === 'Similar');
    assert.equal(similar.length, 10, '9 distinct messages, then one aggregate');
    const combined = similar.filter((e) => e.message?.startsWith('(combined from similar events): '));
    assert.equal(combined.length, 1);
    assert.equal(combined[0].count, 3);
    assert.equal(combined[0].message, '(combined from similar events): attempt 12 failed');

    const flood = events.filter((e) => e.reason === 'Flood');
    assert.equal(flood.length, 1);
    assert.equal(flood[0].count, 25, 'the spam filter passes a burst of 25');
    clock.step(300_000);
    rec.event(subject, 'Warning', 'Flood', 'again');
    await rec.flush();
    const after = await client.resource<CoreEvent>({ group: '', version: 'v1', resource: 'events' }).get(flood[0].metadata!.name!, { namespace: 'ev' });
    assert.equal(after.count, 26, 'one token refilled after 5 minutes');
  });

  test('events.k8s.io/v1: a repeated event becomes a series; the heartbeat writes the cached count', async () => {
    const rec = new EventRecorder(client, { reportingController: 'skiff.io/test-controller', reportingInstance: 'test-1' });
    for (let i = 0; i < 4; i++) rec.eventf(subject, undefined, 'Normal', 'Scaled', 'Scaling', 'scaled up to 3');
    rec.eventf(subject, undefined, 'Warning', 'Failed', 'Syncing', 'could not sync');
    await rec.flush();
    const events = client.resource<EventsV1Event>({ group: 'events.k8s.io', version: 'v1', resource: 'events' });
    const list = (await events.list({ namespace: 'ev' })).items.filter((e) => e.reportingController === 'skiff.io/test-controller');
    const scaled = list.filter((e) => e.reason === 'Scaled');
    assert.equal(scaled.length, 1);
    assert.equal(scaled[0].series?.count, 2, 'the second occurrence starts the series; later ones wait for the heartbeat');
    assert.equal(scaled[0].action, 'Scaling');
    assert.equal(scaled[0].regarding?.name, 'subject');
    assert.match(scaled[0].eventTime ?? '', /\.\d{6}Z$/);
    assert.equal(list.filter((e) => e.reason === 'Failed')[0]?.series, undefined);
    await rec.refreshSeries();
    assert.equal((await events.get(scaled[0].metadata!.name!, { namespace: 'ev' })).series?.count, 4);
  });
});

/**
 * An EventRecorder over a stub client whose creates call `onCreate` (which may wait for the gate) and whose patches
 * are logged in `calls`; release() opens the gate.
 */
function gatedRecorder(onCreate: (ev: EventsV1Event, gate: Promise<void>) => Promise<void>) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const calls: string[] = [];
  const stub = {
    resource: () => ({
      create: async (ev: EventsV1Event) => {
        await onCreate(ev, gate);
        return ev;
      },
      patch: async (name: string) => {
        calls.push(`patch ${name.split('.')[0] ?? ''}`);
        return {};
      },
    }),
  } as unknown as RestClient;
  const rec = new EventRecorder(stub, { reportingController: 'test', reportingInstance: 'test-1', onError: (e) => assert.fail(String(e)) });
  return { rec, release, calls };
}

describe('event recorders under a flood', () => {
  test('at most MAX_QUEUED_EVENTS wait to be written; later events are dropped, as client-go broadcasters do', async () => {
    const created: string[] = [];
    // Writes wait until the gate opens, so every recorded event stays queued meanwhile.
    const { rec, release } = gatedRecorder(async (ev, gate) => {
      await gate;
      created.push(ev.note ?? '');
    });
    const regarding = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u' } };
    for (let i = 0; i < MAX_QUEUED_EVENTS + 10; i++) rec.eventf(regarding, undefined, 'Normal', 'Scheduled', 'Binding', `event ${i}`);
    assert.equal(rec.dropped, 10);
    release();
    await rec.flush();
    assert.equal(created.length, MAX_QUEUED_EVENTS);
    assert.equal(created[created.length - 1], `event ${MAX_QUEUED_EVENTS - 1}`);
    // Once the queue drained, events are written again.
    rec.eventf(regarding, undefined, 'Normal', 'Scheduled', 'Binding', 'after');
    await rec.flush();
    assert.equal(created[created.length - 1], 'after');
    assert.equal(rec.dropped, 10);
  });
});

describe('events.k8s.io/v1 writes side by side', () => {
  test('a slow write does not hold back the next event; a series patch waits for its own create', async () => {
    const { rec, release, calls } = gatedRecorder(async (ev, gate) => {
      calls.push(`create ${ev.note ?? ''}`);
      // The first event's create hangs until the gate opens.
      if (ev.note === 'slow') await gate;
      calls.push(`created ${ev.note ?? ''}`);
    });
    const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns', uid: name } });
    rec.eventf(pod('a'), undefined, 'Normal', 'Scheduled', 'Binding', 'slow');
    rec.eventf(pod('a'), undefined, 'Normal', 'Scheduled', 'Binding', 'slow'); // a repeat: becomes a series patch
    rec.eventf(pod('b'), undefined, 'Normal', 'Scheduled', 'Binding', 'fast');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls, ['create slow', 'create fast', 'created fast'], 'b is written while a still waits');
    release();
    await rec.flush();
    assert.deepEqual(calls.slice(3), ['created slow', 'patch a'], "a's series patch follows its create");
  });
});

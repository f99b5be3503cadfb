import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Event as CoreEvent } from 'kubernetes-types/core/v1.js';
import type { Event as EventsV1Event } from 'kubernetes-types/events/v1.js';
import { coreEventToEventsV1, eventsV1ToCoreEvent } from './convert.js';

const regarding = { kind: 'Pod', namespace: 'default', name: 'web-1', uid: 'u1', apiVersion: 'v1', resourceVersion: '12', fieldPath: 'spec.containers{app}' };

const newStyle: EventsV1Event = {
  apiVersion: 'events.k8s.io/v1',
  kind: 'Event',
  metadata: { name: 'web-1.17a', namespace: 'default' },
  eventTime: '2024-05-01T10:00:00.123456Z',
  series: { count: 3, lastObservedTime: '2024-05-01T10:05:00.000000Z' },
  reportingController: 'kubelet',
  reportingInstance: 'kubelet-node-1',
  action: 'Pulling',
  reason: 'Pulling',
  regarding,
  related: { kind: 'Node', name: 'node-1' },
  note: 'Pulling image "nginx"',
  type: 'Normal',
};

const oldStyle: CoreEvent = {
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'web-1.17b', namespace: 'default' },
  involvedObject: regarding,
  reason: 'Scheduled',
  message: 'Successfully assigned default/web-1 to node-1',
  source: { component: 'default-scheduler' },
  firstTimestamp: '2024-05-01T10:00:00Z',
  lastTimestamp: '2024-05-01T10:00:01Z',
  count: 2,
  type: 'Normal',
  reportingComponent: 'default-scheduler',
  reportingInstance: 'sched-1',
};

describe('core/v1 <-> events.k8s.io/v1 Event conversion', () => {
  test('maps fields as upstream does', () => {
    const core = eventsV1ToCoreEvent(newStyle);
    assert.equal(core.apiVersion, 'v1');
    assert.deepEqual(core.involvedObject, regarding);
    assert.equal(core.message, 'Pulling image "nginx"');
    assert.equal(core.reportingComponent, 'kubelet');
    assert.deepEqual(core.series, newStyle.series);
    assert.equal((core as unknown as Record<string, unknown>).note, undefined);

    const ev = coreEventToEventsV1(oldStyle);
    assert.equal(ev.apiVersion, 'events.k8s.io/v1');
    assert.deepEqual(ev.regarding, regarding);
    assert.equal(ev.note, oldStyle.message);
    assert.deepEqual(ev.deprecatedSource, { component: 'default-scheduler' });
    assert.equal(ev.deprecatedFirstTimestamp, '2024-05-01T10:00:00Z');
    assert.equal(ev.deprecatedLastTimestamp, '2024-05-01T10:00:01Z');
    assert.equal(ev.deprecatedCount, 2);
    assert.equal(ev.reportingController, 'default-scheduler');
  });

  test('events.k8s.io/v1 -> core/v1 -> events.k8s.io/v1 round-trips', () => {
    assert.deepEqual(coreEventToEventsV1(eventsV1ToCoreEvent(newStyle)), newStyle);
  });

  test('core/v1 -> events.k8s.io/v1 -> core/v1 round-trips', () => {
    assert.deepEqual(eventsV1ToCoreEvent(coreEventToEventsV1(oldStyle)), oldStyle);
  });

  test('does not modify its input', () => {
    const copy = structuredClone(newStyle);
    const core = eventsV1ToCoreEvent(newStyle);
    core.metadata.name = 'changed';
    assert.deepEqual(newStyle, copy);
  });
});

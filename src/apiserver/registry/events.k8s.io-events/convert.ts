// Conversion between core/v1 Event and events.k8s.io/v1 Event (upstream's pkg/apis/events/v1/conversion.go).
// Both APIs serve one stored collection; the events API renames fields and marks the old ones deprecated.
import type { Event as CoreEvent } from 'kubernetes-types/core/v1.js';
import type { Event as EventsV1Event } from 'kubernetes-types/events/v1.js';
import { deepClone } from '../../../api/object.js';

/** Field pairs (core/v1 name, events.k8s.io/v1 name) that differ between the two; the rest share names. */
const RENAMED: readonly (readonly [keyof CoreEvent, keyof EventsV1Event])[] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
  ['reportingComponent', 'reportingController'],
];
const SHARED = ['metadata', 'eventTime', 'series', 'reportingInstance', 'action', 'reason', 'related', 'type'] as const;

type Loose = Record<string, unknown>;

function move(from: Loose, to: Loose, pairs: readonly (readonly [string, string])[]): void {
  for (const [a, b] of pairs) if (from[a] !== undefined) to[b] = from[a];
}

/** core/v1 Event -> events.k8s.io/v1 Event; fields absent in the input stay absent. The input is not modified. */
export function coreEventToEventsV1(event: CoreEvent): EventsV1Event {
  const src = deepClone(event) as unknown as Loose;
  const out: Loose = { apiVersion: 'events.k8s.io/v1', kind: 'Event' };
  move(src, out, SHARED.map((k) => [k, k] as const));
  move(src, out, RENAMED as readonly (readonly [string, string])[]);
  out.metadata ??= {};
  return out as unknown as EventsV1Event;
}

/** events.k8s.io/v1 Event -> core/v1 Event; fields absent in the input stay absent. The input is not modified. */
export function eventsV1ToCoreEvent(event: EventsV1Event): CoreEvent {
  const src = deepClone(event) as unknown as Loose;
  const out: Loose = { apiVersion: 'v1', kind: 'Event' };
  move(src, out, SHARED.map((k) => [k, k] as const));
  move(src, out, RENAMED.map(([a, b]) => [b, a] as const));
  out.metadata ??= {};
  return out as unknown as CoreEvent;
}

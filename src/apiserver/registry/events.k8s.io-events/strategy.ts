// events.k8s.io/v1 Event: upstream's ValidateEventCreate/ValidateEventUpdate (pkg/apis/core/validation/events.go).
// Validation runs on the core/v1 form, as upstream's does on the internal type; the request version decides
// which rules apply: core/v1 keeps the lenient legacy rules, events.k8s.io/v1 adds the strict ones.
import type { Event as CoreEvent } from 'kubernetes-types/core/v1.js';
import type { Event as EventsV1Event } from 'kubernetes-types/events/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isDNS1123Subdomain, isQualifiedName, validateImmutableField } from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';
import { sameValue } from '../group-validation.js';
import { eventsV1ToCoreEvent } from './convert.js';

/** Which API the request came through: "v1" (core) or "events.k8s.io/v1". */
export type EventRequestVersion = 'v1' | 'events.k8s.io/v1';

const REPORTING_INSTANCE_LENGTH_LIMIT = 128;
const ACTION_LENGTH_LIMIT = 128;
const REASON_LENGTH_LIMIT = 128;
const NOTE_LENGTH_LIMIT = 1024;

/** The core/v1 form of an Event from either API. */
export function asCoreEvent(obj: KubeObject): CoreEvent {
  return obj.apiVersion === 'events.k8s.io/v1' ? eventsV1ToCoreEvent(obj as unknown as EventsV1Event) : (obj as unknown as CoreEvent);
}

const isSet = (time: string | undefined | null): boolean => typeof time === 'string' && time !== '';

/** Rules every Event must pass, whatever API created it (upstream's legacyValidateEvent). */
function legacyValidateEvent(event: CoreEvent, version: EventRequestVersion): FieldError[] {
  const errs: FieldError[] = [];
  const namespace = event.metadata?.namespace ?? '';
  const involvedNamespace = event.involvedObject?.namespace ?? '';
  const controllerField = version === 'v1' ? 'reportingComponent' : 'reportingController';
  if (!isSet(event.eventTime)) {
    // Old-style events: the namespace must agree with the involved object's ("default" allowed for old clients).
    const mismatch = involvedNamespace === '' ? namespace !== '' && namespace !== 'default' : namespace !== involvedNamespace;
    if (mismatch) errs.push(fieldErr.invalid('involvedObject.namespace', involvedNamespace, 'does not match event.namespace'));
  } else {
    if (involvedNamespace === '' && namespace !== 'default' && namespace !== 'kube-system') {
      errs.push(fieldErr.invalid('involvedObject.namespace', involvedNamespace, 'does not match event.namespace'));
    }
    const controller = event.reportingComponent ?? '';
    if (controller === '') errs.push(fieldErr.required(controllerField));
    errs.push(...invalidEach(controllerField, controller, isQualifiedName(controller)));
    const instance = event.reportingInstance ?? '';
    if (instance === '') errs.push(fieldErr.required('reportingInstance'));
    if (instance.length > REPORTING_INSTANCE_LENGTH_LIMIT) {
      errs.push(fieldErr.invalid('reportingInstance', '', `can have at most ${REPORTING_INSTANCE_LENGTH_LIMIT} characters`));
    }
    const action = event.action ?? '';
    if (action === '') errs.push(fieldErr.required('action'));
    if (action.length > ACTION_LENGTH_LIMIT) errs.push(fieldErr.invalid('action', '', `can have at most ${ACTION_LENGTH_LIMIT} characters`));
    const reason = event.reason ?? '';
    if (reason === '') errs.push(fieldErr.required('reason'));
    if (reason.length > REASON_LENGTH_LIMIT) errs.push(fieldErr.invalid('reason', '', `can have at most ${REASON_LENGTH_LIMIT} characters`));
    if ((event.message ?? '').length > NOTE_LENGTH_LIMIT) errs.push(fieldErr.invalid('note', '', `can have at most ${NOTE_LENGTH_LIMIT} characters`));
  }
  errs.push(...invalidEach('namespace', namespace, isDNS1123Subdomain(namespace)));
  return errs;
}

function validateSeries(event: CoreEvent): FieldError[] {
  const series = event.series;
  if (!series) return [];
  const errs: FieldError[] = [];
  if ((series.count ?? 0) < 2) errs.push(fieldErr.invalid('series.count', '', 'should be at least 2'));
  if (!isSet(series.lastObservedTime)) errs.push(fieldErr.required('series.lastObservedTime'));
  return errs;
}

/** Upstream's ValidateEventCreate; exported so the core/v1 events strategy can apply the same rules. */
export function validateEventCreate(event: CoreEvent, version: EventRequestVersion): FieldError[] {
  const errs = legacyValidateEvent(event, version);
  if (version === 'v1') return errs;
  errs.push(...validateSeries(event));
  if (!isSet(event.eventTime)) errs.push(fieldErr.required('eventTime'));
  if (event.type !== 'Normal' && event.type !== 'Warning') errs.push(fieldErr.invalid('type', '', `has invalid value: ${event.type ?? ''}`));
  if (isSet(event.firstTimestamp)) errs.push(fieldErr.invalid('deprecatedFirstTimestamp', '', 'needs to be unset'));
  if (isSet(event.lastTimestamp)) errs.push(fieldErr.invalid('deprecatedLastTimestamp', '', 'needs to be unset'));
  if ((event.count ?? 0) !== 0) errs.push(fieldErr.invalid('deprecatedCount', '', 'needs to be unset'));
  if (event.source?.component || event.source?.host) errs.push(fieldErr.invalid('deprecatedSource', '', 'needs to be unset'));
  return errs;
}

/** A MicroTime compared at microsecond precision, as upstream tolerates finer-grained client rounding. */
function microsecondKey(time: string | undefined): string {
  if (!time) return '';
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) return time;
  const fraction = /\.(\d+)/.exec(time)?.[1] ?? '';
  return `${Math.floor(ms / 1000)}.${fraction.padEnd(6, '0').slice(0, 6)}`;
}

/** The fields of an Event that never change once it exists (all but series and metadata). */
export function validateEventImmutability(event: CoreEvent, old: CoreEvent): FieldError[] {
  const errs: FieldError[] = [];
  const fixed: [unknown, unknown, string][] = [
    [event.involvedObject, old.involvedObject, 'involvedObject'],
    [event.reason, old.reason, 'reason'],
    [event.message, old.message, 'message'],
    [event.source, old.source, 'source'],
    [event.firstTimestamp, old.firstTimestamp, 'firstTimestamp'],
    [event.lastTimestamp, old.lastTimestamp, 'lastTimestamp'],
    [event.count, old.count, 'count'],
    [event.type, old.type, 'type'],
  ];
  for (const [a, b, path] of fixed) errs.push(...validateImmutableField(a, b, path));
  if (microsecondKey(event.eventTime) !== microsecondKey(old.eventTime)) errs.push(fieldErr.invalid('eventTime', event.eventTime, 'field is immutable'));
  const reporting: [unknown, unknown, string][] = [
    [event.action, old.action, 'action'],
    [event.related, old.related, 'related'],
    [event.reportingComponent, old.reportingComponent, 'reportingController'],
    [event.reportingInstance, old.reportingInstance, 'reportingInstance'],
  ];
  for (const [a, b, path] of reporting) errs.push(...validateImmutableField(a, b, path));
  return errs;
}

/** Upstream's ValidateEventUpdate: legacy rules, then (events.k8s.io) changed series and immutability. */
export function validateEventUpdate(event: CoreEvent, old: CoreEvent, version: EventRequestVersion): FieldError[] {
  const errs = legacyValidateEvent(event, version);
  if (version === 'v1') return errs;
  if (!sameValue(event.series, old.series)) errs.push(...validateSeries(event));
  errs.push(...validateEventImmutability(event, old));
  return errs;
}

/** Upstream's event field set (pkg/registry/core/event ToSelectableFields), on the core/v1 form. */
export function eventSelectableFields(event: CoreEvent): Record<string, string> {
  const io = event.involvedObject ?? {};
  return {
    'involvedObject.kind': io.kind ?? '',
    'involvedObject.namespace': io.namespace ?? '',
    'involvedObject.name': io.name ?? '',
    'involvedObject.uid': io.uid ?? '',
    'involvedObject.apiVersion': io.apiVersion ?? '',
    'involvedObject.resourceVersion': io.resourceVersion ?? '',
    'involvedObject.fieldPath': io.fieldPath ?? '',
    reason: event.reason ?? '',
    reportingComponent: event.reportingComponent ?? '',
    source: event.source?.component ?? '',
    type: event.type ?? '',
  };
}

export const Strategy: KindStrategy = {
  validate: (obj) => validateEventCreate(asCoreEvent(obj), 'events.k8s.io/v1'),
  // validate() has already applied the create rules (legacy and series included); updates add immutability.
  validateUpdate: (obj, old) => validateEventImmutability(asCoreEvent(obj), asCoreEvent(old)),
  selectableFields: (obj) => eventSelectableFields(asCoreEvent(obj)),
};

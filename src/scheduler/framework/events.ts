// Cluster events and queueing hints, as upstream's framework types them: an event names a resource and what happened
// to it (at the granularity of ActionType bits), plugins register the events that can make them pass (EnqueueExtensions)
// with an optional hint that looks at the old and new object, and the queue moves a rejected pod only when an event
// matches a rejecting plugin's registration and the hint says Queue.
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { podRequests } from './resources.js';

/** What happened to an object; bits combine, so one registration can cover several updates. */
export const ActionType = {
  Add: 1 << 0,
  Delete: 1 << 1,
  // Node updates, by what changed.
  UpdateNodeAllocatable: 1 << 2,
  UpdateNodeLabel: 1 << 3,
  UpdateNodeTaint: 1 << 4,
  UpdateNodeCondition: 1 << 5,
  UpdateNodeAnnotation: 1 << 6,
  // Pod updates, by what changed.
  UpdatePodLabel: 1 << 7,
  /** A container's resource requests went down. */
  UpdatePodScaleDown: 1 << 8,
  UpdatePodTolerations: 1 << 9,
  UpdatePodSchedulingGatesEliminated: 1 << 10,
  /** Any other update (of a pod, or of a resource whose updates are not classified). */
  UpdateOther: 1 << 11,
} as const;

const UPDATE_BITS =
  ActionType.UpdateNodeAllocatable |
  ActionType.UpdateNodeLabel |
  ActionType.UpdateNodeTaint |
  ActionType.UpdateNodeCondition |
  ActionType.UpdateNodeAnnotation |
  ActionType.UpdatePodLabel |
  ActionType.UpdatePodScaleDown |
  ActionType.UpdatePodTolerations |
  ActionType.UpdatePodSchedulingGatesEliminated |
  ActionType.UpdateOther;

/** Every kind of update, and every action at all. */
export const UPDATE = UPDATE_BITS;
export const ALL_ACTIONS = ActionType.Add | ActionType.Delete | UPDATE_BITS;

/**
 * The resource an event is about. "Pod" in a registration covers both assigned pods and the unscheduled pod itself
 * (upstream's Pod, which matches assignedPod and unschedulablePod events); "*" is any resource.
 */
export type EventResource =
  | 'Pod'
  | 'AssignedPod'
  | 'UnschedulablePod'
  | 'Node'
  | 'PersistentVolume'
  | 'PersistentVolumeClaim'
  | 'StorageClass'
  | 'CSINode'
  | 'CSIDriver'
  | 'CSIStorageCapacity'
  | 'VolumeAttachment'
  | '*';

export interface ClusterEvent {
  resource: EventResource;
  actionType: number;
  /** For logs and metrics (upstream's Label), e.g. "NodeAdd", "AssignedPodDelete". */
  label: string;
}

/** A cluster event as it arrives: with the object before and after (undefined on Add and Delete respectively). */
export interface ClusterEventWithObjects {
  event: ClusterEvent;
  oldObj?: unknown;
  newObj?: unknown;
}

export enum QueueingHint {
  /** The event cannot make the pod schedulable. */
  QueueSkip = 0,
  /** The event may make the pod schedulable: retry it (after its backoff). */
  Queue = 1,
}

/** Decides for one rejected pod whether an event can help; a throw counts as Queue (better a retry than a stuck pod). */
export type QueueingHintFn = (pod: Pod, oldObj: unknown, newObj: unknown) => QueueingHint;

export interface ClusterEventWithHint {
  event: ClusterEvent;
  /** Without a hint every matching event queues the pod. */
  queueingHintFn?: QueueingHintFn;
}

/** Plugins that can reject a pod say which events may make them pass (upstream's EnqueueExtensions). */
export interface EnqueueExtensions {
  eventsToRegister(): ClusterEventWithHint[];
}

export const implementsEnqueueExtensions = (p: object): p is EnqueueExtensions =>
  typeof (p as { eventsToRegister?: unknown }).eventsToRegister === 'function';

const event = (resource: EventResource, actionType: number, label: string): ClusterEvent => ({ resource, actionType, label });

/** The events the scheduler's informer handlers send. */
export const EVENTS = {
  NodeAdd: event('Node', ActionType.Add, 'NodeAdd'),
  NodeDelete: event('Node', ActionType.Delete, 'NodeDelete'),
  AssignedPodAdd: event('AssignedPod', ActionType.Add, 'AssignedPodAdd'),
  AssignedPodDelete: event('AssignedPod', ActionType.Delete, 'AssignedPodDelete'),
  PvcAdd: event('PersistentVolumeClaim', ActionType.Add, 'PvcAdd'),
  PvcUpdate: event('PersistentVolumeClaim', ActionType.UpdateOther, 'PvcUpdate'),
  PvAdd: event('PersistentVolume', ActionType.Add, 'PvAdd'),
  PvUpdate: event('PersistentVolume', ActionType.UpdateOther, 'PvUpdate'),
  StorageClassAdd: event('StorageClass', ActionType.Add, 'StorageClassAdd'),
  StorageClassUpdate: event('StorageClass', ActionType.UpdateOther, 'StorageClassUpdate'),
  CSINodeAdd: event('CSINode', ActionType.Add, 'CSINodeAdd'),
  CSINodeUpdate: event('CSINode', ActionType.UpdateOther, 'CSINodeUpdate'),
  CSIDriverUpdate: event('CSIDriver', ActionType.UpdateOther, 'CSIDriverUpdate'),
  CSIStorageCapacityAdd: event('CSIStorageCapacity', ActionType.Add, 'CSIStorageCapacityAdd'),
  CSIStorageCapacityUpdate: event('CSIStorageCapacity', ActionType.UpdateOther, 'CSIStorageCapacityUpdate'),
  VolumeAttachmentDelete: event('VolumeAttachment', ActionType.Delete, 'VolumeAttachmentDelete'),
  /** Pods left in the unschedulable pool longer than podMaxInUnschedulablePodsDuration (matches every plugin). */
  UnschedulableTimeout: event('*', ALL_ACTIONS, 'UnschedulableTimeout'),
  /** Moves every unschedulable pod, whatever rejected it (upstream's ForceActivate-style wildcard). */
  WildCard: event('*', ALL_ACTIONS, 'WildCard'),
} as const satisfies Record<string, ClusterEvent>;

/** An event with the wildcard resource, which moves every pod regardless of its rejectors. */
export const isWildCard = (e: ClusterEvent): boolean => e.resource === '*';

/** Whether a plugin's registration `registered` covers the incoming event (upstream's ClusterEvent.Match). */
export function eventMatches(registered: ClusterEvent, incoming: ClusterEvent): boolean {
  if (isWildCard(registered)) return true;
  const sameResource =
    registered.resource === incoming.resource ||
    (registered.resource === 'Pod' && (incoming.resource === 'AssignedPod' || incoming.resource === 'UnschedulablePod'));
  return sameResource && (registered.actionType & incoming.actionType) !== 0;
}

const sameJSON = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function sameStringMap(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  for (const k of ka) if (a![k] !== b?.[k]) return false;
  return true;
}

/** Condition type → status; heartbeats and messages do not count as changes (upstream's nodeConditionsChanged). */
function conditionStatuses(n: Node): string {
  return (n.status?.conditions ?? []).map((c) => `${c.type}=${c.status}`).sort().join(',');
}

/**
 * The update events a node change is (upstream's nodeSchedulingPropertiesChange): none for a heartbeat. A change of
 * spec.unschedulable counts as a taint change, as upstream's NodeSpecUnschedulableChange does.
 */
export function nodeUpdateEvents(oldNode: Node, newNode: Node): ClusterEvent[] {
  const out: ClusterEvent[] = [];
  if (!!oldNode.spec?.unschedulable !== !!newNode.spec?.unschedulable) {
    out.push(event('Node', ActionType.UpdateNodeTaint, 'NodeSpecUnschedulableChange'));
  }
  if (!sameJSON(oldNode.status?.allocatable, newNode.status?.allocatable)) {
    out.push(event('Node', ActionType.UpdateNodeAllocatable, 'NodeAllocatableChange'));
  }
  if (!sameStringMap(oldNode.metadata?.labels, newNode.metadata?.labels)) out.push(event('Node', ActionType.UpdateNodeLabel, 'NodeLabelChange'));
  if (!sameJSON(oldNode.spec?.taints, newNode.spec?.taints)) out.push(event('Node', ActionType.UpdateNodeTaint, 'NodeTaintChange'));
  if (conditionStatuses(oldNode) !== conditionStatuses(newNode)) out.push(event('Node', ActionType.UpdateNodeCondition, 'NodeConditionChange'));
  if (!sameStringMap(oldNode.metadata?.annotations, newNode.metadata?.annotations)) {
    out.push(event('Node', ActionType.UpdateNodeAnnotation, 'NodeAnnotationChange'));
  }
  return out;
}

/** True when some resource the new pod requests is lower than before (upstream's UpdatePodScaleDown). */
function requestsScaledDown(oldPod: Pod, newPod: Pod): boolean {
  const before = podRequests(oldPod);
  for (const [name, q] of podRequests(newPod)) {
    const was = before.get(name);
    if (was && q.cmp(was) < 0) return true;
  }
  return false;
}

/**
 * The update events a pod change is (upstream's PodSchedulingPropertiesChange), for `resource` AssignedPod or the
 * unscheduled pod itself; a change that is none of the classified ones is UpdateOther.
 */
export function podUpdateEvents(oldPod: Pod, newPod: Pod, resource: 'AssignedPod' | 'UnschedulablePod'): ClusterEvent[] {
  const out: ClusterEvent[] = [];
  if (!sameStringMap(oldPod.metadata?.labels, newPod.metadata?.labels)) out.push(event(resource, ActionType.UpdatePodLabel, `${resource}UpdatePodLabel`));
  if (requestsScaledDown(oldPod, newPod)) out.push(event(resource, ActionType.UpdatePodScaleDown, `${resource}UpdatePodScaleDown`));
  if (!sameJSON(oldPod.spec?.tolerations, newPod.spec?.tolerations)) {
    out.push(event(resource, ActionType.UpdatePodTolerations, `${resource}UpdatePodTolerations`));
  }
  if ((oldPod.spec?.schedulingGates?.length ?? 0) > 0 && (newPod.spec?.schedulingGates?.length ?? 0) === 0) {
    out.push(event(resource, ActionType.UpdatePodSchedulingGatesEliminated, `${resource}UpdatePodSchedulingGatesEliminated`));
  }
  if (out.length === 0) out.push(event(resource, ActionType.UpdateOther, `${resource}Update`));
  return out;
}

/** The old and new object of a hint's event as the expected type; a hint throws (so the pod is queued) otherwise. */
export function asObjects<T>(oldObj: unknown, newObj: unknown): { oldObj: T | undefined; newObj: T | undefined } {
  const check = (o: unknown): T | undefined => {
    if (o === undefined || o === null) return undefined;
    if (typeof o !== 'object') throw new Error(`unexpected object of type ${typeof o}`);
    return o as T;
  };
  return { oldObj: check(oldObj), newObj: check(newObj) };
}

/** Two objects are the same pod (hints about the rejected pod's own updates). */
export const samePod = (a: Pod | undefined, b: Pod): boolean =>
  !!a && (a.metadata?.uid ? a.metadata.uid === b.metadata?.uid : a.metadata?.namespace === b.metadata?.namespace && a.metadata?.name === b.metadata?.name);

/** A plugin's registration for `actionType` on `resource`, with its hint (labelled after the plugin for logs). */
export function registerFor(resource: EventResource, actionType: number, queueingHintFn?: QueueingHintFn): ClusterEventWithHint {
  return { event: { resource, actionType, label: `${resource}/${actionType}` }, ...(queueingHintFn ? { queueingHintFn } : {}) };
}

/** Names of the claims the pod's volumes use (generic ephemeral volumes' claims are <pod>-<volume>). */
export function podClaimNames(pod: Pod): string[] {
  const out: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName) out.push(v.persistentVolumeClaim.claimName);
    else if (v.ephemeral) out.push(`${pod.metadata?.name ?? ''}-${v.name}`);
  }
  return out;
}

/** A hint for claim events: Queue only when the claim is one the pod uses (upstream's PVC hints). */
export function claimUsedByPod(pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
  const { oldObj: oldClaim, newObj: claim } = asObjects<{ metadata?: { name?: string; namespace?: string } }>(oldObj, newObj);
  const c = claim ?? oldClaim;
  if (!c || (c.metadata?.namespace ?? '') !== (pod.metadata?.namespace ?? '')) return QueueingHint.QueueSkip;
  return podClaimNames(pod).includes(c.metadata?.name ?? '') ? QueueingHint.Queue : QueueingHint.QueueSkip;
}

/** The deleted object of a Delete event that was a pod on a node; undefined otherwise (unscheduled pods free nothing). */
export function deletedAssignedPod(oldObj: unknown, newObj: unknown): Pod | undefined {
  const { oldObj: oldPod, newObj: newPod } = asObjects<Pod>(oldObj, newObj);
  if (newPod || !oldPod?.spec?.nodeName) return undefined;
  return oldPod;
}

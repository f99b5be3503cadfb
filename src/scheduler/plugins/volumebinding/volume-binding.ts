// Upstream's VolumeBinding plugin and its volume binder (pkg/scheduler/framework/plugins/volumebinding): a pod's
// bound claims must have volumes whose node affinity admits the node; its unbound WaitForFirstConsumer claims need a
// matching Available volume the node can reach (or a class that can provision there). Reserve assumes the chosen
// volumes for the pod; PreBind writes the bindings (pv.spec.claimRef, or the selected-node annotation on a claim to
// provision) and waits until the PersistentVolume controller has completed them.
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod, Volume } from 'kubernetes-types/core/v1.js';
import type { CSIDriver, CSINode, CSIStorageCapacity, StorageClass } from 'kubernetes-types/storage/v1.js';
import { realClock, type Clock } from '../../../client/index.js';
import { labelSelectorMatches } from '../../../machinery/labels.js';
import { NodeSelectorMatcher } from '../../../machinery/nodeaffinity.js';
import { parseQuantity, type Quantity } from '../../../machinery/quantity.js';
import {
  ANN_BIND_COMPLETED,
  ANN_SELECTED_NODE,
  NOT_SUPPORTED_PROVISIONER,
  bindVolumeToClaim,
  checkNodeAffinity,
  claimClass,
  claimKey,
  compareResourceVersion,
  findMatchingVolume,
  hasAnnotation,
  isDelayBindingMode,
  requestedStorage,
  volumeClass,
  volumeStorage,
} from '../../../machinery/storage-volume.js';
import { ActionType, QueueingHint, UPDATE, asObjects, claimUsedByPod, podClaimNames, registerFor, type ClusterEventWithHint, type EnqueueExtensions } from '../../framework/events.js';
import type { CycleState } from '../../framework/cycle-state.js';
import type { FilterPlugin, PreBindPlugin, PreFilterPlugin, PreFilterResult, PreScorePlugin, ReservePlugin, ScorePlugin } from '../../framework/interfaces.js';
import { MAX_NODE_SCORE } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node-info.js';
import { Status, type MaybeStatus } from '../../framework/status.js';
import { brokenLinearFunction, MAX_CUSTOM_PRIORITY_SCORE, type FunctionShapePoint } from '../noderesources/scorers.js';
import type { VolumeListers } from '../volumezone/volume-zone.js';
import { AssumeCache } from './assume-cache.js';

export const VOLUME_BINDING = 'VolumeBinding';
const STATE_KEY = VOLUME_BINDING;

/** Upstream's ConflictReasons. */
export const ERR_REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const ERR_REASON_NODE_CONFLICT = 'node(s) had volume node affinity conflict';
export const ERR_REASON_NOT_ENOUGH_SPACE = 'node(s) did not have enough free storage';
export const ERR_REASON_PV_NOT_EXIST = 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';
export const ERR_UNBOUND_IMMEDIATE = 'pod has unbound immediate PersistentVolumeClaims';

/** kube-scheduler's default VolumeBindingArgs.bindTimeoutSeconds. */
export const DEFAULT_BIND_TIMEOUT_SECONDS = 600;
const HOSTNAME_LABEL = 'kubernetes.io/hostname';

export interface VolumeBindingArgs {
  bindTimeoutSeconds?: number;
  /**
   * Utilization → score points (scores 0..10) for scoring nodes by how full the chosen static volumes are. Upstream
   * accepts it only with the VolumeCapacityPriority feature gate; here setting it is what turns scoring on.
   */
  shape?: FunctionShapePoint[];
}

/** What the plugin reads and writes beyond the volume listers every volume plugin shares. */
export interface VolumeBindingListers extends VolumeListers {
  listPVs?: () => Iterable<PersistentVolume>;
  listPVCs?: () => Iterable<PersistentVolumeClaim>;
  getNode?: (name: string) => Node | undefined;
  getPod?: (namespace: string, name: string) => Pod | undefined;
  updatePV?: (pv: PersistentVolume) => Promise<PersistentVolume>;
  updatePVC?: (pvc: PersistentVolumeClaim) => Promise<PersistentVolumeClaim>;
  /** CSI drivers by name, and every reported CSIStorageCapacity (storage capacity tracking). */
  getCSIDriver?: (name: string) => CSIDriver | undefined;
  listCSIStorageCapacities?: () => Iterable<CSIStorageCapacity>;
  /** Time for PreBind's polling (tests inject a FakeClock). */
  clock?: Clock;
  /** How often PreBind checks the bindings (upstream: every second). */
  pollIntervalMs?: number;
}

interface BindingInfo {
  pv: PersistentVolume;
  pvc: PersistentVolumeClaim;
}

interface PodVolumes {
  staticBindings?: BindingInfo[];
  dynamicProvisions?: PersistentVolumeClaim[];
}

interface PodVolumeClaims {
  boundClaims: PersistentVolumeClaim[];
  unboundClaimsDelayBinding: PersistentVolumeClaim[];
  unboundClaimsImmediate: PersistentVolumeClaim[];
  /** Candidate volumes per class of the delay-binding claims. */
  unboundVolumesDelayBinding: Map<string, PersistentVolume[]>;
}

interface StateData {
  podVolumeClaims?: PodVolumeClaims;
  podVolumesByNode: Map<string, PodVolumes>;
  hasStaticBindings: boolean;
  allBound: boolean;
}

/** The claim a pod volume refers to (generic ephemeral volumes' claims are <pod>-<volume>). */
function claimNameOf(pod: Pod, v: Volume): { name: string; ephemeral: boolean } | undefined {
  if (v.persistentVolumeClaim) return { name: v.persistentVolumeClaim.claimName, ephemeral: false };
  if (v.ephemeral) return { name: `${pod.metadata?.name ?? ''}-${v.name}`, ephemeral: true };
  return undefined;
}

const isPVCFullyBound = (pvc: PersistentVolumeClaim): boolean => !!pvc.spec?.volumeName && hasAnnotation(pvc, ANN_BIND_COMPLETED);

/** Upstream's GetLocalPersistentVolumeNodeNames: the hostnames a local volume's affinity names with "In". */
function localVolumeNodeNames(pv: PersistentVolume): string[] {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms) return [];
  const result = new Set<string>();
  for (const term of terms) {
    let nodes: Set<string> | undefined;
    for (const e of term.matchExpressions ?? []) {
      if (e.key !== HOSTNAME_LABEL || e.operator !== 'In') continue;
      const values = new Set(e.values ?? []);
      nodes = nodes ? new Set([...nodes].filter((n) => values.has(n))) : values;
    }
    for (const n of nodes ?? []) result.add(n);
  }
  return [...result];
}

/** The largest volume a capacity admits: maximumVolumeSize when reported (more precise), else capacity. */
function volumeLimit(cap: CSIStorageCapacity): Quantity | undefined {
  const q = cap.maximumVolumeSize ?? cap.capacity;
  return q === undefined || q === null ? undefined : parseQuantity(String(q));
}

/** Upstream's nodeHasAccess: a capacity without a topology is available nowhere; only label matching is supported. */
function nodeHasAccess(node: Node, cap: CSIStorageCapacity): boolean {
  return !!cap.nodeTopology && labelSelectorMatches(cap.nodeTopology, node.metadata?.labels ?? {});
}

/** Whether a node's labels satisfy a class's allowedTopologies (upstream's MatchTopologySelectorTerms). */
function matchesAllowedTopologies(sc: StorageClass, labels: Record<string, string> | undefined): boolean {
  const terms = sc.allowedTopologies ?? [];
  if (terms.length === 0) return true;
  const matcher = new NodeSelectorMatcher({
    nodeSelectorTerms: terms.map((t) => ({ matchExpressions: (t.matchLabelExpressions ?? []).map((e) => ({ key: e.key, operator: 'In', values: e.values })) })),
  });
  return matcher.matches({ metadata: { labels: labels ?? {} } });
}

export class VolumeBinding implements PreFilterPlugin, FilterPlugin, ReservePlugin, PreBindPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = VOLUME_BINDING;

  /**
   * Classes (missing or with the wrong topology), the pod's own claims, volumes that appear or change, nodes whose
   * labels a volume's node affinity or a class's allowed topologies look at, and CSINodes (for migrated drivers).
   */
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      registerFor('StorageClass', ActionType.Add),
      registerFor('StorageClass', UPDATE, (pod, o, n) => this.isSchedulableAfterStorageClassChange(pod, o, n)),
      registerFor('PersistentVolumeClaim', ActionType.Add | UPDATE, claimUsedByPod),
      registerFor('PersistentVolume', ActionType.Add | UPDATE),
      registerFor('Node', ActionType.Add | ActionType.UpdateNodeLabel | ActionType.UpdateNodeTaint),
      registerFor('CSINode', ActionType.Add | UPDATE, (pod, o, n) => this.isSchedulableAfterCSINodeChange(pod, o, n)),
      // Storage capacity tracking: a driver that stops asking for capacity checks, or capacity reported or grown.
      registerFor('CSIDriver', UPDATE, (pod, o, n) => this.isSchedulableAfterCSIDriverChange(pod, o, n)),
      registerFor('CSIStorageCapacity', ActionType.Add | UPDATE, (pod, o, n) => this.isSchedulableAfterCSIStorageCapacityChange(pod, o, n)),
    ];
  }

  /**
   * Upstream's isSchedulableAfterCSIStorageCapacityChange: only a capacity for the class of one of the pod's claims
   * can help (a claim that is missing throws, so the pod is queued), and then a new capacity, or one whose volume
   * limit (maximumVolumeSize, else capacity) grew.
   */
  isSchedulableAfterCSIStorageCapacityChange(pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
    const { oldObj: oldCap, newObj: cap } = asObjects<CSIStorageCapacity>(oldObj, newObj);
    if (!cap) return QueueingHint.QueueSkip;
    const ns = pod.metadata?.namespace ?? '';
    const classes = new Set<string>();
    for (const name of podClaimNames(pod)) {
      const pvc = this.l.getPVC?.(ns, name);
      if (!pvc) throw new Error(`persistentvolumeclaim ${JSON.stringify(name)} not found`);
      classes.add(claimClass(pvc));
    }
    if (!classes.has(cap.storageClassName ?? '')) return QueueingHint.QueueSkip;
    if (!oldCap) return QueueingHint.Queue;
    const before = volumeLimit(oldCap);
    const after = volumeLimit(cap);
    return after && (!before || after.cmp(before) > 0) ? QueueingHint.Queue : QueueingHint.QueueSkip;
  }

  /**
   * Upstream's isSchedulableAfterCSIDriverChange: a driver whose storage capacity tracking was turned off, for a pod
   * with an inline CSI volume of that driver (as upstream reads it: claims provisioned by the driver are not looked at).
   */
  isSchedulableAfterCSIDriverChange(pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
    const { oldObj: oldDriver, newObj: driver } = asObjects<CSIDriver>(oldObj, newObj);
    if (!oldDriver || !driver) return QueueingHint.QueueSkip;
    const name = driver.metadata?.name ?? '';
    const turnedOff = oldDriver.spec?.storageCapacity === true && driver.spec?.storageCapacity !== true;
    return turnedOff && (pod.spec?.volumes ?? []).some((v) => v.csi?.driver === name) ? QueueingHint.Queue : QueueingHint.QueueSkip;
  }

  /** An updated class helps only through its allowed topologies (the rest of a class is immutable). */
  isSchedulableAfterStorageClassChange(_pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
    const { oldObj: oldClass, newObj: cls } = asObjects<StorageClass>(oldObj, newObj);
    if (!cls) return QueueingHint.QueueSkip;
    if (!oldClass) return QueueingHint.Queue;
    return JSON.stringify(oldClass.allowedTopologies ?? []) !== JSON.stringify(cls.allowedTopologies ?? []) ? QueueingHint.Queue : QueueingHint.QueueSkip;
  }

  /** A new CSINode, or a change of the in-tree plugins it says are migrated to CSI. */
  isSchedulableAfterCSINodeChange(_pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint {
    const { oldObj: oldNode, newObj: node } = asObjects<CSINode>(oldObj, newObj);
    if (!node) return QueueingHint.QueueSkip;
    if (!oldNode) return QueueingHint.Queue;
    const key = 'storage.alpha.kubernetes.io/migrated-plugins';
    return oldNode.metadata?.annotations?.[key] !== node.metadata?.annotations?.[key] ? QueueingHint.Queue : QueueingHint.QueueSkip;
  }
  private readonly pvCache: AssumeCache<PersistentVolume>;
  private readonly pvcCache: AssumeCache<PersistentVolumeClaim>;
  private readonly bindTimeoutMs: number;
  private readonly clock: Clock;
  private readonly scorer?: (classes: Map<string, { requested: number; capacity: number }>) => number;

  constructor(
    args: VolumeBindingArgs = {},
    private readonly l: VolumeBindingListers = {},
  ) {
    const timeout = args.bindTimeoutSeconds ?? DEFAULT_BIND_TIMEOUT_SECONDS;
    if (!Number.isInteger(timeout) || timeout < 0) throw new Error(`bindTimeoutSeconds: Invalid value: ${timeout}: invalid BindTimeoutSeconds, should not be a negative value`);
    this.bindTimeoutMs = timeout * 1000;
    this.clock = l.clock ?? realClock;
    this.pvCache = new AssumeCache<PersistentVolume>('persistentvolume', (k) => l.getPV?.(k), () => l.listPVs?.() ?? []);
    this.pvcCache = new AssumeCache<PersistentVolumeClaim>(
      'persistentvolumeclaim',
      (k) => {
        const i = k.indexOf('/');
        return l.getPVC?.(k.slice(0, i), k.slice(i + 1));
      },
      () => l.listPVCs?.() ?? [],
    );
    if (args.shape?.length) {
      const fn = brokenLinearFunction(args.shape.map((p) => ({ utilization: p.utilization, score: p.score * (MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE) })));
      const f = (requested: number, capacity: number): number => (capacity === 0 || requested > capacity ? fn(100) : fn(Math.trunc((requested * 100) / capacity)));
      this.scorer = (classes) => {
        if (classes.size === 0) return 0;
        let sum = 0;
        for (const r of classes.values()) sum += f(r.requested, r.capacity);
        return Math.round(sum / classes.size);
      };
    }
  }

  private getClass = (name: string): StorageClass | undefined => this.l.getStorageClass?.(name);

  // ---- PreFilter ----

  /** Upstream's podHasPVCs: whether the pod uses claims, and the error that makes it unschedulable outright. */
  private podHasPVCs(pod: Pod): { has: boolean; error?: string } {
    let has = false;
    const ns = pod.metadata?.namespace ?? '';
    for (const v of pod.spec?.volumes ?? []) {
      const ref = claimNameOf(pod, v);
      if (!ref) continue;
      has = true;
      const pvc = this.l.getPVC?.(ns, ref.name);
      if (!pvc) {
        return { has, error: ref.ephemeral ? `waiting for ephemeral volume controller to create the persistentvolumeclaim ${JSON.stringify(ref.name)}` : `persistentvolumeclaim ${JSON.stringify(ref.name)} not found` };
      }
      if (pvc.status?.phase === 'Lost') return { has, error: `persistentvolumeclaim ${JSON.stringify(ref.name)} bound to non-existent persistentvolume ${JSON.stringify(pvc.spec?.volumeName ?? '')}` };
      if (pvc.metadata?.deletionTimestamp) return { has, error: `persistentvolumeclaim ${JSON.stringify(ref.name)} is being deleted` };
      if (ref.ephemeral) {
        const owner = pvc.metadata?.ownerReferences?.find((o) => o.controller);
        if (!owner || owner.uid !== pod.metadata?.uid) return { has, error: `PVC ${ns}/${ref.name} was not created for pod ${ns}/${pod.metadata?.name ?? ''} (pod is not owner)` };
      }
    }
    return { has };
  }

  /** Upstream's GetPodVolumeClaims: bound claims, unbound WaitForFirstConsumer claims and unbound immediate ones. */
  private getPodVolumeClaims(pod: Pod): PodVolumeClaims {
    const out: PodVolumeClaims = { boundClaims: [], unboundClaimsDelayBinding: [], unboundClaimsImmediate: [], unboundVolumesDelayBinding: new Map() };
    const ns = pod.metadata?.namespace ?? '';
    for (const v of pod.spec?.volumes ?? []) {
      const ref = claimNameOf(pod, v);
      if (!ref) continue;
      const key = `${ns}/${ref.name}`;
      const pvc = this.pvcCache.get(key);
      if (!pvc) throw new Error(`error getting PVC ${JSON.stringify(key)}: persistentvolumeclaim ${JSON.stringify(ref.name)} not found`);
      if (isPVCFullyBound(pvc)) {
        out.boundClaims.push(pvc);
      } else if (isDelayBindingMode(pvc, this.getClass) && !pvc.spec?.volumeName) {
        out.unboundClaimsDelayBinding.push(pvc);
      } else {
        // Immediate claims (and claims naming a volume) are the controller's to bind before the pod can go anywhere.
        out.unboundClaimsImmediate.push(pvc);
      }
    }
    for (const pvc of out.unboundClaimsDelayBinding) {
      const cls = claimClass(pvc);
      if (!out.unboundVolumesDelayBinding.has(cls)) out.unboundVolumesDelayBinding.set(cls, this.pvCache.list((pv) => volumeClass(pv) === cls));
    }
    return out;
  }

  /** Upstream's GetEligibleNodes: the nodes named by bound local volumes' hostname affinity (all of them at once). */
  private eligibleNodes(boundClaims: readonly PersistentVolumeClaim[]): Set<string> | undefined {
    let eligible: Set<string> | undefined;
    for (const pvc of boundClaims) {
      const pv = this.pvCache.get(pvc.spec?.volumeName ?? '');
      if (!pv) return undefined;
      const names = localVolumeNodeNames(pv);
      if (names.length === 0) continue;
      eligible = eligible ? new Set(names.filter((n) => eligible!.has(n))) : new Set(names);
    }
    return eligible;
  }

  preFilter(state: CycleState, pod: Pod): { result?: PreFilterResult; status?: Status } | undefined {
    const { has, error } = this.podHasPVCs(pod);
    if (error) return { status: Status.unresolvable(error) };
    if (!has) {
      state.write(STATE_KEY, { podVolumesByNode: new Map(), hasStaticBindings: false, allBound: true } satisfies StateData);
      return { status: Status.skip() };
    }
    let claims: PodVolumeClaims;
    try {
      claims = this.getPodVolumeClaims(pod);
    } catch (err) {
      return { status: Status.fromError(err) };
    }
    if (claims.unboundClaimsImmediate.length > 0) return { status: Status.unresolvable(ERR_UNBOUND_IMMEDIATE) };
    const eligible = this.eligibleNodes(claims.boundClaims);
    state.write(STATE_KEY, { podVolumeClaims: claims, podVolumesByNode: new Map(), hasStaticBindings: false, allBound: false } satisfies StateData);
    return eligible ? { result: { nodeNames: eligible } } : undefined;
  }

  // ---- Filter ----

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    const node = nodeInfo.node;
    if (!node) return Status.fromError(new Error('node not found'));
    let s: StateData;
    try {
      s = state.read<StateData>(STATE_KEY);
    } catch (err) {
      return Status.fromError(err);
    }
    if (!s.podVolumeClaims) return undefined;
    let found: { podVolumes: PodVolumes; reasons: string[] };
    try {
      found = this.findPodVolumes(pod, s.podVolumeClaims, node);
    } catch (err) {
      return Status.fromError(err);
    }
    if (found.reasons.length) return Status.unresolvable(...found.reasons);
    s.podVolumesByNode.set(node.metadata?.name ?? '', found.podVolumes);
    if (found.podVolumes.staticBindings?.length) s.hasStaticBindings = true;
    return undefined;
  }

  /** Upstream's FindPodVolumes for one node. */
  private findPodVolumes(pod: Pod, claims: PodVolumeClaims, node: Node): { podVolumes: PodVolumes; reasons: string[] } {
    let boundSatisfied = true;
    let boundPVsFound = true;
    let unboundSatisfied = true;
    let sufficientStorage = true;
    const podVolumes: PodVolumes = {};
    const reasons = (): string[] => {
      const r: string[] = [];
      if (!boundSatisfied) r.push(ERR_REASON_NODE_CONFLICT);
      if (!unboundSatisfied) r.push(ERR_REASON_BIND_CONFLICT);
      if (!sufficientStorage) r.push(ERR_REASON_NOT_ENOUGH_SPACE);
      if (!boundPVsFound) r.push(ERR_REASON_PV_NOT_EXIST);
      return r;
    };
    for (const pvc of claims.boundClaims) {
      const pv = this.pvCache.get(pvc.spec?.volumeName ?? '');
      // As upstream's checkBoundClaims: the first problem decides, the unbound claims are still looked at.
      if (!pv) {
        boundPVsFound = false;
        break;
      }
      if (checkNodeAffinity(pv, node.metadata?.labels) !== undefined) {
        boundSatisfied = false;
        break;
      }
    }
    if (claims.unboundClaimsDelayBinding.length > 0) {
      const toMatch: PersistentVolumeClaim[] = [];
      let toProvision: PersistentVolumeClaim[] = [];
      for (const pvc of claims.unboundClaimsDelayBinding) {
        const selected = pvc.metadata?.annotations?.[ANN_SELECTED_NODE];
        if (selected !== undefined) {
          if (selected !== node.metadata?.name) {
            unboundSatisfied = false;
            return { podVolumes, reasons: reasons() };
          }
          toProvision.push(pvc);
        } else {
          toMatch.push(pvc);
        }
      }
      if (toMatch.length > 0) {
        const m = this.findMatchingVolumes(toMatch, claims.unboundVolumesDelayBinding, node);
        unboundSatisfied = m.foundMatches;
        if (m.bindings.length) podVolumes.staticBindings = m.bindings;
        toProvision = [...toProvision, ...m.unbound];
      }
      if (toProvision.length > 0) {
        const p = this.checkVolumeProvisions(toProvision, node);
        unboundSatisfied = p.satisfied;
        sufficientStorage = p.sufficient;
        if (p.provisions.length) podVolumes.dynamicProvisions = p.provisions;
      }
    }
    return { podVolumes, reasons: reasons() };
  }

  /** Smallest claims first, each taking the smallest fitting volume no other claim of the pod took. */
  private findMatchingVolumes(
    claims: PersistentVolumeClaim[],
    candidates: Map<string, PersistentVolume[]>,
    node: Node,
  ): { foundMatches: boolean; bindings: BindingInfo[]; unbound: PersistentVolumeClaim[] } {
    const sorted = [...claims].sort((a, b) => requestedStorage(a).cmp(requestedStorage(b)));
    const chosen = new Set<string>();
    const bindings: BindingInfo[] = [];
    const unbound: PersistentVolumeClaim[] = [];
    let foundMatches = true;
    for (const pvc of sorted) {
      const pv = findMatchingVolume(pvc, candidates.get(claimClass(pvc)) ?? [], node, chosen, true);
      if (!pv) {
        unbound.push(pvc);
        foundMatches = false;
        continue;
      }
      chosen.add(pv.metadata?.name ?? '');
      bindings.push({ pv, pvc });
    }
    return { foundMatches, bindings, unbound };
  }

  /** Upstream's checkVolumeProvisions: the class must provision, and be allowed on the node's topology. */
  private checkVolumeProvisions(claims: PersistentVolumeClaim[], node: Node): { satisfied: boolean; sufficient: boolean; provisions: PersistentVolumeClaim[] } {
    const provisions: PersistentVolumeClaim[] = [];
    for (const pvc of claims) {
      const cls = claimClass(pvc);
      if (!cls) throw new Error(`no class for claim ${JSON.stringify(claimKey(pvc))}`);
      const sc = this.getClass(cls);
      if (!sc) throw new Error(`failed to find storage class ${JSON.stringify(cls)}`);
      if (!sc.provisioner || sc.provisioner === NOT_SUPPORTED_PROVISIONER) return { satisfied: false, sufficient: true, provisions: [] };
      if (!matchesAllowedTopologies(sc, node.metadata?.labels)) return { satisfied: false, sufficient: true, provisions: [] };
      if (!this.hasEnoughCapacity(sc.provisioner, pvc, sc, node)) return { satisfied: true, sufficient: false, provisions: [] };
      provisions.push(pvc);
    }
    return { satisfied: true, sufficient: true, provisions };
  }

  /**
   * Upstream's hasEnoughCapacity: for a driver that opts into storage capacity tracking (CSIDriver storageCapacity),
   * some CSIStorageCapacity of the claim's class must admit the requested size and be reachable from the node. A
   * claim without a storage request, or a provisioner that is no such driver, has nothing to check.
   */
  private hasEnoughCapacity(provisioner: string, claim: PersistentVolumeClaim, sc: StorageClass, node: Node): boolean {
    const request = claim.spec?.resources?.requests?.['storage'];
    if (request === undefined) return true;
    const driver = this.l.getCSIDriver?.(provisioner);
    if (driver?.spec?.storageCapacity !== true) return true;
    const size = parseQuantity(String(request));
    const cls = sc.metadata?.name ?? '';
    for (const cap of this.l.listCSIStorageCapacities?.() ?? []) {
      if (cap.storageClassName !== cls) continue;
      const limit = volumeLimit(cap);
      if (limit && limit.cmp(size) >= 0 && nodeHasAccess(node, cap)) return true;
    }
    return false;
  }

  // ---- Reserve / Unreserve ----

  reserve(state: CycleState, pod: Pod, nodeName: string): MaybeStatus {
    let s: StateData;
    try {
      s = state.read<StateData>(STATE_KEY);
    } catch (err) {
      return Status.fromError(err);
    }
    const podVolumes = s.podVolumesByNode.get(nodeName);
    if (!podVolumes) {
      s.allBound = true;
      return undefined;
    }
    try {
      s.allBound = this.assumePodVolumes(pod, nodeName, podVolumes);
    } catch (err) {
      return Status.fromError(err);
    }
    return undefined;
  }

  /** Upstream's AssumePodVolumes: the chosen volumes point at their claims, claims to provision name the node. */
  private assumePodVolumes(pod: Pod, nodeName: string, podVolumes: PodVolumes): boolean {
    if (this.arePodVolumesBound(pod)) return true;
    const bindings: BindingInfo[] = [];
    const provisioned: PersistentVolumeClaim[] = [];
    try {
      for (const b of podVolumes.staticBindings ?? []) {
        const { pv, dirty } = bindVolumeToClaim(b.pv, b.pvc);
        if (dirty) this.pvCache.assume(pv);
        bindings.push({ pv, pvc: b.pvc });
      }
      for (const claim of podVolumes.dynamicProvisions ?? []) {
        const clone = structuredClone(claim);
        clone.metadata = { ...clone.metadata, annotations: { ...clone.metadata?.annotations, [ANN_SELECTED_NODE]: nodeName } };
        this.pvcCache.assume(clone);
        provisioned.push(clone);
      }
    } catch (err) {
      for (const b of bindings) this.pvCache.restore(b.pv.metadata?.name ?? '');
      for (const c of provisioned) this.pvcCache.restore(claimKey(c));
      throw err;
    }
    podVolumes.staticBindings = bindings;
    podVolumes.dynamicProvisions = provisioned;
    return false;
  }

  private arePodVolumesBound(pod: Pod): boolean {
    const ns = pod.metadata?.namespace ?? '';
    for (const v of pod.spec?.volumes ?? []) {
      const ref = claimNameOf(pod, v);
      if (!ref) continue;
      const pvc = this.pvcCache.get(`${ns}/${ref.name}`);
      if (!pvc || !isPVCFullyBound(pvc)) return false;
    }
    return true;
  }

  unreserve(state: CycleState, _pod: Pod, nodeName: string): void {
    if (!state.has(STATE_KEY)) return;
    const podVolumes = state.read<StateData>(STATE_KEY).podVolumesByNode.get(nodeName);
    if (!podVolumes) return;
    for (const b of podVolumes.staticBindings ?? []) this.pvCache.restore(b.pv.metadata?.name ?? '');
    for (const c of podVolumes.dynamicProvisions ?? []) this.pvcCache.restore(claimKey(c));
  }

  // ---- PreBind ----

  async preBind(state: CycleState, pod: Pod, nodeName: string): Promise<MaybeStatus> {
    let s: StateData;
    try {
      s = state.read<StateData>(STATE_KEY);
    } catch (err) {
      return Status.fromError(err);
    }
    if (s.allBound) return undefined;
    const podVolumes = s.podVolumesByNode.get(nodeName);
    if (!podVolumes) return Status.fromError(new Error(`no pod volumes found for node ${JSON.stringify(nodeName)}`));
    try {
      await this.bindPodVolumes(pod, nodeName, podVolumes);
    } catch (err) {
      return Status.fromError(err);
    }
    return undefined;
  }

  /** Upstream's BindPodVolumes: write the bindings, then poll until the controller has completed them all. */
  private async bindPodVolumes(pod: Pod, nodeName: string, podVolumes: PodVolumes): Promise<void> {
    const bindings = podVolumes.staticBindings ?? [];
    const provisions = podVolumes.dynamicProvisions ?? [];
    const { updatePV, updatePVC } = this.l;
    if ((bindings.length && !updatePV) || (provisions.length && !updatePVC)) throw new Error('volume binding needs an API client');
    const written: BindingInfo[] = [];
    for (const b of bindings) {
      const pv = await updatePV!(b.pv);
      this.pvCache.assume(pv);
      written.push({ pv, pvc: b.pvc });
    }
    const writtenClaims: PersistentVolumeClaim[] = [];
    for (const c of provisions) {
      const pvc = await updatePVC!(c);
      this.pvcCache.assume(pvc);
      writtenClaims.push(pvc);
    }
    const deadline = this.clock.now() + this.bindTimeoutMs;
    const interval = this.l.pollIntervalMs ?? 1000;
    for (;;) {
      await this.clock.sleep(interval);
      if (this.checkBindings(pod, nodeName, written, writtenClaims)) return;
      if (this.clock.now() >= deadline) throw new Error('binding volumes: context deadline exceeded');
    }
  }

  /** Upstream's checkBindings: true once everything is bound; throws when the binding cannot happen any more. */
  private checkBindings(pod: Pod, nodeName: string, bindings: readonly BindingInfo[], claims: readonly PersistentVolumeClaim[]): boolean {
    const node = this.l.getNode?.(nodeName);
    if (!node) throw new Error(`failed to get node ${JSON.stringify(nodeName)}: node ${JSON.stringify(nodeName)} not found`);
    const ns = pod.metadata?.namespace ?? '';
    if (this.l.getPod && !this.l.getPod(ns, pod.metadata?.name ?? '')) {
      throw new Error(`pod does not exist any more: pods ${JSON.stringify(pod.metadata?.name ?? '')} not found`);
    }
    for (const b of bindings) {
      const name = b.pv.metadata?.name ?? '';
      const pv = this.l.getPV?.(name);
      if (!pv) throw new Error(`failed to check binding: persistentvolume ${JSON.stringify(name)} not found`);
      const pvc = this.l.getPVC?.(b.pvc.metadata?.namespace ?? '', b.pvc.metadata?.name ?? '');
      if (!pvc) throw new Error(`failed to check binding: persistentvolumeclaim ${JSON.stringify(claimKey(b.pvc))} not found`);
      if (compareResourceVersion(b.pv.metadata?.resourceVersion, pv.metadata?.resourceVersion) > 0) return false;
      const affinity = checkNodeAffinity(pv, node.metadata?.labels);
      if (affinity) throw new Error(`pv ${JSON.stringify(name)} node affinity doesn't match node ${JSON.stringify(nodeName)}: ${affinity}`);
      if (!pv.spec?.claimRef?.uid) throw new Error(`ClaimRef got reset for pv ${JSON.stringify(name)}`);
      if (!isPVCFullyBound(pvc)) return false;
    }
    for (const c of claims) {
      const pvc = this.l.getPVC?.(c.metadata?.namespace ?? '', c.metadata?.name ?? '');
      if (!pvc) throw new Error(`failed to check provisioning pvc: persistentvolumeclaim ${JSON.stringify(claimKey(c))} not found`);
      if (compareResourceVersion(c.metadata?.resourceVersion, pvc.metadata?.resourceVersion) > 0) return false;
      const selected = pvc.metadata?.annotations?.[ANN_SELECTED_NODE];
      if (selected === undefined) throw new Error(`selectedNode annotation reset for PVC ${JSON.stringify(pvc.metadata?.name ?? '')}`);
      if (selected !== nodeName) throw new Error(`provisioning failed for PVC ${JSON.stringify(pvc.metadata?.name ?? '')}`);
      if (pvc.spec?.volumeName) {
        const pv = this.l.getPV?.(pvc.spec.volumeName);
        if (!pv) return false;
        const affinity = checkNodeAffinity(pv, node.metadata?.labels);
        if (affinity) throw new Error(`pv ${JSON.stringify(pv.metadata?.name ?? '')} node affinity doesn't match node ${JSON.stringify(nodeName)}: ${affinity}`);
      }
      if (!isPVCFullyBound(pvc)) return false;
    }
    return true;
  }

  // ---- PreScore / Score ----

  preScore(state: CycleState): MaybeStatus {
    if (!this.scorer) return Status.skip();
    let s: StateData;
    try {
      s = state.read<StateData>(STATE_KEY);
    } catch (err) {
      return Status.fromError(err);
    }
    return s.hasStaticBindings ? undefined : Status.skip();
  }

  score(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): number {
    if (!this.scorer) return 0;
    const s = state.read<StateData>(STATE_KEY);
    const podVolumes = s.podVolumesByNode.get(nodeInfo.node?.metadata?.name ?? '');
    if (!podVolumes) return 0;
    const classes = new Map<string, { requested: number; capacity: number }>();
    for (const b of podVolumes.staticBindings ?? []) {
      const cls = claimClass(b.pvc);
      const r = classes.get(cls) ?? { requested: 0, capacity: 0 };
      r.requested += requestedStorage(b.pvc).value();
      r.capacity += volumeStorage(b.pv).value();
      classes.set(cls, r);
    }
    return this.scorer(classes);
  }
}

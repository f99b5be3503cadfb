// The in-tree plugins by their upstream names, each built from its pluginConfig args.
import { Registry } from '../framework/registry.js';
import { DefaultBinder, DEFAULT_BINDER, type BindFunc } from './defaultbinder/default-binder.js';
import {
  DefaultPreemption,
  DEFAULT_PREEMPTION,
  type DefaultPreemptionArgs,
  type DefaultPreemptionOptions,
} from './defaultpreemption/default-preemption.js';
import { ImageLocality, IMAGE_LOCALITY } from './imagelocality/image-locality.js';
import {
  InterPodAffinity,
  INTER_POD_AFFINITY,
  type InterPodAffinityArgs,
  type InterPodAffinityOptions,
} from './interpodaffinity/inter-pod-affinity.js';
import { NodeAffinity, NODE_AFFINITY, type NodeAffinityArgs } from './nodeaffinity/node-affinity.js';
import { NodeName, NODE_NAME } from './nodename/node-name.js';
import { NodePorts, NODE_PORTS } from './nodeports/node-ports.js';
import {
  NodeResourcesBalancedAllocation,
  NODE_RESOURCES_BALANCED_ALLOCATION,
  type NodeResourcesBalancedAllocationArgs,
} from './noderesources/balanced-allocation.js';
import { NodeResourcesFit, NODE_RESOURCES_FIT, type NodeResourcesFitArgs } from './noderesources/fit.js';
import { NodeUnschedulable, NODE_UNSCHEDULABLE } from './nodeunschedulable/node-unschedulable.js';
import {
  PodTopologySpread,
  POD_TOPOLOGY_SPREAD,
  type PodTopologySpreadArgs,
  type PodTopologySpreadOptions,
} from './podtopologyspread/pod-topology-spread.js';
import { PrioritySort, PRIORITY_SORT } from './queuesort/priority-sort.js';
import { SchedulingGates, SCHEDULING_GATES } from './schedulinggates/scheduling-gates.js';
import { TaintToleration, TAINT_TOLERATION } from './tainttoleration/taint-toleration.js';
import { VolumeZone, VOLUME_ZONE } from './volumezone/volume-zone.js';
import { VolumeBinding, VOLUME_BINDING, type VolumeBindingArgs, type VolumeBindingListers } from './volumebinding/volume-binding.js';
import { NodeVolumeLimits, NODE_VOLUME_LIMITS, type NodeVolumeLimitsListers } from './nodevolumelimits/csi.js';
import { VolumeRestrictions, VOLUME_RESTRICTIONS, type VolumeRestrictionsOptions } from './volumerestrictions/volume-restrictions.js';

/** Plugin args arrive as parsed configuration; anything but an object (or nothing) is a configuration error. */
function argsObject<T>(plugin: string, args: unknown): T {
  if (args === undefined || args === null) return {} as T;
  if (typeof args !== 'object' || Array.isArray(args)) throw new Error(`args of plugin ${plugin} must be an object`);
  return args as T;
}

/** What in-tree plugins need from the running scheduler beyond their args. */
export interface InTreeOptions {
  podTopologySpread?: PodTopologySpreadOptions;
  interPodAffinity?: InterPodAffinityOptions;
  defaultPreemption?: DefaultPreemptionOptions;
  volumeRestrictions?: VolumeRestrictionsOptions;
  /** PersistentVolumeClaim, PersistentVolume, StorageClass (and node, pod) listers and PV/PVC writes for the volume plugins. */
  volumes?: VolumeBindingListers & NodeVolumeLimitsListers;
  /** How DefaultBinder creates Bindings; without it DefaultBinder is not registered. */
  bind?: BindFunc;
}

export function newInTreeRegistry(opts: InTreeOptions = {}): Registry {
  const bind = opts.bind;
  return new Registry({
    ...(bind ? { [DEFAULT_BINDER]: () => new DefaultBinder(bind) } : {}),
    [PRIORITY_SORT]: () => new PrioritySort(),
    [SCHEDULING_GATES]: () => new SchedulingGates(),
    [NODE_NAME]: () => new NodeName(),
    [NODE_UNSCHEDULABLE]: () => new NodeUnschedulable(),
    [NODE_PORTS]: () => new NodePorts(),
    [NODE_RESOURCES_FIT]: (args) => new NodeResourcesFit(argsObject<NodeResourcesFitArgs>(NODE_RESOURCES_FIT, args)),
    [NODE_RESOURCES_BALANCED_ALLOCATION]: (args) =>
      new NodeResourcesBalancedAllocation(argsObject<NodeResourcesBalancedAllocationArgs>(NODE_RESOURCES_BALANCED_ALLOCATION, args)),
    [NODE_AFFINITY]: (args) => new NodeAffinity(argsObject<NodeAffinityArgs>(NODE_AFFINITY, args)),
    [TAINT_TOLERATION]: () => new TaintToleration(),
    [POD_TOPOLOGY_SPREAD]: (args) =>
      new PodTopologySpread(argsObject<PodTopologySpreadArgs>(POD_TOPOLOGY_SPREAD, args), opts.podTopologySpread),
    [IMAGE_LOCALITY]: () => new ImageLocality(),
    [VOLUME_RESTRICTIONS]: () => new VolumeRestrictions(opts.volumeRestrictions ?? opts.volumes),
    [VOLUME_ZONE]: () => new VolumeZone(opts.volumes),
    [NODE_VOLUME_LIMITS]: () => new NodeVolumeLimits(opts.volumes),
    [VOLUME_BINDING]: (args) => new VolumeBinding(argsObject<VolumeBindingArgs>(VOLUME_BINDING, args), opts.volumes),
    [DEFAULT_PREEMPTION]: (args) =>
      new DefaultPreemption(argsObject<DefaultPreemptionArgs>(DEFAULT_PREEMPTION, args), opts.defaultPreemption),
    [INTER_POD_AFFINITY]: (args) =>
      new InterPodAffinity(argsObject<InterPodAffinityArgs>(INTER_POD_AFFINITY, args), opts.interPodAffinity),
  });
}

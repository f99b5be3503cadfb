// Upstream's predicate admit handler (kubelet lifecycle): a pod bound to this node must fit it, as the scheduler would
// have checked, against the pods this kubelet already admitted. Rejection reasons and messages are upstream's:
// OutOfcpu/OutOfmemory/OutOfpods/OutOf<resource> "Node didn't have enough resource: cpu, requested: 4000, used: 100,
// capacity: 2000", "<Plugin>" "Predicate <Plugin> failed: <reason>" for node affinity/selector, node name and host
// ports, "TaintToleration" for an untolerated NoExecute taint (static pods exempt). A critical pod (static, mirror or
// system-critical priority) is never refused for resources: lower pods are preempted for it, as upstream's
// CriticalPodAdmissionHandler does.
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { findMatchingUntoleratedTaint } from '../../machinery/taints.js';
import { admissionCheck } from '../../scheduler/admission.js';
import { NodeInfo } from '../../scheduler/framework/node-info.js';
import { isExtendedResourceName } from '../../scheduler/framework/resources.js';
import { ERR_REASON_POD } from '../../scheduler/plugins/nodeaffinity/node-affinity.js';
import type { InsufficientResource } from '../../scheduler/plugins/noderesources/fit.js';
import { ERR_REASON_NOT_MATCH, TAINT_TOLERATION } from '../../scheduler/plugins/tainttoleration/taint-toleration.js';
import { isCriticalPodType } from '../pods/eviction.js';
import { isStaticPod } from '../pods/static.js';
import type { AdmitResult } from './types.js';
import { podsToPreempt } from './preemption.js';

/** A failed predicate: a resource the node lacks, or a predicate's name and description. */
export type PredicateFailure = { resource: InsufficientResource } | { predicate: string; description: string; resource?: undefined };

/** The node's OS: pods for another OS are refused (upstream compares with runtime.GOOS). */
const NODE_OS = 'linux';

/** Upstream's removeMissingExtendedResources: extended resources the node does not know are not checked. */
function withoutMissingExtendedResources(pod: Pod, nodeInfo: NodeInfo): Pod {
  const filter = <C extends { resources?: { requests?: Record<string, unknown> } }>(cs: C[] | undefined): C[] | undefined =>
    cs?.map((c) => {
      const requests = c.resources?.requests;
      if (!requests) return c;
      const kept = Object.fromEntries(Object.entries(requests).filter(([name]) => !isExtendedResourceName(name) || nodeInfo.allocatable.scalarResources.has(name)));
      return { ...c, resources: { ...c.resources, requests: kept } };
    });
  const spec = pod.spec ?? { containers: [] };
  return { ...pod, spec: { ...spec, containers: filter(spec.containers) ?? [], ...(spec.initContainers ? { initContainers: filter(spec.initContainers) } : {}) } } as Pod;
}

/** Upstream's generalFilter: every failed admission check, then an untolerated NoExecute taint (not for static pods). */
export function generalFilter(pod: Pod, nodeInfo: NodeInfo): PredicateFailure[] {
  const out: PredicateFailure[] = admissionCheck(pod, nodeInfo, true).map((r) =>
    r.insufficientResource ? { resource: r.insufficientResource } : { predicate: r.name, description: r.reason },
  );
  if (!isStaticPod(pod) && findMatchingUntoleratedTaint(nodeInfo.node?.spec?.taints, pod.spec?.tolerations, (t) => t.effect === 'NoExecute')) {
    out.push({ predicate: TAINT_TOLERATION, description: ERR_REASON_NOT_MATCH });
  }
  return out;
}

/** Upstream's InsufficientResourceError text. */
export const insufficientResourceMessage = (r: InsufficientResource): string =>
  `Node didn't have enough resource: ${r.resourceName}, requested: ${r.requested}, used: ${r.used}, capacity: ${r.capacity}`;

/** The rejection for the first failure, as upstream names it. */
export function rejectionFor(f: PredicateFailure): AdmitResult {
  if (f.resource) return { admit: false, reason: `OutOf${f.resource.resourceName}`, message: insufficientResourceMessage(f.resource) };
  return { admit: false, reason: f.predicate, message: `Predicate ${f.predicate} failed: ${f.description}` };
}

export interface PredicateAdmitOptions {
  /** The Node as last seen (`fresh`: read from the API now, as upstream does when only node affinity failed). */
  node(fresh: boolean): Promise<Node | undefined>;
  /** A critical pod is admitted once these are killed (upstream's killPodNow with reason Preempting, which blocks). */
  preempt(pods: Pod[]): Promise<void>;
}

export class PredicateAdmitHandler {
  constructor(private readonly o: PredicateAdmitOptions) {}

  async admit(pod: Pod, otherPods: readonly Pod[]): Promise<AdmitResult> {
    let node = await this.o.node(false);
    if (!node) return { admit: false, reason: 'InvalidNodeInfo', message: 'Kubelet cannot get node info.' };
    const osLabel = pod.metadata?.labels?.['kubernetes.io/os'];
    if (osLabel !== undefined && osLabel !== NODE_OS) {
      return { admit: false, reason: 'PodOSSelectorNodeLabelDoesNotMatch', message: "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label" };
    }
    if (pod.spec?.os?.name !== undefined && pod.spec.os.name !== NODE_OS) {
      return { admit: false, reason: 'PodOSNotSupported', message: "Failed to admit pod as the OS field doesn't match node OS" };
    }
    // Fields newer than kubernetes-types: the pod's securityContext.supplementalGroupsPolicy, the Node's status.features.
    const groupsPolicy = (pod.spec?.securityContext as { supplementalGroupsPolicy?: string } | undefined)?.supplementalGroupsPolicy;
    const nodeFeatures = (node.status as { features?: { supplementalGroupsPolicy?: boolean } } | undefined)?.features;
    if (groupsPolicy === 'Strict' && nodeFeatures?.supplementalGroupsPolicy !== true) {
      return { admit: false, reason: 'SupplementalGroupsPolicyNotSupported', message: 'SupplementalGroupsPolicy=Strict is not supported in this node' };
    }
    const nodeInfo = new NodeInfo(node, otherPods);
    const checked = withoutMissingExtendedResources(pod, nodeInfo);
    let failures = generalFilter(checked, nodeInfo);
    // Only node affinity failed: the cached Node may be stale; read it again and check once more.
    if (failures.length > 0 && failures.every((f) => !f.resource && f.description === ERR_REASON_POD)) {
      node = await this.o.node(true).catch(() => undefined);
      if (node) {
        nodeInfo.setNode(node);
        failures = generalFilter(checked, nodeInfo);
      }
    }
    if (failures.length === 0) return { admit: true };
    return await this.handleFailure(pod, failures, otherPods);
  }

  /** Upstream's CriticalPodAdmissionHandler: a critical pod short only of resources gets them by preemption. */
  private async handleFailure(pod: Pod, failures: PredicateFailure[], otherPods: readonly Pod[]): Promise<AdmitResult> {
    if (!isCriticalPodType(pod)) return rejectionFor(failures[0]!);
    const other = failures.find((f) => !f.resource);
    if (other) return rejectionFor(other);
    const requirements = failures.map((f) => ({ resourceName: f.resource!.resourceName, quantity: f.resource!.requested - (f.resource!.capacity - f.resource!.used) }));
    const victims = podsToPreempt(pod, otherPods, requirements);
    if (typeof victims === 'string') {
      return {
        admit: false,
        reason: 'UnexpectedAdmissionError',
        message: `Unexpected error while attempting to recover from admission failure: preemption: error finding a set of pods to preempt: ${victims}`,
      };
    }
    await this.o.preempt(victims);
    return { admit: true };
  }
}

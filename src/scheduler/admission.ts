// Upstream's scheduler.AdmissionCheck: the filters a pod bound to a node must pass there (node resources, required
// node affinity and nodeSelector, node name, host ports), shared by the scheduler's plugins and the kubelet's
// predicate admission (src/kubelet/admission/predicate.ts), which runs them against the pods it already admitted.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { RequiredNodeAffinity } from '../machinery/nodeaffinity.js';
import type { NodeInfo } from './framework/node-info.js';
import { Resource, podRequests } from './framework/resources.js';
import { ERR_REASON_POD, NODE_AFFINITY } from './plugins/nodeaffinity/node-affinity.js';
import { ERR_REASON_NODE_NAME, NODE_NAME, nodeNameFits } from './plugins/nodename/node-name.js';
import { ERR_REASON_NODE_PORTS, NODE_PORTS, fitsPorts, hostPorts } from './plugins/nodeports/node-ports.js';
import { fitsRequest, type InsufficientResource } from './plugins/noderesources/fit.js';

/** One failed check: a resource the node lacks, or a plugin's name and reason. */
export type AdmissionResult = { insufficientResource: InsufficientResource } | { name: string; reason: string; insufficientResource?: undefined };

/**
 * The checks in upstream's order: every resource the node lacks, then required node affinity, node name and host
 * ports; only the first failure unless `includeAllFailures`.
 */
export function admissionCheck(pod: Pod, nodeInfo: NodeInfo, includeAllFailures: boolean): AdmissionResult[] {
  const out: AdmissionResult[] = [];
  const insufficient = fitsRequest(Resource.fromList(podRequests(pod)), nodeInfo);
  for (const r of insufficient) out.push({ insufficientResource: r });
  if (out.length > 0 && !includeAllFailures) return out;
  const checks: [string, string, () => boolean][] = [
    [NODE_AFFINITY, ERR_REASON_POD, () => !nodeInfo.node || new RequiredNodeAffinity(pod).matches(nodeInfo.node)],
    [NODE_NAME, ERR_REASON_NODE_NAME, () => nodeNameFits(pod, nodeInfo)],
    [NODE_PORTS, ERR_REASON_NODE_PORTS, () => fitsPorts(hostPorts(pod), nodeInfo)],
  ];
  for (const [name, reason, fits] of checks) {
    if (fits()) continue;
    out.push({ name, reason });
    if (!includeAllFailures) return out;
  }
  return out;
}

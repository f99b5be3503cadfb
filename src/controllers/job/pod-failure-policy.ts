// Matching a failed pod against spec.podFailurePolicy (upstream's pod_failure_policy.go): the first rule that matches
// decides; FailJob yields the job's failure message, Ignore means the failure does not count against backoffLimit.
import type { PodFailurePolicy, PodFailurePolicyOnExitCodesRequirement, PodFailurePolicyOnPodConditionsPattern } from 'kubernetes-types/batch/v1.js';
import type { ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';

export type PodFailurePolicyAction = 'FailJob' | 'FailIndex' | 'Ignore' | 'Count';

export interface PodFailurePolicyMatch {
  /** Set when a FailJob rule matched. */
  failJobMessage?: string;
  /** False when an Ignore rule matched. */
  countFailed: boolean;
  action?: PodFailurePolicyAction;
}

export function matchPodFailurePolicy(policy: PodFailurePolicy | undefined, pod: Pod): PodFailurePolicyMatch {
  if (!policy) return { countFailed: true };
  const status = pod.status ?? {};
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    const action = rule.action as PodFailurePolicyAction;
    if (rule.onExitCodes) {
      const cs = matchOnExitCodes(status, rule.onExitCodes);
      if (!cs) continue;
      const exitCode = cs.state?.terminated?.exitCode ?? 0;
      const m = decide(action, () => `Container ${cs.name} for pod ${pod.metadata?.namespace}/${pod.metadata?.name} failed with exit code ${exitCode} matching ${action} rule at index ${index}`);
      if (m) return m;
    } else if (rule.onPodConditions) {
      const cond = matchOnPodConditions(status, rule.onPodConditions);
      if (!cond) continue;
      const m = decide(action, () => `Pod ${pod.metadata?.namespace}/${pod.metadata?.name} has condition ${cond.type} matching ${action} rule at index ${index}`);
      if (m) return m;
    }
  }
  return { countFailed: true };
}

function decide(action: PodFailurePolicyAction, message: () => string): PodFailurePolicyMatch | undefined {
  switch (action) {
    case 'Ignore':
      return { countFailed: false, action };
    case 'Count':
      return { countFailed: true, action };
    case 'FailJob':
      return { failJobMessage: message(), countFailed: true, action };
    case 'FailIndex':
      return { countFailed: true, action };
    default:
      return undefined;
  }
}

function matchOnExitCodes(status: PodStatus, req: PodFailurePolicyOnExitCodesRequirement): ContainerStatus | undefined {
  return firstMatchingContainer(status.containerStatuses ?? [], req) ?? firstMatchingContainer(status.initContainerStatuses ?? [], req);
}

function firstMatchingContainer(statuses: readonly ContainerStatus[], req: PodFailurePolicyOnExitCodesRequirement): ContainerStatus | undefined {
  for (const cs of statuses) {
    const terminated = cs.state?.terminated;
    if (!terminated) continue; // still terminating: no exit code to match
    if (req.containerName !== undefined && req.containerName !== null && req.containerName !== cs.name) continue;
    if (terminated.exitCode === 0) continue;
    const inValues = (req.values ?? []).includes(terminated.exitCode);
    if ((req.operator === 'In' && inValues) || (req.operator === 'NotIn' && !inValues)) return cs;
  }
  return undefined;
}

function matchOnPodConditions(status: PodStatus, patterns: readonly PodFailurePolicyOnPodConditionsPattern[]): PodCondition | undefined {
  for (const c of status.conditions ?? []) {
    for (const p of patterns) if (c.type === p.type && c.status === p.status) return c;
  }
  return undefined;
}

// Pods (upstream pkg/registry/core/pod/strategy.go + ValidatePodCreate/ValidatePodUpdate/ValidatePodStatusUpdate).
import type { KubeObject } from '../../../api/object.js';
import { deepClone } from '../../../api/object.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isDNS1123Subdomain, isValidIP, validateImmutableField } from '../../../machinery/validation.js';
import type { Quantity } from '../../../machinery/quantity.js';
import type { Strategy } from '../strategy.js';
import { asArray, asObject, asString, decodeQuantity, sameValue, type Json } from '../group-validation.js';
import { defaultPod } from '../defaults/pod.js';
import { validatePodOnly, validatePodSpec, validatePodSpecUpdate } from '../validation/pod.js';

/** Positive cpu/memory quantities of a resource list (upstream's QoS ignores zero and unparsable values). */
function computeResources(list: unknown): Map<string, Quantity> {
  const out = new Map<string, Quantity>();
  for (const name of ['cpu', 'memory']) {
    const raw = asObject(list)?.[name];
    if (raw === undefined) continue;
    const q = decodeQuantity(raw, '').quantity;
    if (q && q.sign() > 0) out.set(name, q);
  }
  return out;
}

/** Upstream's GetPodQOS: Guaranteed, Burstable or BestEffort from the containers' cpu/memory requests and limits. */
export function podQOSClass(spec: unknown): string {
  const s = asObject(spec) ?? {};
  const containers = [...asArray(s.containers), ...asArray(s.initContainers)].map((c) => asObject(c) ?? {});
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const resources = asObject(c.resources) ?? {};
    const requests = computeResources(resources.requests);
    const limits = computeResources(resources.limits);
    if (requests.size || limits.size) any = true;
    if (limits.size < 2) guaranteed = false;
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (!lim || !lim.equals(req)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function specOf(obj: KubeObject): Json {
  return asObject(obj.spec) ?? {};
}
function statusOf(obj: KubeObject): Json {
  return asObject(obj.status) ?? {};
}

function validatePodIPs(ips: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  asArray(ips).forEach((raw, i) => {
    const ip = asString(asObject(raw)?.ip);
    errs.push(...invalidEach(`${path}[${i}].ip`, ip, isValidIP(ip)));
    if (seen.has(ip)) errs.push(fieldErr.duplicate(`${path}[${i}].ip`, ip));
    seen.add(ip);
  });
  return errs;
}

/** Containers that terminated may not come back unless the pod restarts them (upstream's ValidateContainerStateTransition). */
function validateContainerStateTransition(newList: unknown, oldList: unknown, path: string, restartPolicy: string): FieldError[] {
  if (restartPolicy === 'Always') return [];
  const errs: FieldError[] = [];
  const next = asArray(newList).map((s) => asObject(s) ?? {});
  asArray(oldList).forEach((raw, i) => {
    const before = asObject(raw) ?? {};
    const terminated = asObject(asObject(before.state)?.terminated);
    if (!terminated) return;
    if (terminated.exitCode !== 0 && restartPolicy === 'OnFailure') return;
    for (const status of next) {
      if (asString(status.name) === asString(before.name) && !asObject(asObject(status.state)?.terminated)) {
        errs.push(fieldErr.forbidden(`${path}[${i}].state`, 'may not be transitioned to non-terminated state'));
      }
    }
  });
  return errs;
}

/** Upstream's ValidatePodEphemeralContainersUpdate: ephemeral containers may be added, never removed or changed. */
function validateEphemeralContainersUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const next = new Map(asArray(specOf(obj).ephemeralContainers).map((c) => [asString(asObject(c)?.name), c] as const));
  for (const raw of asArray(specOf(old).ephemeralContainers)) {
    const name = asString(asObject(raw)?.name);
    const now = next.get(name);
    if (now === undefined) errs.push(fieldErr.forbidden('spec.ephemeralContainers', `existing ephemeral containers ${JSON.stringify(name)} may not be removed\n`));
    else if (!sameValue(now, raw)) errs.push(fieldErr.forbidden('spec.ephemeralContainers', `existing ephemeral containers ${JSON.stringify(name)} may not be changed\n`));
  }
  return errs;
}

export const podStrategy: Strategy = {
  defaults(obj) {
    defaultPod(obj as unknown as Pod);
  },
  prepareForCreate(obj) {
    const spec = specOf(obj);
    const status: Json = { phase: 'Pending', qosClass: podQOSClass(spec) };
    if (asArray(spec.schedulingGates).length > 0) {
      status.conditions = [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'SchedulingGated',
          message: 'Scheduling is blocked due to non-empty scheduling gates',
          lastProbeTime: null,
          lastTransitionTime: null,
        },
      ];
    }
    obj.status = status;
  },
  validate(obj) {
    return [...validatePodSpec(obj.spec, 'spec'), ...validatePodOnly(obj.spec)];
  },
  validateUpdate(obj, old) {
    return validatePodSpecUpdate(obj.spec, old.spec);
  },
  validateStatusUpdate(obj, old) {
    const status = statusOf(obj);
    const oldStatus = statusOf(old);
    const errs: FieldError[] = [];
    const nominated = asString(status.nominatedNodeName);
    if (nominated && nominated !== asString(oldStatus.nominatedNodeName)) {
      errs.push(...invalidEach('status.nominatedNodeName', nominated, isDNS1123Subdomain(nominated)));
    }
    // A status writer that leaves qosClass out is tolerated; changing it is not.
    if (oldStatus.qosClass !== undefined && status.qosClass !== undefined) {
      errs.push(...validateImmutableField(status.qosClass, oldStatus.qosClass, 'status.qosClass'));
    }
    errs.push(...validatePodIPs(status.podIPs, 'status.podIPs'), ...validatePodIPs(status.hostIPs, 'status.hostIPs'));
    const restartPolicy = asString(specOf(old).restartPolicy);
    errs.push(
      ...validateContainerStateTransition(status.containerStatuses, oldStatus.containerStatuses, 'status.containerStatuses', restartPolicy),
      ...validateContainerStateTransition(status.initContainerStatuses, oldStatus.initContainerStatuses, 'status.initContainerStatuses', restartPolicy),
    );
    return errs;
  },
  prepareForSubresourceUpdate(subresource, obj, old) {
    if (subresource !== 'ephemeralcontainers') return;
    // Only spec.ephemeralContainers changes through this subresource (upstream's dropNonEphemeralContainerUpdates).
    const ephemeral = specOf(obj).ephemeralContainers;
    const next = deepClone(old);
    next.metadata.resourceVersion = obj.metadata.resourceVersion;
    if (obj.metadata.managedFields !== undefined) next.metadata.managedFields = obj.metadata.managedFields;
    const spec = { ...specOf(next) };
    if (ephemeral === undefined || ephemeral === null) delete spec.ephemeralContainers;
    else spec.ephemeralContainers = ephemeral;
    next.spec = spec;
    defaultPod(next as unknown as Pod);
    for (const k of Object.keys(obj)) delete (obj as Record<string, unknown>)[k];
    Object.assign(obj, next);
  },
  validateSubresourceUpdate(subresource, obj, old) {
    if (subresource !== 'ephemeralcontainers') return [];
    return validateEphemeralContainersUpdate(obj, old);
  },
  selectableFields(obj) {
    const spec = specOf(obj);
    const status = statusOf(obj);
    const podIPs = asArray(status.podIPs);
    return {
      'spec.nodeName': asString(spec.nodeName),
      'spec.restartPolicy': asString(spec.restartPolicy),
      'spec.schedulerName': asString(spec.schedulerName),
      'spec.serviceAccountName': asString(spec.serviceAccountName),
      'spec.hostNetwork': String(spec.hostNetwork === true),
      'status.phase': asString(status.phase),
      // Upstream selects on the primary IP only (status.podIPs[0]).
      'status.podIP': podIPs.length ? asString(asObject(podIPs[0])?.ip) : '',
      'status.nominatedNodeName': asString(status.nominatedNodeName),
    };
  },
};

export { podStrategy as Strategy };

// Subresources with their own object types: scale (autoscaling/v1 Scale), pods/binding (and the bindings
// collection) and pods/eviction (policy/v1 Eviction, honouring PodDisruptionBudgets).
import type { KubeObject } from '../../api/object.js';
import { deepClone, isPlainObject } from '../../api/object.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { ApiError } from '../../machinery/errors.js';
import { labelSelectorAsSelector, selectorFromSet } from '../../machinery/labels.js';
import { formatTime } from '../../machinery/time.js';
import { setStatusCondition, type MetaCondition } from '../../machinery/conditions.js';
import type { Registry } from '../registry/registry.js';
import { decodeObject, decodePatch, mediaTypeOf, negotiate, objectMediaType, patchMediaType, readBody, writeJson } from './negotiation.js';
import { dryRunParam } from './params.js';
import type { ResourceRequest } from './resource.js';

interface ScaleObject extends KubeObject {
  spec?: { replicas?: number };
  status?: { replicas: number; selector?: string };
}

function scaleOf(r: ResourceRequest, obj: KubeObject): ScaleObject {
  const spec = (obj.spec ?? {}) as { replicas?: number; selector?: unknown };
  const status = (obj.status ?? {}) as { replicas?: number };
  let selector: string | undefined;
  if (isPlainObject(spec.selector)) {
    // ReplicationControllers carry a plain label map; the apps kinds a metav1.LabelSelector.
    selector =
      r.served.info.resource === 'replicationcontrollers'
        ? selectorFromSet(spec.selector as Record<string, string>).toString()
        : labelSelectorAsSelector(spec.selector as LabelSelector).toString();
  }
  const m = obj.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 0 },
    status: { replicas: status.replicas ?? 0, ...(selector !== undefined ? { selector } : {}) },
  };
}

export async function handleScale(r: ResourceRequest): Promise<void> {
  const neg = negotiate(r.req.headers.accept, null);
  const method = r.req.method ?? 'GET';
  const store = r.served.store;
  if (method === 'GET') {
    const obj = await store.get(r.namespace, r.name!);
    writeJson(r.res, 200, scaleOf(r, obj), { yaml: neg.yaml });
    return;
  }
  if (method !== 'PUT' && method !== 'PATCH') throw ApiError.methodNotAllowed();
  const body = await readBody(r.req);
  const dryRun = dryRunParam(r.query, method === 'PUT' ? 'UpdateOptions' : 'PatchOptions');
  let input: Record<string, unknown> | undefined;
  let patch: { type: ReturnType<typeof patchMediaType>; doc: unknown } | undefined;
  if (method === 'PUT') input = decodeObject(body, objectMediaType(mediaTypeOf(r.req)), 'Scale');
  else {
    const type = patchMediaType(mediaTypeOf(r.req));
    patch = { type, doc: decodePatch(body, type) };
  }
  const { object } = await store.update(
    r.namespace,
    r.name!,
    (current) => {
      if (!current) throw ApiError.notFound(r.served.info.group, r.served.info.resource, r.name!);
      const scale = scaleOf(r, current);
      let desired: ScaleObject;
      if (input) desired = input as ScaleObject;
      else if (patch!.type === 'apply-patch') throw ApiError.unsupportedMediaType('application/apply-patch+yaml');
      else desired = r.services.patcher.patch(scaleInfo, patch!.type, scale, patch!.doc) as ScaleObject;
      const replicas = desired.spec?.replicas;
      if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
        throw ApiError.invalid('autoscaling', 'Scale', r.name!, [
          { type: 'FieldValueInvalid', field: 'spec.replicas', value: replicas ?? null, detail: 'must be greater than or equal to 0' },
        ]);
      }
      const next = deepClone(current);
      (next.spec as { replicas?: number }).replicas = replicas;
      // The Scale's resourceVersion is a precondition only when the client sent one.
      const rv = input ? (desired.metadata?.resourceVersion ?? undefined) : undefined;
      if (rv) next.metadata.resourceVersion = rv;
      else delete next.metadata.resourceVersion;
      return next;
    },
    { user: r.user, dryRun },
  );
  writeJson(r.res, 200, scaleOf(r, object), { yaml: neg.yaml });
}

/** Scale is always served from autoscaling/v1; the patcher needs its schema identity. */
const scaleInfo = {
  group: 'autoscaling',
  version: 'v1',
  kind: 'Scale',
  resource: 'scale',
  singular: 'scale',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: [],
  subresources: [],
};

interface PodLike extends KubeObject {
  spec?: { nodeName?: string };
  status?: { phase?: string; conditions?: { type: string; status: string; lastTransitionTime?: string; lastProbeTime?: string | null }[] };
}

/** POST pods/{name}/binding or POST bindings: assign a pod to a node once. */
export async function handleBinding(r: ResourceRequest, registry: Registry, podName?: string): Promise<void> {
  const body = await readBody(r.req);
  const binding = decodeObject(body, objectMediaType(mediaTypeOf(r.req)), 'Binding');
  const dryRun = dryRunParam(r.query);
  const meta = isPlainObject(binding.metadata) ? binding.metadata : {};
  const name = podName ?? (typeof meta.name === 'string' ? meta.name : '');
  if (podName && typeof meta.name === 'string' && meta.name !== podName) {
    throw ApiError.badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${podName})`);
  }
  const target = isPlainObject(binding.target) ? binding.target : {};
  const node = typeof target.name === 'string' ? target.name : '';
  if (!name) throw ApiError.invalid('', 'Binding', '', [{ type: 'FieldValueRequired', field: 'metadata.name' }]);
  if (!node) throw ApiError.invalid('', 'Binding', name, [{ type: 'FieldValueRequired', field: 'target.name' }]);
  if (target.kind !== undefined && target.kind !== '' && target.kind !== 'Node') {
    throw ApiError.invalid('', 'Binding', name, [
      { type: 'FieldValueNotSupported', field: 'target.kind', value: target.kind, detail: 'supported values: "Node", ""' },
    ]);
  }
  const pods = registry.store('', 'pods');
  await pods.update(
    r.namespace,
    name,
    (current) => {
      if (!current) throw ApiError.notFound('', 'pods', name);
      const pod = current as PodLike;
      if (pod.metadata.deletionTimestamp) {
        throw ApiError.conflict('', 'pods/binding', name, `pod ${name} is being deleted, cannot be assigned to a host`);
      }
      if (pod.spec?.nodeName) {
        throw ApiError.conflict('', 'pods/binding', name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
      }
      // `current` is the store's copy for this call: changed in place.
      const next = pod;
      next.spec = { ...next.spec, nodeName: node };
      const conditions = (next.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
      conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: formatTime(r.services.now()) });
      next.status = { ...next.status, conditions };
      return next;
    },
    { user: r.user, dryRun, subresource: 'binding' },
  );
  writeJson(r.res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}


interface PdbLike extends KubeObject {
  spec?: { selector?: LabelSelector; unhealthyPodEvictionPolicy?: 'IfHealthyBudget' | 'AlwaysAllow' };
  status?: {
    disruptionsAllowed?: number;
    currentHealthy?: number;
    desiredHealthy?: number;
    expectedPods?: number;
    observedGeneration?: number;
    disruptedPods?: Record<string, string>;
    conditions?: MetaCondition[];
  };
}

/** Evictions the PDB controller has not confirmed yet, beyond which evictions are refused (upstream's MaxDisruptedPodSize). */
const MAX_DISRUPTED_POD_SIZE = 2000;
const EVICTION_REFUSED = "Cannot evict pod as it would violate the pod's disruption budget.";

const isPodReady = (pod: PodLike): boolean => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** POST pods/{name}/eviction: delete the pod unless that would break its PodDisruptionBudget (429). */
export async function handleEviction(r: ResourceRequest, registry: Registry): Promise<void> {
  const body = await readBody(r.req);
  const eviction = decodeObject(body, objectMediaType(mediaTypeOf(r.req)), 'Eviction');
  const meta = isPlainObject(eviction.metadata) ? eviction.metadata : {};
  if (typeof meta.name === 'string' && meta.name !== r.name) {
    throw ApiError.badRequest(`name in URL does not match name in Eviction object`);
  }
  const dryRun = dryRunParam(r.query);
  const deleteOptions = isPlainObject(eviction.deleteOptions) ? eviction.deleteOptions : {};
  const pods = registry.store('', 'pods');
  const pod = (await pods.get(r.namespace, r.name!)) as PodLike;
  const phase = pod.status?.phase;
  // Terminal, pending and terminating pods are not counted by any budget (canIgnorePDB).
  if (phase !== 'Succeeded' && phase !== 'Failed' && phase !== 'Pending' && !pod.metadata.deletionTimestamp) {
    await chargeDisruptionBudget(r, registry, pod, dryRun);
  }
  const grace = typeof deleteOptions.gracePeriodSeconds === 'number' ? deleteOptions.gracePeriodSeconds : undefined;
  const pre = isPlainObject(deleteOptions.preconditions) ? deleteOptions.preconditions : {};
  const preconditions = {
    uid: typeof pre.uid === 'string' ? pre.uid : undefined,
    resourceVersion: typeof pre.resourceVersion === 'string' ? pre.resourceVersion : undefined,
  };
  if (!pod.metadata.deletionTimestamp) await markDisruptionTarget(r, registry, pod, dryRun);
  await pods.delete(r.namespace, r.name!, { gracePeriodSeconds: grace, preconditions }, { user: r.user, dryRun });
  writeJson(r.res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}

/** As upstream (PodDisruptionConditions): the pod learns why it goes before it is deleted. */
async function markDisruptionTarget(r: ResourceRequest, registry: Registry, pod: PodLike, dryRun: boolean): Promise<void> {
  const existing = pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
  if (existing?.status === 'True') return;
  try {
    await registry.store('', 'pods').update(
      r.namespace,
      pod.metadata.name!,
      (current) => {
        if (!current) throw ApiError.notFound('', 'pods', pod.metadata.name!);
        const next = deepClone(current) as PodLike;
        const conditions = (next.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget');
        conditions.push({
          type: 'DisruptionTarget',
          status: 'True',
          reason: 'EvictionByEvictionAPI',
          message: 'Eviction API: evicting',
          lastTransitionTime: formatTime(r.services.now()),
        } as { type: string; status: string; lastTransitionTime: string });
        next.status = { ...next.status, conditions };
        return next;
      },
      { user: r.user, dryRun, subresource: 'status' },
    );
  } catch (e) {
    // The delete that follows reports a pod that is gone.
    if (!(e instanceof ApiError && e.code === 404)) throw e;
  }
}

async function chargeDisruptionBudget(r: ResourceRequest, registry: Registry, pod: PodLike, dryRun: boolean): Promise<void> {
  const pdbStore = registry.store('policy', 'poddisruptionbudgets');
  const pdbs = (await pdbStore.list({ namespace: r.namespace })).items as PdbLike[];
  const podLabels = pod.metadata.labels ?? {};
  const matching = pdbs.filter((p) => {
    if (!p.spec?.selector) return false; // a nil selector selects nothing
    // policy/v1: an empty selector selects every pod in the namespace.
    return labelSelectorAsSelector(p.spec.selector).matches(podLabels);
  });
  if (matching.length === 0) return;
  if (matching.length > 1) {
    throw ApiError.internal('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
  }
  const pdb = matching[0];
  const ready = isPodReady(pod);
  // An unhealthy pod does not count towards the budget: AlwaysAllow evicts it regardless, IfHealthyBudget (the
  // default) when the budget is met without it.
  if (!ready && pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return;
  const st = pdb.status ?? {};
  if (!ready && (st.currentHealthy ?? 0) >= (st.desiredHealthy ?? 0) && (st.desiredHealthy ?? 0) > 0) return;
  await pdbStore.update(
    r.namespace,
    pdb.metadata.name!,
    (current) => {
      if (!current) throw ApiError.notFound('policy', 'poddisruptionbudgets', pdb.metadata.name!);
      const cur = current as PdbLike;
      const status = cur.status ?? {};
      if ((status.observedGeneration ?? 0) < (cur.metadata.generation ?? 0)) {
        throw new ApiError({
          message: EVICTION_REFUSED,
          reason: 'TooManyRequests',
          code: 429,
          details: { retryAfterSeconds: 10, causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata.name} is still being processed by the server.` }] },
        });
      }
      const allowed = status.disruptionsAllowed ?? 0;
      if (allowed < 0) throw ApiError.forbidden('policy', 'poddisruptionbudget', pdb.metadata.name!, 'pdb disruptions allowed is negative');
      if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_POD_SIZE) {
        throw ApiError.forbidden('policy', 'poddisruptionbudget', pdb.metadata.name!, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
      }
      if (allowed === 0) {
        throw new ApiError({
          message: EVICTION_REFUSED,
          reason: 'TooManyRequests',
          code: 429,
          details: {
            causes: [
              {
                reason: 'DisruptionBudget',
                message: `The disruption budget ${pdb.metadata.name} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently`,
              },
            ],
          },
        });
      }
      const next = deepClone(cur);
      const now = formatTime(r.services.now());
      next.status = {
        ...status,
        disruptionsAllowed: allowed - 1,
        disruptedPods: { ...(status.disruptedPods ?? {}), [pod.metadata.name!]: now },
      };
      if (allowed - 1 === 0) {
        // UpdateDisruptionAllowedCondition: no more disruptions until the controller recounts.
        const observedGeneration = status.observedGeneration ?? 0;
        next.status.conditions = setStatusCondition(status.conditions, { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '', observedGeneration }, now);
      }
      return next;
    },
    { user: r.user, dryRun, subresource: 'status' },
  );
}

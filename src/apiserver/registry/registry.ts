// Builds one Store per stored resource from the catalog, and resolves (group, version, resource) to what serves it.
// Resources served in several versions (autoscaling v1/v2 HPAs, core and events.k8s.io Events) share one stored
// collection; a converter maps between the served and the stored version.
import type { KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/catalog.js';
import { BUILTIN_RESOURCES } from '../../api/catalog.js';
import type { Storage } from '../../storage/types.js';
import type { MutatingAdmission, ValidatingAdmission } from '../admission/types.js';
import { Store } from './store.js';
import { strategyKey, type Strategy } from './strategy.js';

export interface Converter {
  toStored(obj: KubeObject): KubeObject;
  fromStored(obj: KubeObject): KubeObject;
}

export interface ServedResource {
  /** The served group/version/kind. */
  info: ResourceInfo;
  /** The store of the stored version (same object for every served version). */
  store: Store;
  /** Present when the served version differs from the stored one. */
  converter?: Converter;
}

/** Kinds whose upstream strategy maintains metadata.generation. */
const GENERATION_TRACKED = new Set([
  'apps/deployments',
  'apps/replicasets',
  'apps/statefulsets',
  'apps/daemonsets',
  'batch/jobs',
  'batch/cronjobs',
  '/replicationcontrollers',
  'autoscaling/horizontalpodautoscalers',
  'policy/poddisruptionbudgets',
  'discovery.k8s.io/endpointslices',
  'networking.k8s.io/ingresses',
  'networking.k8s.io/networkpolicies',
  'apiextensions.k8s.io/customresourcedefinitions',
  'admissionregistration.k8s.io/validatingadmissionpolicies',
  'admissionregistration.k8s.io/validatingadmissionpolicybindings',
  'admissionregistration.k8s.io/mutatingwebhookconfigurations',
  'admissionregistration.k8s.io/validatingwebhookconfigurations',
]);

/**
 * Kinds whose dependents are orphaned when deleted without a propagation policy, for backwards compatibility as
 * upstream keeps it: core/v1 ReplicationControllers and batch/v1 Jobs (only those versions are served here).
 */
const ORPHAN_BY_DEFAULT = new Set(['/replicationcontrollers', 'batch/jobs']);

/** Stored version for resources served in more than one (group, version). */
const STORED_AS: Record<string, { group: string; version: string; resource: string }> = {
  'autoscaling/v1/horizontalpodautoscalers': { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' },
  'events.k8s.io/v1/events': { group: '', version: 'v1', resource: 'events' },
};

/** Default time-to-live of Events (upstream's --event-ttl). */
export const EVENT_TTL_SECONDS = 3600;

/** Accepts anything: for kinds whose validation has not been written yet, only ObjectMeta is validated. */
const PERMISSIVE: Strategy = { validate: () => [] };

export interface RegistryOptions {
  storage: Storage;
  strategies: ReadonlyMap<string, Strategy>;
  converters?: ReadonlyMap<string, Converter>;
  mutating?: readonly MutatingAdmission[];
  validating?: readonly ValidatingAdmission[];
  now?: () => Date;
  eventTTLSeconds?: number;
}

export class Registry {
  private readonly served = new Map<string, ServedResource>();
  private readonly stores = new Map<string, Store>();

  constructor(opts: RegistryOptions) {
    for (const info of BUILTIN_RESOURCES) {
      if (info.resource === 'bindings') continue; // served by the pods/binding handler
      const gvr = `${info.group}/${info.version}/${info.resource}`;
      const storedAs = STORED_AS[gvr];
      if (storedAs) continue; // second pass, once the stored version's store exists
      const key = strategyKey(info.group, info.resource);
      const store = new Store({
        info,
        storage: opts.storage,
        strategy: opts.strategies.get(key) ?? PERMISSIVE,
        mutating: opts.mutating,
        validating: opts.validating,
        now: opts.now,
        tracksGeneration: GENERATION_TRACKED.has(key),
        ttlSeconds: info.group === '' && info.resource === 'events' ? (opts.eventTTLSeconds ?? EVENT_TTL_SECONDS) : undefined,
        gracefulDeletion: info.group === '' && info.resource === 'pods' ? podGracePeriod : undefined,
        deletionHooks: info.group === '' && info.resource === 'namespaces' ? namespaceDeletion : undefined,
        defaultGarbageCollectionPolicy: ORPHAN_BY_DEFAULT.has(key) ? 'OrphanDependents' : 'DeleteDependents',
      });
      this.stores.set(key, store);
      this.served.set(gvr, { info, store });
    }
    for (const info of BUILTIN_RESOURCES) {
      const gvr = `${info.group}/${info.version}/${info.resource}`;
      const storedAs = STORED_AS[gvr];
      if (!storedAs) continue;
      const store = this.stores.get(strategyKey(storedAs.group, storedAs.resource));
      if (!store) throw new Error(`no stored version for ${gvr}`);
      const converter = opts.converters?.get(gvr);
      if (!converter) throw new Error(`no converter for ${gvr}`);
      this.served.set(gvr, { info, store, converter });
    }
  }

  resolve(group: string, version: string, resource: string): ServedResource | undefined {
    return this.served.get(`${group}/${version}/${resource}`);
  }

  /** The store of a stored resource, e.g. ("", "namespaces"). */
  store(group: string, resource: string): Store {
    const s = this.stores.get(strategyKey(group, resource));
    if (!s) throw new Error(`no store for ${group}/${resource}`);
    return s;
  }

  all(): ServedResource[] {
    return [...this.served.values()];
  }
}

/**
 * Pods on a node end gracefully: the kubelet stops the containers and then deletes with grace 0. Pods never
 * scheduled, or already finished, go at once (upstream's pod strategy CheckGracefulDelete).
 */
function podGracePeriod(pod: KubeObject, requested: number | undefined): number {
  const spec = (pod.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
  const grace = requested ?? spec.terminationGracePeriodSeconds ?? 30;
  // Upstream turns a requested 0 into 1 unless forced; the kubelet then deletes with 0.
  return Math.max(0, grace);
}

/** A namespace stays (Terminating) until its spec.finalizers are cleared through the finalize subresource. */
const namespaceDeletion = {
  blocksDeletion: (ns: KubeObject) => ((ns.spec as { finalizers?: string[] } | undefined)?.finalizers?.length ?? 0) > 0,
  mark: (ns: KubeObject) => {
    ns.status = { ...(ns.status as object), phase: 'Terminating' };
  },
};

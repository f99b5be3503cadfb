// The API objects a pod's configuration reads (ConfigMaps, Secrets, PVCs and PVs, service account tokens).
// ConfigMaps and Secrets come from upstream's default "Watch" change-detection strategy: one watch per referenced
// object (field selector metadata.name), kept while pods use it, so each pod sync sees the object as it is now. A
// change to a watched object is reported (onChange) so the kubelet syncs the pods whose volumes use it at once, rather
// than at their next periodic resync (--sync-frequency). PVCs, PVs and tokens are read with a request each time. One `ObjectSession` per sync shares each read between the pod's env and volumes.
import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { listWatcherFor, realClock, SharedIndexInformer, type Clock, type RestClient, type ResourceClient } from '../../client/index.js';
import { isNotFound } from '../../machinery/errors.js';
import { podReferences } from '../../machinery/pod-references.js';

/** A configuration error with upstream's message (a missing object or key): CreateContainerConfigError / FailedMount. */
export class PodConfigError extends Error {
  constructor(
    message: string,
    readonly notFound = false,
    /** What only the kubelet's log shows (host paths the user must not learn). */
    readonly detail?: string,
  ) {
    super(message);
  }
}

export interface TokenRequestOptions {
  audiences: string[];
  expirationSeconds: number;
  podName: string;
  podUid: string;
}

/** What pod configuration reads from the API. */
export interface ObjectSource {
  configMap(namespace: string, name: string): Promise<ConfigMap>;
  secret(namespace: string, name: string): Promise<Secret>;
  pvc(namespace: string, name: string): Promise<PersistentVolumeClaim>;
  pv(name: string): Promise<PersistentVolume>;
  serviceAccountToken(namespace: string, serviceAccount: string, opts: TokenRequestOptions): Promise<string>;
}

/** Reads through the API; NotFound comes back as a PodConfigError with upstream's singular-resource message. */
export class ApiObjectSource implements ObjectSource {
  private readonly configMaps: ResourceClient<ConfigMap>;
  private readonly secrets: ResourceClient<Secret>;
  private readonly pvcs: ResourceClient<PersistentVolumeClaim>;
  private readonly pvs: ResourceClient<PersistentVolume>;

  constructor(private readonly client: RestClient) {
    this.configMaps = client.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps' });
    this.secrets = client.resource<Secret>({ group: '', version: 'v1', resource: 'secrets' });
    this.pvcs = client.resource<PersistentVolumeClaim>({ group: '', version: 'v1', resource: 'persistentvolumeclaims' });
    this.pvs = client.resource<PersistentVolume>({ group: '', version: 'v1', resource: 'persistentvolumes' });
  }

  private async read<T>(what: string, name: string, get: () => Promise<T>): Promise<T> {
    try {
      return await get();
    } catch (err) {
      if (isNotFound(err)) throw new PodConfigError(`${what} "${name}" not found`, true);
      throw err;
    }
  }

  configMap(namespace: string, name: string): Promise<ConfigMap> {
    return this.read('configmap', name, () => this.configMaps.get(name, { namespace }));
  }

  secret(namespace: string, name: string): Promise<Secret> {
    return this.read('secret', name, () => this.secrets.get(name, { namespace }));
  }

  pvc(namespace: string, name: string): Promise<PersistentVolumeClaim> {
    return this.read('persistentvolumeclaims', name, () => this.pvcs.get(name, { namespace }));
  }

  pv(name: string): Promise<PersistentVolume> {
    return this.read('persistentvolumes', name, () => this.pvs.get(name));
  }

  async serviceAccountToken(namespace: string, serviceAccount: string, opts: TokenRequestOptions): Promise<string> {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(serviceAccount)}/token`;
    const body = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        audiences: opts.audiences,
        expirationSeconds: opts.expirationSeconds,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: opts.podName, uid: opts.podUid },
      },
    };
    const r = await this.client.call<{ status?: { token?: string } }>('POST', path, body);
    const token = r.status?.token;
    if (!token) throw new Error('the TokenRequest returned no token');
    return token;
  }
}

/** Upstream's token manager: a token older than 24 h is refreshed even when it lives longer. */
const TOKEN_MAX_TTL_MS = 24 * 60 * 60 * 1000;
const TOKEN_MAX_JITTER_MS = 10_000;

/** How long after issue a token of `expirationSeconds` is refreshed; `random` in [0,1) picks the jitter. */
export function tokenRefreshAfterMs(expirationSeconds: number, random: number): number {
  const jitter = Math.floor(random * (TOKEN_MAX_JITTER_MS / 1000)) * 1000;
  return Math.min(expirationSeconds * 800, TOKEN_MAX_TTL_MS) - jitter;
}

interface WatchedObject {
  informer: SharedIndexInformer<ConfigMap | Secret>;
  lastUsed: number;
  /** The first list is in: an add from now on is an object created after the pods' first read. */
  synced: boolean;
}

/** The key of a watched object: `configmap/<namespace>/<name>` or `secret/<namespace>/<name>`. */
export type ObjectKey = `${'configmap' | 'secret'}/${string}/${string}`;

const objectKey = (what: 'configmap' | 'secret', namespace: string, name: string): ObjectKey => `${what}/${namespace}/${name}`;

/**
 * The ConfigMaps and Secrets pod `pod` uses (machinery's podReferences, upstream's VisitPodSecretNames and
 * VisitPodConfigmapNames). With `volumesOnly`, those its volumes project (configMap, secret and projected sources:
 * what a running pod sees change); otherwise every one it names (what its watches are kept for).
 */
export function podObjectRefs(pod: Pod, volumesOnly = false): Set<ObjectKey> {
  const ns = pod.metadata?.namespace ?? 'default';
  const out = new Set<ObjectKey>();
  for (const r of podReferences(pod)) {
    if (r.kind === 'pvc' || (volumesOnly && r.from !== 'volume')) continue;
    out.add(objectKey(r.kind, ns, r.name));
  }
  return out;
}

/** How long the first list of a newly watched object may take before a read fails (upstream: 1 s poll, then an error). */
const WATCH_SYNC_TIMEOUT_MS = 10_000;

/** ConfigMaps and Secrets from per-object watches (upstream's watch-based manager); the rest through the API. */
export class WatchingObjectSource implements ObjectSource {
  private readonly direct: ObjectSource;
  private readonly watched = new Map<ObjectKey, WatchedObject>();
  private readonly tokens = new Map<string, { token: string; refreshAt: number; podUid: string }>();
  private readonly clock: Clock;
  private readonly configMaps: ResourceClient<ConfigMap | Secret>;
  private readonly secrets: ResourceClient<ConfigMap | Secret>;

  /** Called when a watched object changes, is created after the first read, or is deleted. */
  onChange: ((key: ObjectKey) => void) | undefined;

  /** `direct` serves PVCs, PVs and tokens (default: the API). */
  constructor(client: RestClient, clock: Clock = realClock, direct?: ObjectSource) {
    this.direct = direct ?? new ApiObjectSource(client);
    this.clock = clock;
    this.configMaps = client.resource<ConfigMap | Secret>({ group: '', version: 'v1', resource: 'configmaps' });
    this.secrets = client.resource<ConfigMap | Secret>({ group: '', version: 'v1', resource: 'secrets' });
  }

  private async cached(what: 'configmap' | 'secret', rc: ResourceClient<ConfigMap | Secret>, namespace: string, name: string): Promise<ConfigMap | Secret> {
    const key = objectKey(what, namespace, name);
    let w = this.watched.get(key);
    if (!w) {
      const informer = new SharedIndexInformer<ConfigMap | Secret>(listWatcherFor(rc, { namespace, fieldSelector: `metadata.name=${name}` }), {
        clock: this.clock,
        reflector: { name: `kubelet ${key}` },
      });
      const watched: WatchedObject = { informer, lastUsed: 0, synced: false };
      const changed = () => {
        if (watched.synced && this.watched.get(key) === watched) this.onChange?.(key);
      };
      informer.addEventHandler({
        onAdd: changed,
        onUpdate: (o, n) => {
          if (o.metadata?.resourceVersion !== n.metadata?.resourceVersion) changed();
        },
        onDelete: changed,
      });
      informer.run();
      w = watched;
      this.watched.set(key, w);
    }
    w.lastUsed = this.clock.now();
    const informer = w.informer;
    if (!(await informer.waitForCacheSync(WATCH_SYNC_TIMEOUT_MS))) throw new Error(`failed to sync ${what} cache: timed out waiting for the condition`);
    w.synced = true;
    const obj = informer.indexer.getByKey(`${namespace}/${name}`);
    if (!obj) throw new PodConfigError(`${what} "${name}" not found`, true);
    return obj;
  }

  configMap(namespace: string, name: string): Promise<ConfigMap> {
    return this.cached('configmap', this.configMaps, namespace, name) as Promise<ConfigMap>;
  }

  secret(namespace: string, name: string): Promise<Secret> {
    return this.cached('secret', this.secrets, namespace, name) as Promise<Secret>;
  }

  pvc(namespace: string, name: string): Promise<PersistentVolumeClaim> {
    return this.direct.pvc(namespace, name);
  }

  pv(name: string): Promise<PersistentVolume> {
    return this.direct.pv(name);
  }

  /**
   * Tokens are reused until 80 % of their lifetime or 24 h have passed, less a jitter of up to 10 s (upstream's
   * token manager refresh rule); the pod's volume sync then writes the new token.
   */
  async serviceAccountToken(namespace: string, serviceAccount: string, opts: TokenRequestOptions): Promise<string> {
    const key = JSON.stringify([namespace, serviceAccount, opts.audiences, opts.expirationSeconds, opts.podUid]);
    const now = this.clock.now();
    const cached = this.tokens.get(key);
    if (cached && now < cached.refreshAt) return cached.token;
    const token = await this.direct.serviceAccountToken(namespace, serviceAccount, opts);
    this.tokens.set(key, { token, refreshAt: now + tokenRefreshAfterMs(opts.expirationSeconds, Math.random()), podUid: opts.podUid });
    return token;
  }

  /** Forgets the tokens of a pod that is gone. */
  forgetPod(podUid: string): void {
    for (const [k, t] of this.tokens) if (t.podUid === podUid) this.tokens.delete(k);
  }

  /**
   * Stops the watches no pod read for `idleMs` and no pod uses (`inUse`; pods read theirs at every sync), as upstream
   * unregisters the pods that are gone.
   */
  async gc(idleMs: number, inUse: (key: ObjectKey) => boolean = () => false): Promise<void> {
    const now = this.clock.now();
    for (const [key, w] of this.watched) {
      if (now - w.lastUsed <= idleMs || inUse(key)) continue;
      this.watched.delete(key);
      await w.informer.stop();
    }
  }

  async stop(): Promise<void> {
    await this.gc(-1);
  }

  /** How many objects are watched (tests). */
  get size(): number {
    return this.watched.size;
  }
}

/** Memoizes reads for the length of one pod sync (env of every container and every volume share them). */
export class ObjectSession implements ObjectSource {
  private readonly memo = new Map<string, Promise<unknown>>();

  constructor(private readonly src: ObjectSource) {}

  private once<T>(key: string, f: () => Promise<T>): Promise<T> {
    let p = this.memo.get(key) as Promise<T> | undefined;
    if (!p) this.memo.set(key, (p = f()));
    return p;
  }

  configMap(namespace: string, name: string): Promise<ConfigMap> {
    return this.once(`cm/${namespace}/${name}`, () => this.src.configMap(namespace, name));
  }

  secret(namespace: string, name: string): Promise<Secret> {
    return this.once(`secret/${namespace}/${name}`, () => this.src.secret(namespace, name));
  }

  pvc(namespace: string, name: string): Promise<PersistentVolumeClaim> {
    return this.once(`pvc/${namespace}/${name}`, () => this.src.pvc(namespace, name));
  }

  pv(name: string): Promise<PersistentVolume> {
    return this.once(`pv/${name}`, () => this.src.pv(name));
  }

  serviceAccountToken(namespace: string, serviceAccount: string, opts: TokenRequestOptions): Promise<string> {
    return this.src.serviceAccountToken(namespace, serviceAccount, opts);
  }
}

/** Reads `name` unless it is missing and `optional` (undefined then). */
export async function optionalRead<T>(read: () => Promise<T>, optional: boolean | undefined): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (optional && err instanceof PodConfigError && err.notFound) return undefined;
    throw err;
  }
}

/** A Secret's values as bytes (data is base64, stringData is write-only but honoured when present). */
export function secretBytes(s: Secret): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(s.data ?? {})) out.set(k, Buffer.from(v, 'base64'));
  for (const [k, v] of Object.entries(s.stringData ?? {})) out.set(k, Buffer.from(v, 'utf8'));
  return out;
}

/** A ConfigMap's values as bytes: data, then binaryData (base64). */
export function configMapBytes(cm: ConfigMap): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm.data ?? {})) out.set(k, Buffer.from(v, 'utf8'));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) out.set(k, Buffer.from(v, 'base64'));
  return out;
}

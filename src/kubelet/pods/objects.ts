// The API objects a pod's configuration reads (ConfigMaps, Secrets, PVCs and PVs, service account tokens). The kubelet
// reads them with a GET at each pod sync, like upstream's "Get" ConfigMap/Secret change-detection strategy with no TTL:
// a pod sync (informer event, or the 10 s resync) sees the object as it is now, so a change reaches volumes within a
// sync period. One `ObjectSession` per sync shares each read between the pod's env and volumes.
import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Secret } from 'kubernetes-types/core/v1.js';
import type { RestClient, ResourceClient } from '../../client/index.js';
import { isNotFound } from '../../machinery/errors.js';

/** A configuration error with upstream's message (a missing object or key): CreateContainerConfigError / FailedMount. */
export class PodConfigError extends Error {
  constructor(
    message: string,
    readonly notFound = false,
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

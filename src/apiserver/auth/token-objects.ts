// The objects service account tokens are checked against, from watched caches instead of a storage read per request
// (upstream's authenticator reads informers the same way). Pods, Secrets and Nodes are kept slim (identity, deletion,
// labels of Secrets; a token Secret's token), the ServiceAccounts come from the cache ServiceAccount admission already watches.
// A cache answers only when it holds the uid the token claims; on a miss or another uid it reads storage (an object
// created a moment ago may not have reached the watch yet; a replaced one is then seen as storage has it). Revocation
// is immediate: before its lookups an authentication waits until every write committed earlier reached the caches.
import type { KubeObject } from '../../api/object.js';
import { ObjectCache } from '../admission/namespace-cache.js';
import type { Store } from '../registry/store.js';
import { SERVICE_ACCOUNT_TOKEN_SECRET_TYPE, type TokenObjectGetter } from './serviceaccount.js';

type Resource = 'serviceaccounts' | 'pods' | 'secrets' | 'nodes';

/** What a token check reads of an object. */
export function slimTokenObject(obj: KubeObject): KubeObject {
  const m = obj.metadata;
  const slim: KubeObject & { type?: unknown; data?: Record<string, string> } = {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: {
      name: m.name,
      ...(m.namespace ? { namespace: m.namespace } : {}),
      uid: m.uid,
      ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
      // Labels matter only on Secrets (the legacy token labels); every pod's would cost memory for nothing.
      ...(m.labels && obj.kind === 'Secret' ? { labels: m.labels } : {}),
    },
  };
  const secret = obj as KubeObject & { type?: unknown; data?: Record<string, string> };
  if (secret.type === SERVICE_ACCOUNT_TOKEN_SECRET_TYPE) {
    slim.type = secret.type;
    if (m.annotations) slim.metadata.annotations = m.annotations;
    if (secret.data?.token !== undefined) slim.data = { token: secret.data.token };
  }
  return slim;
}

export class TokenObjectCaches {
  private readonly caches: Record<Resource, ObjectCache>;
  private readonly own: ObjectCache[];
  /** Lookups the caches could not answer (read from storage): for tests and metrics. */
  liveReads = 0;

  constructor(
    stores: { pods: Store; secrets: Store; nodes: Store },
    serviceAccounts: ObjectCache,
    private readonly live: (resource: Resource, namespace: string | undefined, name: string) => Promise<KubeObject | undefined>,
    private readonly markLegacyTokenUsed?: TokenObjectGetter['markLegacyTokenUsed'],
  ) {
    this.own = [
      new ObjectCache(stores.pods, slimTokenObject),
      new ObjectCache(stores.secrets, slimTokenObject),
      new ObjectCache(stores.nodes, slimTokenObject),
    ];
    this.caches = { serviceaccounts: serviceAccounts, pods: this.own[0]!, secrets: this.own[1]!, nodes: this.own[2]! };
  }

  async start(): Promise<void> {
    await Promise.all(this.own.map((c) => c.start()));
  }

  stop(): void {
    for (const c of this.own) c.stop();
  }

  private async get(resource: Resource, namespace: string | undefined, name: string, uid: string | undefined): Promise<KubeObject | undefined> {
    const cached = this.caches[resource].cached(namespace, name);
    if (cached && (!uid || cached.metadata.uid === uid)) return cached;
    this.liveReads++;
    return this.live(resource, namespace, name);
  }

  getter(): TokenObjectGetter {
    return {
      ready: () => this.caches.pods.caughtUp(),
      serviceAccount: (ns, name, uid) => this.get('serviceaccounts', ns, name, uid),
      pod: (ns, name, uid) => this.get('pods', ns, name, uid),
      secret: (ns, name, uid) => this.get('secrets', ns, name, uid),
      node: (name, uid) => this.get('nodes', undefined, name, uid),
      ...(this.markLegacyTokenUsed ? { markLegacyTokenUsed: this.markLegacyTokenUsed } : {}),
    };
  }
}

// The node authorizer's graph (upstream's plugin/pkg/auth/authorizer/node graph): which objects each node may read
// because a pod bound to it references them. Pods contribute edges to their node for themselves, their service
// account, and the Secrets, ConfigMaps and PersistentVolumeClaims they name (volumes, projected sources, env, envFrom,
// imagePullSecrets, ephemeral volumes' claims); a PersistentVolume is reachable through a bound claim, and so are the
// Secrets a PersistentVolume names. Fed by watches on pods, claims and volumes in the API server.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/object.js';
import { podReferences } from '../../machinery/pod-references.js';
import { ObjectCache } from '../admission/namespace-cache.js';
import type { Store } from '../registry/store.js';

export type GraphVertexType = 'pod' | 'secret' | 'configmap' | 'pvc' | 'pv' | 'serviceaccount';

interface PodSpecLike {
  nodeName?: string;
  serviceAccountName?: string;
}

/** The graph edges a pod contributes: "type/namespace/name" of everything it references, itself included. */
export function podGraphEdges(pod: KubeObject): string[] {
  const ns = pod.metadata.namespace ?? '';
  const spec = (pod.spec ?? {}) as PodSpecLike;
  const refs = new Set<string>([`pod/${ns}/${pod.metadata.name ?? ''}`, `serviceaccount/${ns}/${spec.serviceAccountName || 'default'}`]);
  for (const r of podReferences(pod as Pod)) refs.add(`${r.kind}/${ns}/${r.name}`);
  return [...refs];
}

/** Secrets a PersistentVolume names (CSI and in-tree plugins), as "namespace/name". */
function pvSecrets(pv: KubeObject): string[] {
  const spec = (pv.spec ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const out: string[] = [];
  const csi = spec.csi;
  for (const field of ['nodePublishSecretRef', 'nodeStageSecretRef', 'nodeExpandSecretRef', 'controllerPublishSecretRef', 'controllerExpandSecretRef']) {
    const ref = csi?.[field] as { name?: string; namespace?: string } | undefined;
    if (ref?.name && ref.namespace) out.push(`${ref.namespace}/${ref.name}`);
  }
  for (const plugin of ['cephfs', 'cinder', 'flexVolume', 'iscsi', 'rbd', 'scaleIO', 'storageos', 'azureFile']) {
    const v = spec[plugin];
    const ref = (v?.secretRef ?? undefined) as { name?: string; namespace?: string } | undefined;
    if (ref?.name && ref.namespace) out.push(`${ref.namespace}/${ref.name}`);
    if (plugin === 'azureFile' && typeof v?.secretName === 'string') out.push(`${(v.secretNamespace as string | undefined) ?? 'default'}/${v.secretName}`);
  }
  return out;
}

export class NodeGraph {
  /** Pod key "ns/name" → its node and references. */
  private readonly pods = new Map<string, { node: string; refs: string[] }>();
  /** node → reference → how many of its pods hold it. */
  private readonly byNode = new Map<string, Map<string, number>>();
  /** "ns/claim" → the PersistentVolume it is bound to. */
  private readonly claimVolume = new Map<string, string>();
  /** PersistentVolume name → the Secrets ("ns/name") it names. */
  private readonly volumeSecrets = new Map<string, string[]>();
  private feeds: ObjectCache[] = [];
  synced = false;

  setPod(pod: KubeObject): void {
    this.deletePod(pod);
    const node = (pod.spec as PodSpecLike | undefined)?.nodeName;
    if (!node) return;
    const refs = podGraphEdges(pod);
    this.pods.set(podKey(pod), { node, refs });
    let counts = this.byNode.get(node);
    if (!counts) this.byNode.set(node, (counts = new Map()));
    for (const r of refs) counts.set(r, (counts.get(r) ?? 0) + 1);
  }

  deletePod(pod: KubeObject): void {
    const key = podKey(pod);
    const old = this.pods.get(key);
    if (!old) return;
    this.pods.delete(key);
    const counts = this.byNode.get(old.node);
    if (!counts) return;
    for (const r of old.refs) {
      const n = (counts.get(r) ?? 0) - 1;
      if (n > 0) counts.set(r, n);
      else counts.delete(r);
    }
    if (counts.size === 0) this.byNode.delete(old.node);
  }

  setClaim(pvc: KubeObject): void {
    const volume = (pvc.spec as { volumeName?: string } | undefined)?.volumeName;
    const key = `${pvc.metadata.namespace ?? ''}/${pvc.metadata.name ?? ''}`;
    if (volume) this.claimVolume.set(key, volume);
    else this.claimVolume.delete(key);
  }

  deleteClaim(pvc: KubeObject): void {
    this.claimVolume.delete(`${pvc.metadata.namespace ?? ''}/${pvc.metadata.name ?? ''}`);
  }

  setVolume(pv: KubeObject): void {
    const secrets = pvSecrets(pv);
    if (secrets.length) this.volumeSecrets.set(pv.metadata.name ?? '', secrets);
    else this.volumeSecrets.delete(pv.metadata.name ?? '');
  }

  deleteVolume(pv: KubeObject): void {
    this.volumeSecrets.delete(pv.metadata.name ?? '');
  }

  /** Whether an object is reachable from the node: referenced by one of its pods, directly or through a claim. */
  hasPath(node: string, type: GraphVertexType, namespace: string, name: string): boolean {
    const counts = this.byNode.get(node);
    if (!counts) return false;
    if (type !== 'pv' && counts.has(`${type}/${namespace}/${name}`)) return true;
    if (type === 'pv' || type === 'secret') {
      for (const ref of counts.keys()) {
        if (!ref.startsWith('pvc/')) continue;
        const volume = this.claimVolume.get(ref.slice(4));
        if (!volume) continue;
        if (type === 'pv' && volume === name) return true;
        if (type === 'secret' && this.volumeSecrets.get(volume)?.includes(`${namespace}/${name}`)) return true;
      }
    }
    return false;
  }

  /** Lists and watches pods, claims and volumes from the API server's stores (resolves once all are listed). */
  async start(stores: { pods: Store; claims: Store; volumes: Store }): Promise<void> {
    const feed = (store: Store, set: (o: KubeObject) => void, del: (o: KubeObject) => void) =>
      new (class extends ObjectCache {
        protected override put(obj: KubeObject): void {
          set(obj);
        }
        protected override remove(obj: KubeObject): void {
          del(obj);
        }
      })(store);
    this.feeds = [
      feed(stores.pods, (o) => this.setPod(o), (o) => this.deletePod(o)),
      feed(stores.claims, (o) => this.setClaim(o), (o) => this.deleteClaim(o)),
      feed(stores.volumes, (o) => this.setVolume(o), (o) => this.deleteVolume(o)),
    ];
    await Promise.all(this.feeds.map((f) => f.start()));
    this.synced = true;
  }

  stop(): void {
    for (const f of this.feeds) f.stop();
  }
}

function podKey(pod: KubeObject): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

// Static pods: manifests in a folder (upstream's --pod-manifest-path file source) that the kubelet runs without the
// API, and their mirror pods, which make them visible in the API (annotation kubernetes.io/config.mirror, owned by the
// Node). As upstream's applyDefaults: the pod is named <name>-<node>, its UID is a hash of the node, the file and the
// manifest (so an edited file is a new pod), and it tolerates every NoExecute taint.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseAllDocuments } from 'yaml';
import { formatTime } from '../../machinery/time.js';

export const ANNOTATION_CONFIG_SOURCE = 'kubernetes.io/config.source';
export const ANNOTATION_CONFIG_HASH = 'kubernetes.io/config.hash';
export const ANNOTATION_CONFIG_SEEN = 'kubernetes.io/config.seen';
export const ANNOTATION_CONFIG_MIRROR = 'kubernetes.io/config.mirror';

export function isMirrorPod(pod: Pod): boolean {
  return pod.metadata?.annotations?.[ANNOTATION_CONFIG_MIRROR] !== undefined;
}

/** A pod the kubelet took from a file (not from the API). */
export function isStaticPod(pod: Pod): boolean {
  const src = pod.metadata?.annotations?.[ANNOTATION_CONFIG_SOURCE];
  return src !== undefined && src !== 'api';
}

/** One manifest's pod with upstream's file-source defaults; throws on a file that holds no valid pod. */
export function staticPodFrom(raw: unknown, file: string, nodeName: string, seen: Date): Pod {
  const obj = raw as Pod | null;
  if (!obj || typeof obj !== 'object' || (obj.kind !== undefined && obj.kind !== 'Pod')) throw new Error(`${file}: not a Pod`);
  if (!obj.metadata?.name) throw new Error(`${file}: the pod has no name`);
  if (!Array.isArray(obj.spec?.containers) || obj.spec.containers.length === 0) throw new Error(`${file}: the pod has no containers`);
  const { status: _status, ...rest } = structuredClone(obj);
  const uid = obj.metadata.uid ?? createHash('md5').update(`host:${nodeName}`).update(`file:${file}`).update(JSON.stringify(obj)).digest('hex');
  return {
    ...rest,
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...rest.metadata,
      uid,
      name: `${obj.metadata.name}-${nodeName.toLowerCase()}`,
      namespace: obj.metadata.namespace ?? 'default',
      annotations: {
        ...(obj.metadata.annotations ?? {}),
        [ANNOTATION_CONFIG_HASH]: uid,
        [ANNOTATION_CONFIG_SEEN]: formatTime(seen),
        [ANNOTATION_CONFIG_SOURCE]: 'file',
      },
    },
    spec: { ...rest.spec!, nodeName, tolerations: [...(rest.spec?.tolerations ?? []), { operator: 'Exists', effect: 'NoExecute' }] },
  };
}

/** Every pod in the folder's manifests (*.yaml, *.yml, *.json; dotfiles ignored), keyed by UID. */
export async function readStaticPods(dir: string, nodeName: string, previous: Map<string, Pod>, now: Date, warn: (msg: string) => void): Promise<Map<string, Pod>> {
  const out = new Map<string, Pod>();
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => !f.startsWith('.') && /\.(ya?ml|json)$/.test(f)).sort();
  for (const f of files) {
    const file = join(dir, f);
    try {
      const docs = parseAllDocuments(await readFile(file, 'utf8')).filter((d) => d.contents !== null);
      if (docs.length !== 1) throw new Error(`${file}: expected one Pod, found ${docs.length} documents`);
      const pod = staticPodFrom(docs[0]!.toJS(), file, nodeName, now);
      const uid = pod.metadata!.uid!;
      // An unchanged file keeps the pod it already was (and its config.seen).
      out.set(uid, previous.get(uid) ?? pod);
    } catch (err) {
      warn((err as Error).message);
    }
  }
  return out;
}

/** The mirror pod the kubelet creates in the API for a static pod. */
export function mirrorPodFor(pod: Pod, nodeName: string, nodeUid: string): Pod {
  const { uid: _uid, resourceVersion: _rv, ...meta } = structuredClone(pod.metadata ?? {});
  return {
    ...structuredClone(pod),
    metadata: {
      ...meta,
      annotations: { ...(meta.annotations ?? {}), [ANNOTATION_CONFIG_MIRROR]: meta.annotations?.[ANNOTATION_CONFIG_HASH] ?? '' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid, controller: true }],
    },
  };
}

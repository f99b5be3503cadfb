// The API objects a pod names, as upstream's pkg/api/v1/pod visitors (VisitPodSecretNames, VisitPodConfigmapNames)
// walk them: imagePullSecrets; env and envFrom of init, regular and ephemeral containers; configMap, secret and
// projected volumes; the Secret refs of volume plugins (CSI nodePublishSecretRef, azureFile, cephfs, cinder,
// flexVolume, iscsi, rbd, scaleIO, storageos); and the claims of persistentVolumeClaim and generic ephemeral volumes.
// Pure: the kubelet's object watches and the node authorizer's graph both read it.
import type { Pod } from 'kubernetes-types/core/v1.js';

export type PodReferenceKind = 'secret' | 'configmap' | 'pvc';

/**
 * Where the pod names the object: `volume` for content mounted into the pod (configMap, secret, projected sources),
 * `volumePlugin` for a Secret a volume plugin reads, `claim` for a volume's PersistentVolumeClaim, `env` for container
 * env/envFrom, `imagePullSecrets`.
 */
export type PodReferenceSource = 'volume' | 'volumePlugin' | 'claim' | 'env' | 'imagePullSecrets';

export interface PodReference {
  kind: PodReferenceKind;
  name: string;
  from: PodReferenceSource;
}

/** Volume plugins that name a Secret in a field of their own (upstream's VisitPodSecretNames). */
const VOLUME_PLUGIN_SECRET_REFS: readonly [plugin: string, field: string][] = [
  ['azureFile', 'secretName'],
  ['cephfs', 'secretRef'],
  ['cinder', 'secretRef'],
  ['flexVolume', 'secretRef'],
  ['iscsi', 'secretRef'],
  ['rbd', 'secretRef'],
  ['scaleIO', 'secretRef'],
  ['storageos', 'secretRef'],
  ['csi', 'nodePublishSecretRef'],
];

/** Every object the pod names, in spec order, duplicates included (one entry per place that names it). */
export function podReferences(pod: Pod): PodReference[] {
  const spec = pod.spec;
  const out: PodReference[] = [];
  if (!spec) return out;
  const add = (kind: PodReferenceKind, name: string | undefined, from: PodReferenceSource) => {
    if (name) out.push({ kind, name, from });
  };
  for (const s of spec.imagePullSecrets ?? []) add('secret', s.name, 'imagePullSecrets');
  for (const list of [spec.initContainers, spec.containers, spec.ephemeralContainers]) {
    for (const c of list ?? []) {
      for (const e of c.env ?? []) {
        add('configmap', e.valueFrom?.configMapKeyRef?.name, 'env');
        add('secret', e.valueFrom?.secretKeyRef?.name, 'env');
      }
      for (const e of c.envFrom ?? []) {
        add('configmap', e.configMapRef?.name, 'env');
        add('secret', e.secretRef?.name, 'env');
      }
    }
  }
  const podName = pod.metadata?.name ?? '';
  for (const v of spec.volumes ?? []) {
    add('configmap', v.configMap?.name, 'volume');
    add('secret', v.secret?.secretName, 'volume');
    for (const src of v.projected?.sources ?? []) {
      add('configmap', src.configMap?.name, 'volume');
      add('secret', src.secret?.name, 'volume');
    }
    const plugins = v as unknown as Record<string, Record<string, unknown> | undefined>;
    for (const [plugin, field] of VOLUME_PLUGIN_SECRET_REFS) {
      const ref = plugins[plugin]?.[field];
      add('secret', typeof ref === 'string' ? ref : (ref as { name?: string } | undefined)?.name, 'volumePlugin');
    }
    add('pvc', v.persistentVolumeClaim?.claimName, 'claim');
    // A generic ephemeral volume's claim is named after the pod and the volume.
    if (v.ephemeral && podName) add('pvc', `${podName}-${v.name}`, 'claim');
  }
  return out;
}

// Upstream's ServiceAccount admission for pods: a pod without spec.serviceAccountName runs as "default", and unless
// the pod or its ServiceAccount turns automountServiceAccountToken off, every container (and init container) mounts
// a "kube-api-access-xxxxx" projected volume at /var/run/secrets/kubernetes.io/serviceaccount with a bound token
// (3607 s: the server extends it, the kubelet rotates it), the cluster CA (ConfigMap kube-root-ca.crt) and the
// namespace. A pod without imagePullSecrets gets its ServiceAccount's. Mirror pods are left alone. A pod whose
// ServiceAccount does not exist is refused (403 "error looking up service account <ns>/<name>: serviceaccount
// \"<name>\" not found"); as upstream, a missing "default" account is looked up again for a while (the
// serviceaccount controller creates it right after its namespace).
import { randomInt } from 'node:crypto';
import type { KubeObject } from '../../api/object.js';
import { ApiError } from '../../machinery/errors.js';
import type { AdmissionAttributes, MutatingAdmission } from './types.js';

export const SERVICE_ACCOUNT_VOLUME_PREFIX = 'kube-api-access-';
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const KUBE_API_ACCESS_EXPIRATION_SECONDS = 3607;
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
/** The alphabet of upstream's SimpleNameGenerator (no vowels, no confusable digits). */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

interface MountLike {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}
interface ContainerLike {
  volumeMounts?: MountLike[];
}
interface PodSpecLike {
  serviceAccountName?: string;
  serviceAccount?: string;
  automountServiceAccountToken?: boolean;
  imagePullSecrets?: { name?: string }[];
  volumes?: { name: string }[];
  containers?: ContainerLike[];
  initContainers?: ContainerLike[];
}

export function kubeApiAccessVolume(name: string): Record<string, unknown> {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: KUBE_API_ACCESS_EXPIRATION_SECONDS, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

/** Upstream's lookups of a missing "default" ServiceAccount: 10 attempts, 100-200 ms apart. */
const DEFAULT_ACCOUNT_ATTEMPTS = 10;
const retryIntervalMs = (): number => 100 + randomInt(100);

export class ServiceAccountAdmission implements MutatingAdmission {
  readonly name = 'ServiceAccount';

  /**
   * `serviceAccount` reads the ServiceAccount (undefined when it does not exist); `sleep` waits between the lookups
   * of a missing "default" account.
   */
  constructor(
    private readonly serviceAccount: (namespace: string, name: string) => Promise<KubeObject | undefined>,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  private async lookup(namespace: string, name: string): Promise<KubeObject | undefined> {
    const attempts = name === 'default' ? DEFAULT_ACCOUNT_ATTEMPTS : 1;
    const interval = retryIntervalMs();
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await this.sleep(interval);
      const sa = await this.serviceAccount(namespace, name);
      if (sa) return sa;
    }
    return undefined;
  }

  async admit(a: AdmissionAttributes): Promise<void> {
    if (a.operation !== 'CREATE' || a.group !== '' || a.resource !== 'pods' || a.subresource !== '' || !a.object) return;
    const pod = a.object;
    if (pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return;
    const spec = (pod.spec ?? (pod.spec = {})) as PodSpecLike;
    if (!spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount || 'default';
    const sa = await this.lookup(a.namespace, spec.serviceAccountName);
    if (!sa) {
      // Upstream's admission.NewForbidden names the request's object: its name, else its generateName.
      const name = a.name || pod.metadata.name || pod.metadata.generateName || 'Unknown';
      throw ApiError.forbidden(
        '',
        'pods',
        name,
        `error looking up service account ${a.namespace}/${spec.serviceAccountName}: serviceaccount "${spec.serviceAccountName}" not found`,
      );
    }
    // A pod that names no pull secrets gets its ServiceAccount's.
    const saPullSecrets = (sa as { imagePullSecrets?: { name?: string }[] }).imagePullSecrets ?? [];
    if (!spec.imagePullSecrets?.length && saPullSecrets.length) spec.imagePullSecrets = saPullSecrets.map((r) => ({ ...r }));
    const saAutomount = (sa as { automountServiceAccountToken?: boolean }).automountServiceAccountToken;
    const automount = spec.automountServiceAccountToken ?? saAutomount ?? true;
    if (automount) mountServiceAccountToken(spec);
  }
}

function mountServiceAccountToken(spec: PodSpecLike): void {
  const volumes = spec.volumes ?? [];
  const existing = volumes.find((v) => v.name.startsWith(SERVICE_ACCOUNT_VOLUME_PREFIX));
  const volumeName = existing?.name ?? `${SERVICE_ACCOUNT_VOLUME_PREFIX}${randomSuffix()}`;
  let needed = false;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    // A container with its own mount at the path keeps it.
    if ((c.volumeMounts ?? []).some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH)) continue;
    c.volumeMounts = [...(c.volumeMounts ?? []), { name: volumeName, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }];
    needed = true;
  }
  if (!existing && needed) spec.volumes = [...volumes, kubeApiAccessVolume(volumeName) as unknown as { name: string }];
}

function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += NAME_ALPHABET[randomInt(NAME_ALPHABET.length)];
  return s;
}

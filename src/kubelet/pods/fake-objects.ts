// An in-memory ObjectSource for tests, with the kubelet's NotFound messages.
import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Secret } from 'kubernetes-types/core/v1.js';
import { PodConfigError, type ObjectSource } from './objects.js';

/** An in-memory ObjectSource with upstream's NotFound messages. */
export function fakeObjects(configMaps: ConfigMap[], secrets: Secret[] = [], pvcs: PersistentVolumeClaim[] = [], pvs: PersistentVolume[] = []): ObjectSource {
  const find = <T extends { metadata?: { namespace?: string; name?: string } }>(list: T[], what: string, ns: string, name: string) => {
    const o = list.find((x) => x.metadata?.namespace === ns && x.metadata?.name === name);
    if (!o) return Promise.reject(new PodConfigError(`${what} "${name}" not found`, true));
    return Promise.resolve(o);
  };
  return {
    configMap: (ns, name) => find(configMaps, 'configmap', ns, name),
    secret: (ns, name) => find(secrets, 'secret', ns, name),
    pvc: (ns, name) => find(pvcs, 'persistentvolumeclaims', ns, name),
    pv: (name) => find(pvs.map((p) => ({ ...p, metadata: { ...p.metadata, namespace: '' } })), 'persistentvolumes', '', name),
    serviceAccountToken: () => Promise.reject(new Error('the server could not find the requested resource')),
  };
}


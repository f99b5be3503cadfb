// Upstream's pod defaulting (pkg/apis/core/v1/defaults.go + the generated SetObjectDefaults_*): shared by pods,
// pod templates and every workload's template. Everything mutates in place and tolerates partial/malformed input.
import type { Container, EphemeralContainer, PodSpec, PodTemplateSpec, Probe, LifecycleHandler, Volume } from 'kubernetes-types/core/v1.js';
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { isPlainObject } from '../../../api/object.js';

/** Narrows a typed optional field to a present JSON object (bodies are untrusted, so the type alone proves nothing). */
function isObj<T>(v: T | undefined | null): v is T {
  return isPlainObject(v);
}

/** 0644, upstream's default file mode for secret, configMap, downwardAPI and projected volumes. */
const DEFAULT_VOLUME_MODE = 0o644;

/** The tag an image reference resolves to: "latest" when it names neither tag nor digest, "" with a digest only. */
export function imageTag(image: string): string {
  const atDigest = image.indexOf('@');
  const ref = atDigest >= 0 ? image.slice(0, atDigest) : image;
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > lastSlash) return ref.slice(colon + 1);
  return atDigest >= 0 ? '' : 'latest';
}

function arr<T>(v: T[] | undefined): T[] {
  return Array.isArray(v) ? v : [];
}

function defaultHandler(h: LifecycleHandler | undefined): void {
  if (!isObj(h)) return;
  if (isObj(h.httpGet)) {
    if (!h.httpGet.path) h.httpGet.path = '/';
    if (!h.httpGet.scheme) h.httpGet.scheme = 'HTTP';
  }
}

function defaultProbe(p: Probe | undefined): void {
  if (!isObj(p)) return;
  if (!p.timeoutSeconds) p.timeoutSeconds = 1;
  if (!p.periodSeconds) p.periodSeconds = 10;
  if (!p.successThreshold) p.successThreshold = 1;
  if (!p.failureThreshold) p.failureThreshold = 3;
  defaultHandler(p as LifecycleHandler);
  if (isObj(p.grpc) && p.grpc.service === undefined) p.grpc.service = '';
}

/** SetDefaults_Container plus the defaults of everything a container holds. */
export function defaultContainer(c: Container | EphemeralContainer): void {
  if (!isObj(c)) return;
  if (!c.imagePullPolicy) c.imagePullPolicy = imageTag(typeof c.image === 'string' ? c.image : '') === 'latest' ? 'Always' : 'IfNotPresent';
  if (!c.terminationMessagePath) c.terminationMessagePath = '/dev/termination-log';
  if (!c.terminationMessagePolicy) c.terminationMessagePolicy = 'File';
  // Not a pointer upstream, so every container shows `resources: {}`.
  if (c.resources === undefined || c.resources === null) c.resources = {};
  for (const port of arr(c.ports)) if (isObj(port) && !port.protocol) port.protocol = 'TCP';
  for (const env of arr(c.env)) {
    const fieldRef = isObj(env) && isObj(env.valueFrom) ? env.valueFrom.fieldRef : undefined;
    if (isObj(fieldRef) && !fieldRef.apiVersion) fieldRef.apiVersion = 'v1';
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  if (isObj(c.lifecycle)) {
    defaultHandler(c.lifecycle.postStart);
    defaultHandler(c.lifecycle.preStop);
  }
}

/** SetDefaults_Volume and the per-source defaults. */
export function defaultVolume(v: Volume): void {
  if (!isObj(v)) return;
  const sources = Object.keys(v).filter((k) => k !== 'name');
  if (sources.length === 0) v.emptyDir = {};
  if (isObj(v.secret) && v.secret.defaultMode === undefined) v.secret.defaultMode = DEFAULT_VOLUME_MODE;
  if (isObj(v.configMap) && v.configMap.defaultMode === undefined) v.configMap.defaultMode = DEFAULT_VOLUME_MODE;
  if (isObj(v.downwardAPI)) {
    if (v.downwardAPI.defaultMode === undefined) v.downwardAPI.defaultMode = DEFAULT_VOLUME_MODE;
    for (const item of arr(v.downwardAPI.items)) {
      if (isObj(item) && isObj(item.fieldRef) && !item.fieldRef.apiVersion) item.fieldRef.apiVersion = 'v1';
    }
  }
  if (isObj(v.projected)) {
    if (v.projected.defaultMode === undefined) v.projected.defaultMode = DEFAULT_VOLUME_MODE;
    for (const src of arr(v.projected.sources)) {
      if (!isObj(src)) continue;
      if (isObj(src.serviceAccountToken) && src.serviceAccountToken.expirationSeconds === undefined) {
        src.serviceAccountToken.expirationSeconds = 3600;
      }
      for (const item of arr(src.downwardAPI?.items)) {
        if (isObj(item) && isObj(item.fieldRef) && !item.fieldRef.apiVersion) item.fieldRef.apiVersion = 'v1';
      }
    }
  }
  if (isObj(v.hostPath) && v.hostPath.type === undefined) v.hostPath.type = '';
  if (isObj(v.iscsi) && !v.iscsi.iscsiInterface) v.iscsi.iscsiInterface = 'default';
  if (isObj(v.rbd)) {
    if (!v.rbd.pool) v.rbd.pool = 'rbd';
    if (!v.rbd.user) v.rbd.user = 'admin';
    if (!v.rbd.keyring) v.rbd.keyring = '/etc/ceph/keyring';
  }
  if (isObj(v.azureDisk)) {
    if (!v.azureDisk.cachingMode) v.azureDisk.cachingMode = 'ReadWrite';
    if (!v.azureDisk.fsType) v.azureDisk.fsType = 'ext4';
    if (v.azureDisk.readOnly === undefined) v.azureDisk.readOnly = false;
    if (!v.azureDisk.kind) v.azureDisk.kind = 'Shared';
  }
  if (isObj(v.scaleIO)) {
    if (!v.scaleIO.storageMode) v.scaleIO.storageMode = 'ThinProvisioned';
    if (!v.scaleIO.fsType) v.scaleIO.fsType = 'xfs';
  }
  if (isObj(v.ephemeral) && isObj(v.ephemeral.volumeClaimTemplate)) {
    defaultPersistentVolumeClaimSpec(v.ephemeral.volumeClaimTemplate.spec);
  }
}

/** SetDefaults_PersistentVolumeClaimSpec. */
export function defaultPersistentVolumeClaimSpec(spec: PersistentVolumeClaim['spec']): void {
  if (isObj(spec) && !spec.volumeMode) spec.volumeMode = 'Filesystem';
}

/** SetDefaults_PersistentVolumeClaim (also applied to StatefulSet volumeClaimTemplates). */
export function defaultPersistentVolumeClaim(pvc: PersistentVolumeClaim): void {
  if (!isObj(pvc)) return;
  if (!isObj(pvc.spec)) pvc.spec = {};
  defaultPersistentVolumeClaimSpec(pvc.spec);
  const status = isObj(pvc.status) ? pvc.status : ((pvc as { status?: PersistentVolumeClaim['status'] }).status = {});
  if (!status.phase) status.phase = 'Pending';
}

/** SetDefaults_PodSpec and the generated defaults below it: what a pod template gets. */
export function defaultPodSpec(spec: PodSpec): void {
  if (!isObj(spec)) return;
  if (!spec.dnsPolicy) spec.dnsPolicy = 'ClusterFirst';
  if (!spec.restartPolicy) spec.restartPolicy = 'Always';
  if (!isObj(spec.securityContext)) spec.securityContext = {};
  if (spec.terminationGracePeriodSeconds === undefined || spec.terminationGracePeriodSeconds === null) spec.terminationGracePeriodSeconds = 30;
  if (!spec.schedulerName) spec.schedulerName = 'default-scheduler';
  for (const c of arr(spec.initContainers)) defaultContainer(c);
  for (const c of arr(spec.containers)) defaultContainer(c);
  for (const c of arr(spec.ephemeralContainers)) defaultContainer(c);
  for (const v of arr(spec.volumes)) defaultVolume(v);
}

export function defaultPodTemplateSpec(template: PodTemplateSpec | undefined): void {
  if (!isObj(template)) return;
  if (isObj(template.spec)) defaultPodSpec(template.spec);
}

/** Requests default to limits for each resource named only in limits (pods only, not templates, as upstream). */
function defaultRequestsFromLimits(c: Container): void {
  if (!isObj(c) || !isObj(c.resources) || !isObj(c.resources.limits)) return;
  const requests = isObj(c.resources.requests) ? c.resources.requests : (c.resources.requests = {});
  for (const [name, value] of Object.entries(c.resources.limits)) if (!(name in requests)) requests[name] = value;
}

/** With hostNetwork, a container port's hostPort defaults to its containerPort. */
function defaultHostNetworkPorts(containers: Container[]): void {
  for (const c of containers) {
    for (const port of isObj(c) ? arr(c.ports) : []) {
      if (isObj(port) && !port.hostPort) port.hostPort = port.containerPort;
    }
  }
}

/** SetDefaults_Pod on top of the pod spec defaults. */
export function defaultPod(pod: { spec?: PodSpec }): void {
  const spec = pod.spec;
  if (!isObj(spec)) return;
  defaultPodSpec(spec);
  for (const c of [...arr(spec.containers), ...arr(spec.initContainers)]) defaultRequestsFromLimits(c);
  if (spec.enableServiceLinks === undefined || spec.enableServiceLinks === null) spec.enableServiceLinks = true;
  if (spec.hostNetwork === true) {
    defaultHostNetworkPorts(arr(spec.containers));
    defaultHostNetworkPorts(arr(spec.initContainers));
  }
}

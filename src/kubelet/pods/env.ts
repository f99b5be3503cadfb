// A container's environment as upstream's makeEnvironmentVariables builds it: envFrom first (ConfigMaps and Secrets,
// with prefix and optional; keys that are not valid names are skipped and reported), then env in order (value with
// $(VAR) expansion, fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef), later entries replacing earlier ones.
import type { Container, Pod, ResourceFieldSelector } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../machinery/quantity.js';
import type { KeyValue } from '../cri/types.js';
import { expandVars, fieldRefValue } from './config.js';
import { optionalRead, PodConfigError, secretBytes, type ObjectSource } from './objects.js';

/** Upstream's IsEnvVarName (C identifier plus '-' and '.', not starting with a digit). */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export interface EnvContext {
  objects: ObjectSource;
  podIPs: string[];
  hostIPs: string[];
  /** The node's allocatable resources: limits a container does not set default to these for the downward API. */
  allocatable: Record<string, string>;
  /** Upstream's InvalidEnvironmentVariableNames warning. */
  warn(reason: string, message: string): void;
}

/**
 * A resourceFieldRef's value (upstream's ExtractContainerResourceValue): limits.* default to the node's allocatable
 * when the container sets none; the value is divided by the divisor (default 1) and rounded up.
 */
export function resourceFieldValue(sel: ResourceFieldSelector, c: Container, allocatable: Record<string, string>): string {
  const [kind, resource] = sel.resource.split('.', 2) as [string, string | undefined];
  if (!resource || (kind !== 'limits' && kind !== 'requests')) throw new PodConfigError(`unsupported container resource : ${sel.resource}`);
  const set = kind === 'limits' ? c.resources?.limits : c.resources?.requests;
  let raw = set?.[resource] as string | number | undefined;
  if (raw === undefined && kind === 'limits') raw = allocatable[resource];
  const q = parseQuantity(String(raw ?? '0'));
  const divisor = parseQuantity(String(sel.divisor ?? '1'));
  if (resource === 'cpu') {
    const d = divisor.milliValue();
    return String(Math.ceil(q.milliValue() / (d === 0 ? 1000 : d)));
  }
  if (resource === 'memory' || resource === 'ephemeral-storage' || resource.startsWith('hugepages-')) {
    const d = divisor.value();
    return String(Math.ceil(q.value() / (d === 0 ? 1 : d)));
  }
  throw new PodConfigError(`unsupported container resource : ${sel.resource}`);
}

/** Resolves the environment; a missing required object or key throws a PodConfigError with upstream's message. */
export async function resolveEnv(pod: Pod, c: Container, ctx: EnvContext): Promise<KeyValue[]> {
  const ns = pod.metadata?.namespace ?? 'default';
  const env = new Map<string, string>();

  for (const from of c.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    let values: Map<string, Buffer> | undefined;
    let what = '';
    let name = '';
    if (from.configMapRef) {
      name = from.configMapRef.name ?? '';
      what = 'configMap';
      const cm = await optionalRead(() => ctx.objects.configMap(ns, name), from.configMapRef.optional);
      // envFrom reads data only (as upstream); binaryData never becomes environment.
      if (cm) values = new Map(Object.entries(cm.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'utf8')]));
    } else if (from.secretRef) {
      name = from.secretRef.name ?? '';
      what = 'secret';
      const s = await optionalRead(() => ctx.objects.secret(ns, name), from.secretRef.optional);
      if (s) values = secretBytes(s);
    }
    if (!values) continue;
    const invalid: string[] = [];
    for (const [k, v] of values) {
      const key = prefix + k;
      if (!ENV_NAME.test(key)) {
        invalid.push(key);
        continue;
      }
      env.set(key, v.toString('utf8'));
    }
    if (invalid.length > 0) {
      invalid.sort();
      ctx.warn('InvalidEnvironmentVariableNames', `Keys [${invalid.join(', ')}] from the EnvFrom ${what} ${ns}/${name} were skipped since they are considered invalid environment variable names.`);
    }
  }

  for (const e of c.env ?? []) {
    const from = e.valueFrom;
    if (!from) {
      env.set(e.name, expandVars(e.value ?? '', (n) => env.get(n)));
      continue;
    }
    if (from.fieldRef) {
      const v = fieldRefValue(pod, from.fieldRef.fieldPath, ctx.podIPs, ctx.hostIPs);
      if (v !== undefined) env.set(e.name, v);
    } else if (from.resourceFieldRef) {
      const target = from.resourceFieldRef.containerName
        ? [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x) => x.name === from.resourceFieldRef!.containerName)
        : c;
      if (!target) throw new PodConfigError(`container ${from.resourceFieldRef.containerName} not found`);
      env.set(e.name, resourceFieldValue(from.resourceFieldRef, target, ctx.allocatable));
    } else if (from.configMapKeyRef) {
      const ref = from.configMapKeyRef;
      const name = ref.name ?? '';
      const cm = await optionalRead(() => ctx.objects.configMap(ns, name), ref.optional);
      if (!cm) continue;
      const v = cm.data?.[ref.key];
      if (v === undefined) {
        if (ref.optional) continue;
        throw new PodConfigError(`couldn't find key ${ref.key} in ConfigMap ${ns}/${name}`);
      }
      env.set(e.name, v);
    } else if (from.secretKeyRef) {
      const ref = from.secretKeyRef;
      const name = ref.name ?? '';
      const s = await optionalRead(() => ctx.objects.secret(ns, name), ref.optional);
      if (!s) continue;
      const v = secretBytes(s).get(ref.key);
      if (v === undefined) {
        if (ref.optional) continue;
        throw new PodConfigError(`couldn't find key ${ref.key} in Secret ${ns}/${name}`);
      }
      env.set(e.name, v.toString('utf8'));
    }
  }
  return [...env].map(([key, value]) => ({ key, value }));
}

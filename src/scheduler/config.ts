// --scheduler-config: a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) file, decoded strictly and
// validated as upstream does for the parts skiff honours: profiles (schedulerName, plugins per extension point,
// pluginConfig args, score weights, percentageOfNodesToScore), the global percentageOfNodesToScore and the pod backoff.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { isPlainObject } from '../api/object.js';
import { EXTENSION_POINTS } from './framework/interfaces.js';
import { DEFAULT_SCHEDULER_NAME, type PluginConfig, type PluginSet, type PluginsConfig, type ProfileConfig } from './framework/profile.js';

export const SCHEDULER_CONFIG_API_VERSION = 'kubescheduler.config.k8s.io/v1';

export interface SchedulerConfiguration {
  profiles: ProfileConfig[];
  percentageOfNodesToScore?: number;
  podInitialBackoffSeconds: number;
  podMaxBackoffSeconds: number;
}

/** Fields upstream's v1 type has that skiff accepts but does not act on (a single in-process scheduler). */
const ACCEPTED_TOP_LEVEL = new Set(['apiVersion', 'kind', 'parallelism', 'leaderElection', 'clientConnection', 'healthzBindAddress', 'metricsBindAddress', 'enableProfiling', 'enableContentionProfiling', 'extenders', 'delayCacheUntilActive']);
const USED_TOP_LEVEL = new Set(['profiles', 'percentageOfNodesToScore', 'podInitialBackoffSeconds', 'podMaxBackoffSeconds']);
const PROFILE_FIELDS = new Set(['schedulerName', 'plugins', 'pluginConfig', 'percentageOfNodesToScore']);
const PLUGIN_POINTS = new Set<string>(['multiPoint', ...Object.keys(EXTENSION_POINTS)]);

class ConfigErrors {
  readonly list: string[] = [];
  add(path: string, msg: string): void {
    this.list.push(`${path}: ${msg}`);
  }
}

function checkPercentage(errs: ConfigErrors, path: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 100) {
    errs.add(path, `Invalid value: ${JSON.stringify(v)}: not in valid range [0-100]`);
    return undefined;
  }
  return v;
}

function pluginSet(errs: ConfigErrors, path: string, raw: unknown): PluginSet | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isPlainObject(raw)) {
    errs.add(path, 'must be an object with enabled and disabled lists');
    return undefined;
  }
  const set: PluginSet = {};
  for (const key of Object.keys(raw)) if (key !== 'enabled' && key !== 'disabled') errs.add(`${path}.${key}`, 'unknown field');
  for (const which of ['enabled', 'disabled'] as const) {
    const list = raw[which];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) {
      errs.add(`${path}.${which}`, 'must be a list');
      continue;
    }
    const refs = list.map((p: unknown, i) => {
      const name = isPlainObject(p) ? p.name : undefined;
      if (typeof name !== 'string' || !name) errs.add(`${path}.${which}[${i}].name`, 'Required value');
      const weight = isPlainObject(p) ? p.weight : undefined;
      if (weight !== undefined && (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 0)) {
        errs.add(`${path}.${which}[${i}].weight`, `Invalid value: ${JSON.stringify(weight)}: must be a non-negative integer`);
      }
      return { name: String(name ?? ''), ...(typeof weight === 'number' && which === 'enabled' ? { weight } : {}) };
    });
    if (which === 'enabled') set.enabled = refs;
    else set.disabled = refs.map((r) => ({ name: r.name }));
  }
  return set;
}

function profile(errs: ConfigErrors, path: string, raw: unknown): ProfileConfig | undefined {
  if (!isPlainObject(raw)) {
    errs.add(path, 'must be an object');
    return undefined;
  }
  for (const key of Object.keys(raw)) if (!PROFILE_FIELDS.has(key)) errs.add(`${path}.${key}`, 'unknown field');
  const out: ProfileConfig = {};
  const name = raw.schedulerName ?? DEFAULT_SCHEDULER_NAME;
  if (typeof name !== 'string' || name === '') errs.add(`${path}.schedulerName`, 'Required value');
  else out.schedulerName = name;
  const pct = checkPercentage(errs, `${path}.percentageOfNodesToScore`, raw.percentageOfNodesToScore);
  if (pct !== undefined) out.percentageOfNodesToScore = pct;
  if (raw.plugins !== undefined && raw.plugins !== null) {
    if (!isPlainObject(raw.plugins)) errs.add(`${path}.plugins`, 'must be an object');
    else {
      const plugins: PluginsConfig = {};
      for (const [point, set] of Object.entries(raw.plugins)) {
        if (!PLUGIN_POINTS.has(point)) {
          errs.add(`${path}.plugins.${point}`, 'unknown field');
          continue;
        }
        const s = pluginSet(errs, `${path}.plugins.${point}`, set);
        if (s) plugins[point as keyof PluginsConfig] = s;
      }
      out.plugins = plugins;
    }
  }
  if (raw.pluginConfig !== undefined && raw.pluginConfig !== null) {
    if (!Array.isArray(raw.pluginConfig)) errs.add(`${path}.pluginConfig`, 'must be a list');
    else {
      const seen = new Set<string>();
      out.pluginConfig = raw.pluginConfig.map((pc: unknown, i): PluginConfig => {
        const p = `${path}.pluginConfig[${i}]`;
        const pcName = isPlainObject(pc) ? pc.name : undefined;
        if (typeof pcName !== 'string' || !pcName) errs.add(`${p}.name`, 'Required value');
        else if (seen.has(pcName)) errs.add(`${p}.name`, `Duplicate value: ${JSON.stringify(pcName)}`);
        else seen.add(pcName);
        const args = isPlainObject(pc) ? pc.args : undefined;
        if (args !== undefined && args !== null && !isPlainObject(args)) errs.add(`${p}.args`, 'must be an object');
        // apiVersion/kind inside args (e.g. kind: NodeResourcesFitArgs) name the type; the plugin reads the rest.
        const { apiVersion: _a, kind: _k, ...rest } = isPlainObject(args) ? args : {};
        return { name: String(pcName ?? ''), ...(isPlainObject(args) ? { args: rest } : {}) };
      });
    }
  }
  return out;
}

/** Decodes and validates a parsed KubeSchedulerConfiguration; throws one Error listing every problem. */
export function parseSchedulerConfig(doc: unknown, source = 'scheduler config'): SchedulerConfiguration {
  const errs = new ConfigErrors();
  if (!isPlainObject(doc)) throw new Error(`${source}: not a YAML mapping`);
  if (doc.apiVersion !== SCHEDULER_CONFIG_API_VERSION) {
    throw new Error(`${source}: apiVersion must be ${SCHEDULER_CONFIG_API_VERSION} (got ${JSON.stringify(doc.apiVersion)})`);
  }
  if (doc.kind !== 'KubeSchedulerConfiguration') throw new Error(`${source}: kind must be KubeSchedulerConfiguration (got ${JSON.stringify(doc.kind)})`);
  for (const key of Object.keys(doc)) if (!ACCEPTED_TOP_LEVEL.has(key) && !USED_TOP_LEVEL.has(key)) errs.add(key, 'unknown field');

  const pct = checkPercentage(errs, 'percentageOfNodesToScore', doc.percentageOfNodesToScore);
  const backoff = (field: string, def: number): number => {
    const v = doc[field];
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      errs.add(field, `Invalid value: ${JSON.stringify(v)}: must be greater than 0`);
      return def;
    }
    return v;
  };
  const initial = backoff('podInitialBackoffSeconds', 1);
  const max = backoff('podMaxBackoffSeconds', 10);
  if (max < initial) errs.add('podMaxBackoffSeconds', `Invalid value: ${max}: must be greater than or equal to PodInitialBackoffSeconds`);

  let profiles: ProfileConfig[] = [{ schedulerName: DEFAULT_SCHEDULER_NAME }];
  if (doc.profiles !== undefined && doc.profiles !== null) {
    if (!Array.isArray(doc.profiles)) errs.add('profiles', 'must be a list');
    else if (doc.profiles.length > 0) {
      profiles = doc.profiles.map((p: unknown, i) => profile(errs, `profiles[${i}]`, p)).filter((p): p is ProfileConfig => p !== undefined);
      const names = new Set<string>();
      profiles.forEach((p, i) => {
        const name = p.schedulerName ?? DEFAULT_SCHEDULER_NAME;
        if (names.has(name)) errs.add(`profiles[${i}].schedulerName`, `Duplicate value: ${JSON.stringify(name)}`);
        names.add(name);
      });
      // Every profile shares one queue, so they must sort it the same way (upstream's validateCommonQueueSort).
      const sorts = profiles.map((p) => JSON.stringify(p.plugins?.queueSort ?? null));
      sorts.forEach((s, i) => {
        if (i > 0 && s !== sorts[0]) errs.add(`profiles[${i}].plugins.queueSort`, 'Invalid value: queueSort must be the same for all profiles');
      });
    }
  }
  if (errs.list.length > 0) throw new Error(`${source}: invalid KubeSchedulerConfiguration:\n  ${errs.list.join('\n  ')}`);
  return {
    profiles,
    ...(pct !== undefined ? { percentageOfNodesToScore: pct } : {}),
    podInitialBackoffSeconds: initial,
    podMaxBackoffSeconds: max,
  };
}

export function loadSchedulerConfig(path: string): SchedulerConfiguration {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`--scheduler-config ${path}: ${(err as Error).message}`);
  }
  return parseSchedulerConfig(parseYaml(text), path);
}

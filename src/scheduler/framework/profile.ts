// Scheduler profiles as KubeSchedulerConfiguration (v1) describes them: plugins enabled and disabled per extension
// point or for all of them at once (multiPoint), score weights and plugin args, built into plugin lists.
import { ALL_ACTIONS, implementsEnqueueExtensions, type ClusterEventWithHint } from './events.js';
import type { ExtensionPoint, ExtensionPointPlugins, Plugin, ScorePlugin } from './interfaces.js';
import { EXTENSION_POINTS, implementsPoint } from './interfaces.js';
import type { Registry } from './registry.js';

export interface PluginRef {
  name: string;
  weight?: number;
}

export interface PluginSet {
  enabled?: PluginRef[];
  /** "*" disables every default plugin of the extension point. */
  disabled?: { name: string }[];
}

export type PluginsConfig = Partial<Record<ExtensionPoint | 'multiPoint', PluginSet>>;

export interface PluginConfig {
  name: string;
  args?: unknown;
}

export interface ProfileConfig {
  schedulerName?: string;
  plugins?: PluginsConfig;
  pluginConfig?: PluginConfig[];
  /** 0 (or absent) uses the adaptive default; upstream honours this per profile or globally. */
  percentageOfNodesToScore?: number;
}

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

/** Upstream's v1 default multiPoint plugins (1.31) with their score weights. */
export const DEFAULT_MULTI_POINT: readonly PluginRef[] = [
  { name: 'SchedulingGates' },
  { name: 'PrioritySort' },
  { name: 'NodeUnschedulable' },
  { name: 'NodeName' },
  { name: 'TaintToleration', weight: 3 },
  { name: 'NodeAffinity', weight: 2 },
  { name: 'NodePorts' },
  { name: 'NodeResourcesFit', weight: 1 },
  { name: 'VolumeRestrictions' },
  { name: 'NodeVolumeLimits' },
  { name: 'VolumeBinding' },
  { name: 'VolumeZone' },
  { name: 'PodTopologySpread', weight: 2 },
  { name: 'InterPodAffinity', weight: 2 },
  { name: 'DefaultPreemption' },
  { name: 'NodeResourcesBalancedAllocation', weight: 1 },
  { name: 'ImageLocality', weight: 1 },
  { name: 'DefaultBinder' },
];

/** Upstream's mergePluginSet: user plugins replace same-named defaults in place, others are appended. */
export function mergePluginSet(defaults: PluginSet, custom: PluginSet | undefined): PluginSet {
  const disabled = (custom?.disabled ?? []).map((d) => ({ name: d.name }));
  const disabledNames = new Set(disabled.map((d) => d.name));
  const customEnabled = custom?.enabled ?? [];
  const customByName = new Map(customEnabled.map((p, i) => [p.name, i] as const));
  const replaced = new Set<number>();
  const enabled: PluginRef[] = [];
  if (!disabledNames.has('*')) {
    for (const d of defaults.enabled ?? []) {
      if (disabledNames.has(d.name)) continue;
      const i = customByName.get(d.name);
      if (i === undefined) {
        enabled.push({ ...d });
      } else {
        enabled.push({ ...customEnabled[i]! });
        replaced.add(i);
      }
    }
  }
  customEnabled.forEach((p, i) => {
    if (!replaced.has(i)) enabled.push({ ...p });
  });
  return { enabled, disabled };
}

/** The user's plugins merged over the defaults, as upstream's v1 defaulting does. */
export function defaultedPlugins(custom: PluginsConfig | undefined, defaults: readonly PluginRef[] = DEFAULT_MULTI_POINT): PluginsConfig {
  const out: PluginsConfig = { multiPoint: mergePluginSet({ enabled: [...defaults] }, custom?.multiPoint) };
  for (const point of Object.keys(EXTENSION_POINTS) as ExtensionPoint[]) {
    const set = custom?.[point];
    if (set) out[point] = mergePluginSet({}, set);
  }
  return out;
}

export interface Profile {
  readonly schedulerName: string;
  readonly plugins: ExtensionPointPlugins;
  /** Score weight per score plugin (at least 1). */
  readonly scoreWeights: ReadonlyMap<string, number>;
  readonly percentageOfNodesToScore?: number;
  /** The events each plugin that can reject a pod registered, with their hints (upstream's queueingHintMap). */
  readonly queueingHints: ReadonlyMap<string, readonly ClusterEventWithHint[]>;
}

/** Extension points whose rejections park a pod in the unschedulable pool (upstream's EnqueueExtensions sources). */
const REJECTING_POINTS = ['preEnqueue', 'preFilter', 'filter', 'reserve', 'permit', 'preBind'] as const satisfies readonly ExtensionPoint[];

/**
 * Each rejecting plugin's registrations; a plugin that does not declare any (no eventsToRegister) is moved by every
 * event, as upstream registers all events for it.
 */
export function buildQueueingHints(plugins: ExtensionPointPlugins): Map<string, readonly ClusterEventWithHint[]> {
  const out = new Map<string, readonly ClusterEventWithHint[]>();
  for (const point of REJECTING_POINTS) {
    for (const p of plugins[point] as Plugin[]) {
      if (out.has(p.name)) continue;
      out.set(p.name, implementsEnqueueExtensions(p) ? p.eventsToRegister() : [{ event: { resource: '*', actionType: ALL_ACTIONS, label: '*' } }]);
    }
  }
  return out;
}

export interface BuildProfileOptions {
  /** Plugins named in the configuration but not registered are skipped instead of failing (for partial builds). */
  ignoreUnknownPlugins?: boolean;
  /** Replaces the default multiPoint list (tests use a smaller one). */
  defaults?: readonly PluginRef[];
}

/**
 * Instantiates a profile's plugins once each and orders them per extension point as upstream's framework does:
 * plugins named at the point itself that override a multiPoint entry first, then multiPoint ones, then the rest.
 */
export function buildProfile(config: ProfileConfig, registry: Registry, opts: BuildProfileOptions = {}): Profile {
  const pct = config.percentageOfNodesToScore;
  if (pct !== undefined && (!Number.isInteger(pct) || pct < 0 || pct > 100)) {
    throw new Error(`percentageOfNodesToScore: Invalid value: ${pct}: not in valid range [0-100]`);
  }
  const plugins = defaultedPlugins(config.plugins, opts.defaults);
  const args = new Map<string, unknown>();
  for (const pc of config.pluginConfig ?? []) {
    if (args.has(pc.name)) throw new Error(`repeated config for plugin ${pc.name}`);
    args.set(pc.name, pc.args);
  }

  const instances = new Map<string, Plugin>();
  const instance = (name: string): Plugin | undefined => {
    let p = instances.get(name);
    if (p) return p;
    const factory = registry.get(name);
    if (!factory) {
      if (opts.ignoreUnknownPlugins) return undefined;
      throw new Error(`plugin ${JSON.stringify(name)} does not exist`);
    }
    p = factory(args.get(name));
    instances.set(name, p);
    return p;
  };

  const scoreWeights = new Map<string, number>();
  const setWeight = (ref: PluginRef): void => {
    if (ref.weight !== undefined && (!Number.isInteger(ref.weight) || ref.weight < 0)) {
      throw new Error(`score plugin ${JSON.stringify(ref.name)} has an invalid weight ${ref.weight}`);
    }
    scoreWeights.set(ref.name, ref.weight || 1);
  };

  const multi = plugins.multiPoint?.enabled ?? [];
  const result = {} as Record<ExtensionPoint, Plugin[]>;
  for (const point of Object.keys(EXTENSION_POINTS) as ExtensionPoint[]) {
    const explicit = (plugins[point]?.enabled ?? []).map((p) => p.name);
    for (const name of explicit) {
      const p = instance(name);
      if (p && !implementsPoint(p, point)) throw new Error(`plugin ${JSON.stringify(name)} does not extend ${point} plugin`);
    }
    const disabled = new Set((plugins[point]?.disabled ?? []).map((d) => d.name));
    const explicitSet = new Set(explicit);
    const overrides = new Set<string>();
    const fromMulti: string[] = [];
    if (!disabled.has('*')) {
      for (const ref of multi) {
        const p = instance(ref.name);
        if (!p || !implementsPoint(p, point) || disabled.has(ref.name)) continue;
        if (explicitSet.has(ref.name)) {
          overrides.add(ref.name);
          continue;
        }
        if (fromMulti.includes(ref.name)) throw new Error(`plugin ${JSON.stringify(ref.name)} already registered as ${point} plugin`);
        fromMulti.push(ref.name);
      }
    }
    const ordered = [
      ...explicit.filter((n) => overrides.has(n)),
      ...fromMulti,
      ...explicit.filter((n) => !overrides.has(n)),
    ];
    result[point] = ordered.map((n) => instance(n)).filter((p): p is Plugin => p !== undefined);
    if (point === 'score') {
      for (const ref of multi) if (fromMulti.includes(ref.name)) setWeight(ref);
      for (const ref of plugins.score?.enabled ?? []) setWeight(ref);
    }
  }
  if (result.queueSort.length > 1) throw new Error('only one queue sort plugin can be enabled');
  const built = result as unknown as ExtensionPointPlugins;
  return {
    schedulerName: config.schedulerName ?? DEFAULT_SCHEDULER_NAME,
    plugins: built,
    scoreWeights,
    queueingHints: buildQueueingHints(built),
    ...(config.percentageOfNodesToScore !== undefined ? { percentageOfNodesToScore: config.percentageOfNodesToScore } : {}),
  };
}

export const scoreWeight = (profile: Profile, plugin: ScorePlugin): number => profile.scoreWeights.get(plugin.name) ?? 1;

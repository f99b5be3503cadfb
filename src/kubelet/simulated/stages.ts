// Stages: what a simulated node does to its objects, as data (in the spirit of kwok's Stage API). A stage has a
// selector (labels, annotations, and expressions over fields such as .metadata.deletionTimestamp or .status.phase), a
// delay (fixed, from an expression such as an annotation or a timestamp, with optional jitter) and a next step (a
// status rendered from a template and merged into the object, or deletion). The first matching stage in list order
// applies; after it applied, the object's new state picks the next one.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { isPlainObject } from '../../api/object.js';
import { evalExpr, parseDuration, parseExpr, render, type Scope } from './expr.js';

export type ExpressionOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface StageExpression {
  /** A field path, e.g. ".status.phase" or ".metadata.annotations[\"skiff.dev/not-ready\"]". */
  key: string;
  operator: ExpressionOperator;
  values?: string[];
}

export interface StageSelector {
  matchLabels?: Record<string, string>;
  matchAnnotations?: Record<string, string>;
  matchExpressions?: StageExpression[];
}

export interface StageDelay {
  durationMilliseconds?: number;
  /** An expression whose value (a duration such as "5s", or a timestamp to wait until) replaces the fixed duration. */
  durationFrom?: { expressionFrom: string };
  /** Upper bound of the delay: it is picked uniformly between the duration and this. */
  jitterDurationMilliseconds?: number;
  jitterDurationFrom?: { expressionFrom: string };
}

export interface StageNext {
  /** Rendered (see expr.ts render) and merged into .status (objects merge, lists and scalars replace). */
  statusTemplate?: unknown;
  /** Delete the object (grace period 0: the node confirms that the pod is gone). */
  delete?: boolean;
  /** An Event to record about the object when the stage applies. */
  event?: { type: 'Normal' | 'Warning'; reason: string; message: string };
}

export interface Stage {
  name: string;
  /** The kind the stage applies to; simulated nodes run stages for their Pods (Nodes heartbeat in code). */
  resource: 'Pod';
  selector?: StageSelector;
  delay?: StageDelay;
  /** Variables rendered before the template, available as $name. */
  vars?: Record<string, string>;
  next: StageNext;
}

const OPERATORS: readonly ExpressionOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** Validates a parsed stage list (a YAML/JSON document: {kind: StageList, items: [...]}, or a bare list). */
export function parseStages(doc: unknown, source = 'stages'): Stage[] {
  const items = Array.isArray(doc) ? doc : isPlainObject(doc) && Array.isArray(doc.items) ? doc.items : undefined;
  if (!items) throw new Error(`${source}: expected a list of stages or a StageList with items`);
  const names = new Set<string>();
  return items.map((raw: unknown, i) => {
    const where = `${source}: stage ${i}`;
    if (!isPlainObject(raw)) throw new Error(`${where}: not an object`);
    const s = raw as unknown as Stage;
    if (typeof s.name !== 'string' || !s.name) throw new Error(`${where}: name is required`);
    if (names.has(s.name)) throw new Error(`${where}: duplicate name ${s.name}`);
    names.add(s.name);
    if (s.resource !== 'Pod') throw new Error(`${where} (${s.name}): resource must be Pod`);
    if (!isPlainObject(s.next)) throw new Error(`${where} (${s.name}): next is required`);
    for (const e of s.selector?.matchExpressions ?? []) {
      if (!OPERATORS.includes(e.operator)) throw new Error(`${where} (${s.name}): unknown operator ${String(e.operator)}`);
      parseExpr(e.key);
      if ((e.operator === 'In' || e.operator === 'NotIn') && !Array.isArray(e.values)) {
        throw new Error(`${where} (${s.name}): ${e.operator} needs values`);
      }
    }
    for (const from of [s.delay?.durationFrom, s.delay?.jitterDurationFrom]) if (from) parseExpr(from.expressionFrom);
    return s;
  });
}

export function loadStagesFile(path: string): Stage[] {
  return parseStages(parseYaml(readFileSync(path, 'utf8')), path);
}

/** The stage set shipped with skiff (src/kubelet/simulated/stages/default.yaml; one folder less up from the agent bundle). */
const STAGES_CANDIDATES = ['../../../../', '../../../'].map((up) => fileURLToPath(new URL(`${up}src/kubelet/simulated/stages/default.yaml`, import.meta.url)));
export const DEFAULT_STAGES_FILE = STAGES_CANDIDATES.find((p) => existsSync(p)) ?? STAGES_CANDIDATES[0]!;

let defaults: Stage[] | undefined;
export function defaultStages(): Stage[] {
  defaults ??= loadStagesFile(DEFAULT_STAGES_FILE);
  return defaults;
}

function asText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Does the stage's selector match the object (whose fields the scope's root is)? */
export function selectorMatches(selector: StageSelector | undefined, obj: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } }, scope: Scope): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (obj.metadata?.labels?.[k] !== v) return false;
  for (const [k, v] of Object.entries(selector.matchAnnotations ?? {})) if (obj.metadata?.annotations?.[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const value = asText(evalExpr(e.key, scope));
    switch (e.operator) {
      case 'Exists':
        if (value === undefined) return false;
        break;
      case 'DoesNotExist':
        if (value !== undefined) return false;
        break;
      case 'In':
        if (value === undefined || !(e.values ?? []).includes(value)) return false;
        break;
      case 'NotIn':
        if (value !== undefined && (e.values ?? []).includes(value)) return false;
        break;
    }
  }
  return true;
}

/** A delay value: a duration ("5s", "1500ms", a number of ms) or a timestamp to wait until. */
function delayFrom(v: unknown, nowMs: number): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string' || v === '') return undefined;
  const d = parseDuration(v);
  if (d !== undefined) return d;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t - nowMs;
}

/** The delay before the stage applies, in ms (never negative); `random` in [0, 1) picks the jitter. */
export function stageDelay(delay: StageDelay | undefined, scope: Scope, nowMs: number, random: () => number): number {
  if (!delay) return 0;
  let base = delay.durationMilliseconds ?? 0;
  if (delay.durationFrom) base = delayFrom(evalExpr(delay.durationFrom.expressionFrom, scope), nowMs) ?? base;
  let jitter = delay.jitterDurationMilliseconds;
  if (delay.jitterDurationFrom) jitter = delayFrom(evalExpr(delay.jitterDurationFrom.expressionFrom, scope), nowMs) ?? jitter;
  let ms = base;
  if (jitter !== undefined && jitter > base) ms = base + Math.floor(random() * (jitter - base));
  return Math.max(0, ms);
}

/** Stage variables rendered in order (each may use the ones before it), added to the scope. */
export function withVars(stage: Stage, scope: Scope): Scope {
  if (!stage.vars) return scope;
  const vars = new Map(scope.vars);
  for (const [name, template] of Object.entries(stage.vars)) vars.set(name, render(template, { ...scope, vars }));
  return { ...scope, vars };
}

/** The first stage of the list that matches. */
export function firstMatch(stages: readonly Stage[], obj: Parameters<typeof selectorMatches>[1], scope: Scope): Stage | undefined {
  return stages.find((s) => selectorMatches(s.selector, obj, scope));
}

/** Merge as a JSON merge patch does: objects merge key by key, anything else (lists too) replaces; null removes. */
export function mergeInto(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const out: Record<string, unknown> = isPlainObject(base) ? { ...base } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergeInto(out[k], v);
  }
  return out;
}

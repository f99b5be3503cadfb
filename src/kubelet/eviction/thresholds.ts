// Node-pressure eviction settings as the kubelet takes them (--eviction-hard, --eviction-soft,
// --eviction-soft-grace-period, --eviction-minimum-reclaim, --eviction-pressure-transition-period,
// --eviction-max-pod-grace-period), given to skiff as --kubelet-arg values. Hard thresholds the user leaves out keep
// upstream's defaults (memory.available<100Mi, nodefs.available<10%, nodefs.inodesFree<5%, imagefs.available<15%,
// imagefs.inodesFree<5%), as the kubelet merges them since 1.31.
import { parseQuantity } from '../../machinery/quantity.js';
import { parseGoDuration } from '../../machinery/duration.js';
import { kubeletArgDuration, kubeletArgInteger, kubeletArgs } from '../kubelet-args.js';

export const EVICTION_SIGNALS = ['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree', 'pid.available'] as const;
export type EvictionSignal = (typeof EVICTION_SIGNALS)[number];

/** A threshold value: an absolute quantity (bytes, inodes, pids) or a fraction of capacity. */
export type ThresholdValue = { quantity: number; text: string } | { percentage: number };

export interface EvictionThreshold {
  signal: EvictionSignal;
  value: ThresholdValue;
  /** Soft thresholds: how long the signal must stay past the threshold; 0 for hard ones. */
  gracePeriodMs: number;
  /** --eviction-minimum-reclaim: evict until the signal is this much past the threshold. */
  minReclaim?: ThresholdValue;
}

export interface EvictionConfig {
  thresholds: EvictionThreshold[];
  /** --eviction-pressure-transition-period (5m): how long a pressure condition stays after the signal recovered. */
  pressureTransitionPeriodMs: number;
  /** --eviction-max-pod-grace-period (0: the pod's own, capped by nothing) for soft evictions. */
  maxPodGracePeriodSeconds: number;
}

export const DEFAULT_EVICTION_HARD: Readonly<Record<EvictionSignal, string | undefined>> = {
  'memory.available': '100Mi',
  'nodefs.available': '10%',
  'nodefs.inodesFree': '5%',
  'imagefs.available': '15%',
  'imagefs.inodesFree': '5%',
  'pid.available': undefined,
};
export const DEFAULT_PRESSURE_TRANSITION_PERIOD_MS = 5 * 60_000;

/** The --kubelet-arg names this module reads (other kubelet settings parsers skip them). */
export const EVICTION_KUBELET_FLAGS: ReadonlySet<string> = new Set([
  'eviction-hard',
  'eviction-soft',
  'eviction-soft-grace-period',
  'eviction-minimum-reclaim',
  'eviction-pressure-transition-period',
  'eviction-max-pod-grace-period',
]);

function isSignal(s: string): s is EvictionSignal {
  return (EVICTION_SIGNALS as readonly string[]).includes(s);
}

function parseValue(flag: string, signal: string, raw: string): ThresholdValue {
  if (raw.endsWith('%')) {
    const p = Number(raw.slice(0, -1));
    if (!(p >= 0 && p <= 100) || raw.length === 1) throw new Error(`--kubelet-arg ${flag}: invalid percentage ${JSON.stringify(raw)} for ${signal}`);
    return { percentage: p / 100 };
  }
  try {
    const q = parseQuantity(raw);
    if (q.sign() < 0) throw new Error('negative');
    return { quantity: q.value(), text: raw };
  } catch {
    throw new Error(`--kubelet-arg ${flag}: invalid quantity ${JSON.stringify(raw)} for ${signal}`);
  }
}

/** "memory.available<100Mi,nodefs.available<10%" → signal → raw value (the kubelet's mapStringString with "<"). */
function parseMap(flag: string, value: string, sep: '<' | '='): Map<EvictionSignal, string> {
  const out = new Map<EvictionSignal, string>();
  for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const i = item.indexOf(sep);
    if (i <= 0) throw new Error(`--kubelet-arg ${flag}: ${JSON.stringify(item)} is not signal${sep}value`);
    const signal = item.slice(0, i).trim();
    if (!isSignal(signal)) throw new Error(`--kubelet-arg ${flag}: unsupported eviction signal ${JSON.stringify(signal)} (supported: ${EVICTION_SIGNALS.join(', ')})`);
    out.set(signal, item.slice(i + 1).trim());
  }
  return out;
}

/** The eviction settings among `--kubelet-arg` values (flag=value, with or without leading dashes). */
export function evictionConfigFromKubeletArgs(args: readonly string[]): EvictionConfig {
  const hard = new Map<EvictionSignal, string>();
  for (const [s, v] of Object.entries(DEFAULT_EVICTION_HARD) as [EvictionSignal, string | undefined][]) if (v !== undefined) hard.set(s, v);
  let soft = new Map<EvictionSignal, string>();
  let grace = new Map<EvictionSignal, string>();
  let reclaim = new Map<EvictionSignal, string>();
  let transitionMs = DEFAULT_PRESSURE_TRANSITION_PERIOD_MS;
  let maxPodGrace = 0;
  for (const arg of kubeletArgs(args)) {
    const { name, value } = arg;
    switch (name) {
      case 'eviction-hard':
        for (const [s, v] of parseMap(name, value, '<')) hard.set(s, v);
        break;
      case 'eviction-soft':
        soft = parseMap(name, value, '<');
        break;
      case 'eviction-soft-grace-period':
        grace = parseMap(name, value, '=');
        break;
      case 'eviction-minimum-reclaim':
        reclaim = parseMap(name, value, '=');
        break;
      case 'eviction-pressure-transition-period':
        transitionMs = kubeletArgDuration(arg);
        break;
      case 'eviction-max-pod-grace-period':
        maxPodGrace = kubeletArgInteger(arg);
        break;
      default:
        break;
    }
  }
  const thresholds: EvictionThreshold[] = [];
  const minReclaim = (s: EvictionSignal) => (reclaim.has(s) ? { minReclaim: parseValue('eviction-minimum-reclaim', s, reclaim.get(s)!) } : {});
  for (const [s, v] of hard) {
    const value = parseValue('eviction-hard', s, v);
    // "0%" or "0" disables a default threshold.
    if ('percentage' in value ? value.percentage === 0 : value.quantity === 0) continue;
    thresholds.push({ signal: s, value, gracePeriodMs: 0, ...minReclaim(s) });
  }
  for (const [s, v] of soft) {
    const g = grace.get(s);
    if (g === undefined) throw new Error(`--kubelet-arg eviction-soft: grace period must be specified for the soft eviction threshold ${s}`);
    const ms = parseGoDuration(g);
    if (ms === undefined || ms <= 0) throw new Error(`--kubelet-arg eviction-soft-grace-period: invalid duration ${JSON.stringify(g)} for ${s}`);
    thresholds.push({ signal: s, value: parseValue('eviction-soft', s, v), gracePeriodMs: ms, ...minReclaim(s) });
  }
  for (const s of grace.keys()) if (!soft.has(s)) throw new Error(`--kubelet-arg eviction-soft-grace-period: no soft eviction threshold for ${s}`);
  return { thresholds, pressureTransitionPeriodMs: transitionMs, maxPodGracePeriodSeconds: maxPodGrace };
}

export const DEFAULT_EVICTION_CONFIG: EvictionConfig = evictionConfigFromKubeletArgs([]);

// The per-pod periodic resync (upstream's --sync-frequency): each pod worker is synced again a period plus a random
// jitter after its last sync, so idle pods are not all re-read at once.
import { kubeletArgDuration, kubeletArgs } from '../kubelet-args.js';

/** Upstream's --sync-frequency default: each pod is synced again this long (plus jitter) after its last sync. */
export const DEFAULT_SYNC_FREQUENCY_MS = 60_000;
/** Upstream's pod workers add up to half the period at random (workerResyncIntervalJitterFactor). */
export const RESYNC_JITTER_FACTOR = 0.5;
/** When a pod is synced again after a sync: `periodMs` plus up to half of it (`random` in [0,1)), as wait.Jitter. */
export function resyncDelayMs(periodMs: number, random: number): number {
  return periodMs + random * RESYNC_JITTER_FACTOR * periodMs;
}

/** --kubelet-arg sync-frequency=<Go duration> (the last one wins); undefined when not given. */
export function syncFrequencyFromKubeletArgs(args: readonly string[]): number | undefined {
  let out: number | undefined;
  for (const arg of kubeletArgs(args)) if (arg.name === 'sync-frequency') out = kubeletArgDuration(arg, { positive: true });
  return out;
}


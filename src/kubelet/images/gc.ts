// Image garbage collection by disk thresholds, as upstream's realImageGCManager: when the image filesystem's usage
// reaches --image-gc-high-threshold percent, unused images are removed (least recently used first, then oldest
// detected) until usage is down to --image-gc-low-threshold. Never removed: images any container uses (running or
// exited), pinned images (the runtime's pinned flag, the sandbox image, and the archives of <data-dir>/agent/images as
// k3s pins them), and images first seen less than --minimum-image-ttl-duration ago. A high threshold of 100 disables it.
import { EVICTION_KUBELET_FLAGS } from '../eviction/thresholds.js';
import { statfs } from 'node:fs/promises';
import type { Clock } from '../../client/index.js';
import { formatGoDuration } from '../../machinery/duration.js';
import { kubeletArgDuration, kubeletArgInteger, kubeletArgs } from '../kubelet-args.js';
import type { Container, Image, ImageSpec } from '../cri/types.js';

export interface ImageGCPolicy {
  highThresholdPercent: number;
  lowThresholdPercent: number;
  /** Images first detected less than this long ago are kept. */
  minAgeMs: number;
}

/** Upstream's defaults: 85 / 80 percent, 2 minutes. */
export const DEFAULT_IMAGE_GC_POLICY: ImageGCPolicy = { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 120_000 };
/** How often the kubelet collects (upstream's ImageGCPeriod). */
export const IMAGE_GC_PERIOD_MS = 5 * 60_000;

/** Upstream's kubelet configuration checks of the thresholds. */
export function validateImageGCPolicy(p: ImageGCPolicy): void {
  const errs: string[] = [];
  if (!(p.highThresholdPercent >= 0 && p.highThresholdPercent <= 100)) {
    errs.push(`invalid configuration: imageGCHighThresholdPercent (--image-gc-high-threshold) ${p.highThresholdPercent} must be between 0 and 100, inclusive`);
  }
  if (!(p.lowThresholdPercent >= 0 && p.lowThresholdPercent <= 100)) {
    errs.push(`invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) ${p.lowThresholdPercent} must be between 0 and 100, inclusive`);
  }
  if (p.lowThresholdPercent >= p.highThresholdPercent) {
    errs.push(
      `invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) ${p.lowThresholdPercent} must be less than imageGCHighThresholdPercent (--image-gc-high-threshold) ${p.highThresholdPercent}`,
    );
  }
  if (!(p.minAgeMs >= 0)) errs.push(`invalid configuration: imageMinimumGCAge (--minimum-image-ttl-duration) must not be negative`);
  if (errs.length) throw new Error(errs.join('; '));
}

/** The image-GC settings among `--kubelet-arg` values (flag=value, with or without leading dashes). */
export function imageGCPolicyFromKubeletArgs(args: readonly string[]): ImageGCPolicy {
  const p = { ...DEFAULT_IMAGE_GC_POLICY };
  for (const arg of kubeletArgs(args)) {
    switch (arg.name) {
      case 'image-gc-high-threshold':
        p.highThresholdPercent = kubeletArgInteger(arg);
        break;
      case 'image-gc-low-threshold':
        p.lowThresholdPercent = kubeletArgInteger(arg);
        break;
      case 'minimum-image-ttl-duration':
        p.minAgeMs = kubeletArgDuration(arg);
        break;
      default:
        if (EVICTION_KUBELET_FLAGS.has(arg.name) || arg.name === 'sync-frequency' || arg.name === 'allowed-unsafe-sysctls') break;
        throw new Error(
          `--kubelet-arg ${JSON.stringify(arg.raw)}: unknown kubelet flag (supported: image-gc-high-threshold, image-gc-low-threshold, minimum-image-ttl-duration, sync-frequency, allowed-unsafe-sysctls, ${[...EVICTION_KUBELET_FLAGS].join(', ')})`,
        );
    }
  }
  validateImageGCPolicy(p);
  return p;
}

/** Capacity and free bytes of the filesystem images live on. */
export interface DiskUsage {
  capacityBytes: number;
  availableBytes: number;
}

/** statfs of `path` (the runtime's root, where its content store and snapshots are). */
export function statfsUsage(path: string): () => Promise<DiskUsage> {
  return async () => {
    const s = await statfs(path);
    return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize };
  };
}

/** What the collector needs of the runtime. */
export interface ImageRuntime {
  listImages(): Promise<Image[]>;
  listContainers(): Promise<Container[]>;
  removeImage(image: ImageSpec): Promise<void>;
}

export interface ImageGCOptions {
  runtime: ImageRuntime;
  usage: () => Promise<DiskUsage>;
  clock: Clock;
  policy: ImageGCPolicy;
  /** Image names never removed (the sandbox image, imported archives); read at each collection. */
  pinned: () => ReadonlySet<string>;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** A collection could not free enough (upstream's ImageGCFailed node event). */
  onFailure?: (message: string) => void;
}

interface ImageRecord {
  firstDetected: number;
  lastUsed: number;
  size: number;
}

export interface GCResult {
  /** Bytes to free (0: usage below the high threshold). */
  wanted: number;
  freed: number;
  removed: string[];
}

export class ImageGC {
  private readonly records = new Map<string, ImageRecord>();

  constructor(private readonly o: ImageGCOptions) {}

  /** Upstream's detectImages: notes new images and when each was last used; returns the IDs in use. */
  async detectImages(now = this.o.clock.now()): Promise<{ images: Image[]; inUse: Set<string> }> {
    const images = await this.o.runtime.listImages();
    const refs = new Set<string>();
    for (const c of await this.o.runtime.listContainers()) {
      if (c.imageRef) refs.add(c.imageRef);
      if (c.image?.image) refs.add(c.image.image);
    }
    const inUse = new Set<string>();
    for (const img of images) {
      if (refs.has(img.id) || img.repoTags.some((t) => refs.has(t)) || img.repoDigests.some((d) => refs.has(d))) inUse.add(img.id);
      let rec = this.records.get(img.id);
      if (!rec) this.records.set(img.id, (rec = { firstDetected: now, lastUsed: 0, size: img.size }));
      rec.size = img.size;
      if (inUse.has(img.id)) rec.lastUsed = now;
    }
    const present = new Set(images.map((i) => i.id));
    for (const id of this.records.keys()) if (!present.has(id)) this.records.delete(id);
    return { images, inUse };
  }

  private isPinned(img: Image, pinned: ReadonlySet<string>): boolean {
    return img.pinned || img.repoTags.some((t) => pinned.has(t)) || img.repoDigests.some((d) => pinned.has(d));
  }

  /** One collection: frees space down to the low threshold when usage reached the high one. */
  async garbageCollect(): Promise<GCResult> {
    const { policy } = this.o;
    const now = this.o.clock.now();
    const { images, inUse } = await this.detectImages(now);
    if (policy.highThresholdPercent >= 100) return { wanted: 0, freed: 0, removed: [] };
    const { capacityBytes, availableBytes } = await this.o.usage();
    if (capacityBytes <= 0) throw new Error(`invalid capacity ${capacityBytes} on image filesystem`);
    const usagePercent = 100 - Math.floor((availableBytes * 100) / capacityBytes);
    if (usagePercent < policy.highThresholdPercent) return { wanted: 0, freed: 0, removed: [] };
    const wanted = Math.floor((capacityBytes * (100 - policy.lowThresholdPercent)) / 100) - availableBytes;
    const result = await this.freeSpace(wanted, now, images, inUse);
    if (result.freed < wanted) {
      const message = `Failed to garbage collect required amount of images. Attempted to free ${wanted} bytes, but only found ${result.freed} bytes eligible to free.`;
      this.o.onFailure?.(message);
    }
    return result;
  }

  private async freeSpace(wanted: number, now: number, images: Image[], inUse: Set<string>): Promise<GCResult> {
    const pinned = this.o.pinned();
    const candidates = images
      .filter((img) => !inUse.has(img.id) && !this.isPinned(img, pinned))
      .map((img) => ({ img, rec: this.records.get(img.id)! }))
      // Least recently used first, then the earliest detected.
      .sort((a, b) => a.rec.lastUsed - b.rec.lastUsed || a.rec.firstDetected - b.rec.firstDetected);
    const removed: string[] = [];
    let freed = 0;
    for (const { img, rec } of candidates) {
      if (freed >= wanted) break;
      if (now - rec.firstDetected < this.o.policy.minAgeMs) continue;
      try {
        await this.o.runtime.removeImage({ image: img.id });
      } catch (err) {
        this.o.log?.('image gc: removing an image failed', { image: img.id, err: (err as Error).message });
        continue;
      }
      this.o.log?.('image gc: removed', { image: img.id, tags: img.repoTags.join(','), size: img.size, age: formatGoDuration((now - rec.firstDetected) * 1e6) });
      this.records.delete(img.id);
      removed.push(img.id);
      freed += img.size;
    }
    return { wanted, freed, removed };
  }
}

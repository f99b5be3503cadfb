import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../client/index.js';
import type { Container, Image, ImageSpec } from '../cri/types.js';
import { DEFAULT_IMAGE_GC_POLICY, ImageGC, imageGCPolicyFromKubeletArgs, type DiskUsage, type ImageRuntime } from './gc.js';

const MB = 1024 * 1024;

class FakeRuntime implements ImageRuntime {
  images: Image[] = [];
  containers: Container[] = [];
  removed: string[] = [];
  async listImages(): Promise<Image[]> {
    return this.images;
  }
  async listContainers(): Promise<Container[]> {
    return this.containers;
  }
  async removeImage(spec: ImageSpec): Promise<void> {
    this.removed.push(spec.image);
    this.images = this.images.filter((i) => i.id !== spec.image);
  }
}

const image = (id: string, tag: string, sizeMb: number, pinned = false): Image => ({ id, repoTags: [tag], repoDigests: [`${tag.split(':')[0]}@sha256:${id}`], size: sizeMb * MB, pinned });
const container = (imageRef: string): Container =>
  ({ id: `c-${imageRef}`, podSandboxId: 's', metadata: { name: 'c', attempt: 0 }, image: { image: imageRef }, imageRef, state: 'CONTAINER_EXITED', createdAt: 0, labels: {}, annotations: {} }) as Container;

function setup(disk: DiskUsage, pinned: string[] = []) {
  const clock = new FakeClock(0);
  const runtime = new FakeRuntime();
  const failures: string[] = [];
  const usage = { ...disk };
  const gc = new ImageGC({
    runtime,
    clock,
    usage: async () => usage,
    policy: DEFAULT_IMAGE_GC_POLICY,
    pinned: () => new Set(pinned),
    onFailure: (m) => failures.push(m),
  });
  return { clock, runtime, gc, failures, usage };
}

test('below the high threshold nothing is removed; above it unused images go, oldest first, down to the low threshold', async () => {
  // 1000 MB disk: 160 MB free is 84 % used; 150 MB free is 85 % (the high threshold); the low threshold wants 200 MB free -> 50 MB to free.
  const { clock, runtime, gc, usage } = setup({ capacityBytes: 1000 * MB, availableBytes: 160 * MB });
  runtime.images = [image('old', 'r/old:1', 30)];
  await gc.detectImages();
  clock.step(60_000);
  runtime.images.push(image('newer', 'r/newer:1', 30), image('used', 'r/used:1', 300), image('third', 'r/third:1', 30));
  runtime.containers = [container('used')];
  await gc.detectImages();
  clock.step(10 * 60_000);
  assert.deepEqual(await gc.garbageCollect(), { wanted: 0, freed: 0, removed: [] });
  usage.availableBytes = 150 * MB;
  const r = await gc.garbageCollect();
  assert.equal(r.wanted, 50 * MB);
  // The image in use (even by an exited container) stays; "old" (first detected earlier) goes before "newer".
  assert.deepEqual(r.removed, ['old', 'newer']);
  assert.deepEqual(runtime.images.map((i) => i.id), ['used', 'third']);
});

test('pinned images (runtime flag or pinned names) and images younger than the minimum age are never removed', async () => {
  const { clock, runtime, gc, failures } = setup({ capacityBytes: 100 * MB, availableBytes: 0 }, ['docker.io/library/busybox:latest']);
  runtime.images = [
    image('imported', 'docker.io/library/busybox:latest', 5),
    image('pause', 'registry.k8s.io/pause:3.10', 5, true),
    image('pulled', '127.0.0.1:5000/app:v1', 5),
  ];
  await gc.detectImages();
  clock.step(119_000);
  // Too young: nothing eligible; the shortfall is reported as upstream's ImageGCFailed message.
  const young = await gc.garbageCollect();
  assert.deepEqual(young.removed, []);
  assert.equal(failures[0], `Failed to garbage collect required amount of images. Attempted to free ${20 * MB} bytes, but only found 0 bytes eligible to free.`);
  clock.step(1000);
  assert.deepEqual((await gc.garbageCollect()).removed, ['pulled']);
  assert.deepEqual(runtime.removed, ['pulled']);
  // A high threshold of 100 disables collection.
  const off = new ImageGC({ runtime, clock, usage: async () => ({ capacityBytes: 1, availableBytes: 0 }), policy: { ...DEFAULT_IMAGE_GC_POLICY, highThresholdPercent: 100 }, pinned: () => new Set() });
  assert.deepEqual(await off.garbageCollect(), { wanted: 0, freed: 0, removed: [] });
});

test('--kubelet-arg image GC flags with upstream validation messages', () => {
  assert.deepEqual(imageGCPolicyFromKubeletArgs([]), { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 120_000 });
  assert.deepEqual(imageGCPolicyFromKubeletArgs(['image-gc-high-threshold=1', '--image-gc-low-threshold=0', 'minimum-image-ttl-duration=0s']), {
    highThresholdPercent: 1,
    lowThresholdPercent: 0,
    minAgeMs: 0,
  });
  assert.throws(() => imageGCPolicyFromKubeletArgs(['image-gc-low-threshold=90']), {
    message: 'invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) 90 must be less than imageGCHighThresholdPercent (--image-gc-high-threshold) 85',
  });
  assert.throws(() => imageGCPolicyFromKubeletArgs(['image-gc-high-threshold=101']), /must be between 0 and 100, inclusive/);
  assert.throws(() => imageGCPolicyFromKubeletArgs(['image-gc-high-threshold=x']), /not an integer/);
  assert.throws(() => imageGCPolicyFromKubeletArgs(['max-pods=10']), /unknown kubelet flag/);
});

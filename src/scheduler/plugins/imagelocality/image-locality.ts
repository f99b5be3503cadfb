// ImageLocality: favours nodes that already hold the pod's container images, weighted by image size and by how
// widely the image is spread (an image on every node says little about any one of them).
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { CycleState } from '../../framework/cycle-state.js';
import { idiv } from '../../framework/helpers.js';
import type { ScorePlugin } from '../../framework/interfaces.js';
import { MAX_NODE_SCORE } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node-info.js';

export const IMAGE_LOCALITY = 'ImageLocality';
const STATE_KEY = 'Score' + IMAGE_LOCALITY;

const MB = 1024 * 1024;
/** Below this summed score a node gets 0 (upstream's minThreshold). */
export const MIN_THRESHOLD = 23 * MB;
/** Per container; the summed score is capped at this times the number of containers. */
export const MAX_CONTAINER_THRESHOLD = 1000 * MB;

/** An image reference without a tag means ":latest", as the runtime pulls it. */
export function normalizedImageName(name: string): string {
  return name.lastIndexOf(':') <= name.lastIndexOf('/') ? `${name}:latest` : name;
}

interface PodImages {
  /** The pod's image names (init containers and containers), normalized. */
  names: string[];
  /** Nodes holding each image, counted over the snapshot the first time a node holds one of them. */
  spread: Map<string, number> | undefined;
}

export class ImageLocality implements ScorePlugin {
  readonly name = IMAGE_LOCALITY;

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    // Spread is measured over the whole snapshot: how many nodes hold each of the pod's images, once per cycle and
    // only when some scored node holds one (otherwise every node's sum is 0 whatever the spread).
    const nodes = state.allNodes.length ? state.allNodes : [nodeInfo];
    let images = state.get<PodImages>(STATE_KEY);
    if (!images) {
      const names: string[] = [];
      for (const c of pod.spec?.initContainers ?? []) names.push(normalizedImageName(c.image ?? ''));
      for (const c of pod.spec?.containers ?? []) names.push(normalizedImageName(c.image ?? ''));
      images = { names, spread: undefined } satisfies PodImages;
      state.write(STATE_KEY, images);
    }
    const { names } = images;
    let sum = 0;
    if (nodeInfo.imageSizes.size > 0) {
      for (const name of names) {
        const size = nodeInfo.imageSizes.get(name);
        if (size === undefined) continue;
        if (!images.spread) {
          const spread = new Map<string, number>();
          for (const n of new Set(names)) {
            let count = 0;
            for (const info of nodes) if (info.imageSizes.has(n)) count++;
            spread.set(n, count);
          }
          images.spread = spread;
        }
        sum += Math.trunc(size * ((images.spread.get(name) ?? 0) / nodes.length));
      }
    }
    const maxThreshold = MAX_CONTAINER_THRESHOLD * names.length;
    // A pod without containers has nothing to pull.
    if (maxThreshold <= MIN_THRESHOLD) return 0;
    const clamped = Math.min(Math.max(sum, MIN_THRESHOLD), maxThreshold);
    return idiv(MAX_NODE_SCORE * (clamped - MIN_THRESHOLD), maxThreshold - MIN_THRESHOLD);
  }
}

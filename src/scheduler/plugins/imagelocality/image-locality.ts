// ImageLocality: favours nodes that already hold the pod's container images, weighted by image size and by how
// widely the image is spread (an image on every node says little about any one of them).
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { CycleState } from '../../framework/cycle-state.js';
import { idiv } from '../../framework/helpers.js';
import type { ScorePlugin } from '../../framework/interfaces.js';
import { MAX_NODE_SCORE } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node-info.js';
import type { Status } from '../../framework/status.js';

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
  /** Nodes holding each image. */
  spread: Map<string, number>;
}

export class ImageLocality implements ScorePlugin {
  readonly name = IMAGE_LOCALITY;

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): { score: number; status?: Status } {
    // Spread is measured over the whole snapshot: how many nodes hold each of the pod's images, once per cycle.
    const nodes = state.allNodes.length ? state.allNodes : [nodeInfo];
    if (!state.has(STATE_KEY)) {
      const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
      const names = containers.map((c) => normalizedImageName(c.image ?? ''));
      const spread = new Map<string, number>();
      for (const name of new Set(names)) spread.set(name, nodes.reduce((n, info) => n + (info.imageSizes.has(name) ? 1 : 0), 0));
      state.write(STATE_KEY, { names, spread } satisfies PodImages);
    }
    const { names, spread } = state.read<PodImages>(STATE_KEY);
    let sum = 0;
    for (const name of names) {
      const size = nodeInfo.imageSizes.get(name);
      if (size !== undefined) sum += Math.trunc(size * ((spread.get(name) ?? 0) / nodes.length));
    }
    const maxThreshold = MAX_CONTAINER_THRESHOLD * names.length;
    // A pod without containers has nothing to pull.
    if (maxThreshold <= MIN_THRESHOLD) return { score: 0 };
    const clamped = Math.min(Math.max(sum, MIN_THRESHOLD), maxThreshold);
    return { score: idiv(MAX_NODE_SCORE * (clamped - MIN_THRESHOLD), maxThreshold - MIN_THRESHOLD) };
  }
}

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

interface ImageState {
  size: number;
  numNodes: number;
}

/** Every image name of every node with its size and the number of nodes holding it (upstream's ImageStates). */
function imageStates(nodes: readonly NodeInfo[]): Map<string, Map<string, ImageState>> {
  const counts = new Map<string, number>();
  const perNode = new Map<string, Map<string, ImageState>>();
  for (const n of nodes) {
    const images = new Map<string, ImageState>();
    for (const img of n.node?.status?.images ?? []) {
      for (const name of img.names ?? []) {
        if (images.has(name)) continue;
        images.set(name, { size: img.sizeBytes ?? 0, numNodes: 0 });
        counts.set(name, (counts.get(name) ?? 0) + 1);
      }
    }
    perNode.set(n.name, images);
  }
  for (const images of perNode.values()) for (const [name, s] of images) s.numNodes = counts.get(name)!;
  return perNode;
}

export class ImageLocality implements ScorePlugin {
  readonly name = IMAGE_LOCALITY;

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): { score: number; status?: Status } {
    // Spread is measured over the whole snapshot, computed once per cycle.
    const nodes = state.allNodes.length ? state.allNodes : [nodeInfo];
    if (!state.has(STATE_KEY)) state.write(STATE_KEY, imageStates(nodes));
    const images = state.read<Map<string, Map<string, ImageState>>>(STATE_KEY).get(nodeInfo.name);
    const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    let sum = 0;
    for (const c of containers) {
      const s = images?.get(normalizedImageName(c.image ?? ''));
      if (s) sum += Math.trunc(s.size * (s.numNodes / nodes.length));
    }
    const maxThreshold = MAX_CONTAINER_THRESHOLD * containers.length;
    // A pod without containers has nothing to pull.
    if (maxThreshold <= MIN_THRESHOLD) return { score: 0 };
    const clamped = Math.min(Math.max(sum, MIN_THRESHOLD), maxThreshold);
    return { score: idiv(MAX_NODE_SCORE * (clamped - MIN_THRESHOLD), maxThreshold - MIN_THRESHOLD) };
  }
}

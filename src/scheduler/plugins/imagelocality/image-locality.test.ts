import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerImage, Pod } from 'kubernetes-types/core/v1.js';
import { CycleState } from '../../framework/cycle-state.js';
import { NodeInfo } from '../../framework/node-info.js';
import { ImageLocality, normalizedImageName } from './image-locality.js';

const MB = 1024 * 1024;
const imageNode = (name: string, images: ContainerImage[]) => new NodeInfo({ metadata: { name }, status: { images } });
const pod = (...images: string[]): Pod => ({ metadata: { name: 'p' }, spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) } });

// The nodes of upstream's TestImageLocalityPriority.
const node403002000 = () =>
  imageNode('machine1', [
    { names: ['gcr.io/40:latest', 'gcr.io/40:v1', 'gcr.io/40:v1'], sizeBytes: 40 * MB },
    { names: ['gcr.io/300:latest', 'gcr.io/300:v1'], sizeBytes: 300 * MB },
    { names: ['gcr.io/2000:latest'], sizeBytes: 2000 * MB },
  ]);
const node25010 = () =>
  imageNode('machine2', [
    { names: ['gcr.io/250:latest'], sizeBytes: 250 * MB },
    { names: ['gcr.io/10:latest', 'gcr.io/10:v1'], sizeBytes: 10 * MB },
  ]);

function scores(p: Pod, nodes: NodeInfo[]): number[] {
  const plugin = new ImageLocality();
  const state = new CycleState();
  state.allNodes = nodes;
  return nodes.map((n) => plugin.score(state, p, n));
}

// Scores use 1.31's threshold of 1000 MB per container, so two containers cap at 2000 MB.
test('two images spread on two nodes, prefer the larger image one', () => {
  // machine1: 40 MB on half the nodes = 20 MB < 23 MB → 0; machine2: 125 MB → 100 * 102 / 1977 = 5.
  assert.deepEqual(scores(pod('gcr.io/40', 'gcr.io/250'), [node403002000(), node25010()]), [0, 5]);
});

test('two images on one node, prefer this node', () => {
  // machine1: (40 + 300) / 2 = 170 MB → 100 * 147 / 1977 = 7.
  assert.deepEqual(scores(pod('gcr.io/40', 'gcr.io/300'), [node403002000(), node25010()]), [7, 0]);
});

test('if exceed limit, use limit', () => {
  assert.deepEqual(scores(pod('gcr.io/2000', 'gcr.io/10'), [node403002000(), node25010()]), [49, 0]);
  // A single container: 1000 MB caps at the threshold → 100.
  assert.deepEqual(scores(pod('gcr.io/2000'), [node403002000(), node25010()]), [100, 0]);
});

test('if exceed limit, use limit (with node which has no images present)', () => {
  assert.deepEqual(scores(pod('gcr.io/2000', 'gcr.io/10'), [node403002000(), node25010(), imageNode('machine3', [])]), [32, 0, 0]);
});

test('image names without a tag mean latest', () => {
  assert.equal(normalizedImageName('gcr.io/40'), 'gcr.io/40:latest');
  assert.equal(normalizedImageName('localhost:5000/app'), 'localhost:5000/app:latest');
  assert.equal(normalizedImageName('gcr.io/40:v1'), 'gcr.io/40:v1');
});

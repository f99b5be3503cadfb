import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isMirrorPod, isStaticPod, mirrorPodFor, readStaticPods } from './static.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skiff-static-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const manifest = (cmd: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {a: b}}\nspec:\n  containers: [{name: c, image: busybox, command: [${cmd}]}]\n`;

test('static pods from a folder: upstream names, UID from the file, annotations, NoExecute toleration; edits are new pods', async () => {
  await writeFile(join(dir, 'web.yaml'), manifest('sleep'));
  await writeFile(join(dir, '.hidden.yaml'), manifest('sleep'));
  await writeFile(join(dir, 'notes.txt'), 'ignored');
  await writeFile(join(dir, 'broken.yaml'), 'kind: Service\nmetadata: {name: x}\n');
  const warnings: string[] = [];
  const now = new Date('2026-11-27T02:00:00Z');
  const pods = await readStaticPods(dir, 'Node-1', new Map(), now, (m) => warnings.push(m));
  assert.equal(pods.size, 1);
  const [uid, pod] = [...pods][0]!;
  assert.match(uid, /^[0-9a-f]{32}$/);
  assert.equal(pod.metadata?.name, 'web-node-1');
  assert.equal(pod.metadata?.namespace, 'default');
  assert.equal(pod.spec?.nodeName, 'Node-1');
  assert.deepEqual(pod.metadata?.annotations, {
    'kubernetes.io/config.hash': uid,
    'kubernetes.io/config.seen': '2026-11-27T02:00:00Z',
    'kubernetes.io/config.source': 'file',
  });
  assert.deepEqual(pod.spec?.tolerations, [{ operator: 'Exists', effect: 'NoExecute' }]);
  assert.ok(isStaticPod(pod));
  assert.deepEqual(warnings, [`${join(dir, 'broken.yaml')}: not a Pod`]);

  // Unchanged: the same pod object; edited: a new UID.
  const again = await readStaticPods(dir, 'Node-1', pods, new Date(), () => undefined);
  assert.equal(again.get(uid), pod);
  await writeFile(join(dir, 'web.yaml'), manifest('sh'));
  const edited = await readStaticPods(dir, 'Node-1', pods, new Date(), () => undefined);
  assert.equal(edited.size, 1);
  assert.ok(!edited.has(uid));

  const mirror: Pod = mirrorPodFor(pod, 'Node-1', 'node-uid');
  assert.equal(mirror.metadata?.uid, undefined);
  assert.equal(mirror.metadata?.annotations?.['kubernetes.io/config.mirror'], uid);
  assert.deepEqual(mirror.metadata?.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: 'Node-1', uid: 'node-uid', controller: true }]);
  assert.ok(isMirrorPod(mirror));
  assert.ok(!isMirrorPod(pod));
});

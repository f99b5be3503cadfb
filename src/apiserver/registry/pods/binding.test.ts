import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startInProcessApi } from '../../../controllers/testing/in-process-api.js';
import type { KubeObject } from '../../../api/object.js';

const ctx = { user: { name: 'admin', groups: ['system:masters'] }, dryRun: false };

test('a binding writes the pod without validating it again (upstream writes it through storage); other updates still validate', async () => {
  // ServiceAccount admission is off there: no serviceaccount controller runs.
  const { api } = await startInProcessApi();
  const pods = api.registry.store('', 'pods');
  await pods.create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }, ctx);
  const onNode = (nodeName: string) => (cur: KubeObject | undefined) => ({ ...cur!, spec: { ...(cur!.spec as object), nodeName } });
  // Upstream's ValidatePodBinding only asks for a target name; the node name is not checked as a DNS subdomain there.
  await assert.rejects(pods.update('default', 'p', onNode('Not_A_Node_Name'), ctx), (err: { code?: number }) => err.code === 422);
  const { object } = await pods.update('default', 'p', onNode('Not_A_Node_Name'), { ...ctx, subresource: 'binding' });
  assert.equal((object.spec as { nodeName?: string }).nodeName, 'Not_A_Node_Name');
  const stored = await pods.get('default', 'p');
  assert.equal((stored.spec as { nodeName?: string }).nodeName, 'Not_A_Node_Name');
  assert.equal(stored.metadata.uid, object.metadata.uid);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openMemoryStorage } from '../../../storage/memory/memory.js';
import { createApiServer } from '../../apiserver.js';
import type { KubeObject } from '../../../api/object.js';

const ctx = { user: { name: 'admin', groups: ['system:masters'] }, dryRun: false };

test('a binding writes the pod without validating it again (upstream writes it through storage); other updates still validate', async () => {
  const api = await createApiServer(openMemoryStorage(), {
    serviceCIDR: '198.19.0.0/16',
    advertiseAddress: '127.0.0.1',
    securePort: 6443,
    registerLongRunning: () => () => undefined,
    // No serviceaccount controller runs here (upstream's integration tests turn the plugin off too).
    admissionPlugins: { disable: ['ServiceAccount'] },
  });
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

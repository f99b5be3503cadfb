import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { podReferences } from './pod-references.js';

const pod: Pod = {
  metadata: { name: 'web', namespace: 'ns' },
  spec: {
    imagePullSecrets: [{ name: 'pull' }],
    initContainers: [{ name: 'i', env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'init-cm', key: 'k' } } }] }],
    containers: [
      {
        name: 'c',
        env: [{ name: 'B', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'k' } } }, { name: 'C', value: 'plain' }],
        envFrom: [{ configMapRef: { name: 'env-cm' } }, { secretRef: { name: 'envfrom-secret' } }],
      },
    ],
    ephemeralContainers: [{ name: 'debug', envFrom: [{ secretRef: { name: 'debug-secret' } }] }],
    volumes: [
      { name: 'a', secret: { secretName: 'vol-secret' } },
      { name: 'b', configMap: { name: 'vol-cm' } },
      { name: 'p', projected: { sources: [{ configMap: { name: 'proj-cm' } }, { secret: { name: 'proj-secret' } }, { serviceAccountToken: { path: 't' } }] } },
      { name: 'csi', csi: { driver: 'x', nodePublishSecretRef: { name: 'csi-secret' } } },
      { name: 'az', azureFile: { secretName: 'az-secret', shareName: 's' } },
      { name: 'rbd', rbd: { image: 'i', monitors: ['m'], secretRef: { name: 'rbd-secret' } } },
      { name: 'data', persistentVolumeClaim: { claimName: 'claim' } },
      { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: {} } } },
      { name: 'e', emptyDir: {} },
    ],
  },
};

test('podReferences walks containers of every kind, env/envFrom, volumes incl. projected and plugin secret refs, pull secrets and claims', () => {
  assert.deepEqual(
    podReferences(pod).map((r) => `${r.from}:${r.kind}/${r.name}`),
    [
      'imagePullSecrets:secret/pull',
      'env:configmap/init-cm',
      'env:secret/env-secret',
      'env:configmap/env-cm',
      'env:secret/envfrom-secret',
      'env:secret/debug-secret',
      'volume:secret/vol-secret',
      'volume:configmap/vol-cm',
      'volume:configmap/proj-cm',
      'volume:secret/proj-secret',
      'volumePlugin:secret/csi-secret',
      'volumePlugin:secret/az-secret',
      'volumePlugin:secret/rbd-secret',
      'claim:pvc/claim',
      'claim:pvc/web-scratch',
    ],
  );
});

test('podReferences of a pod without a spec or references is empty', () => {
  assert.deepEqual(podReferences({ metadata: { name: 'x' } }), []);
  assert.deepEqual(podReferences({ metadata: { name: 'x' }, spec: { containers: [{ name: 'c', image: 'i' }] } }), []);
});

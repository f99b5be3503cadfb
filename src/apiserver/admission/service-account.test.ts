import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/object.js';
import type { AdmissionAttributes } from './types.js';
import { SERVICE_ACCOUNT_MOUNT_PATH, ServiceAccountAdmission } from './service-account.js';

const user = { name: 'u', groups: [] };
function podCreate(spec: Record<string, unknown>, annotations?: Record<string, string>): AdmissionAttributes {
  const object: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', ...(annotations ? { annotations } : {}) }, spec };
  return { operation: 'CREATE', group: '', version: 'v1', resource: 'pods', subresource: '', kind: 'Pod', namespace: 'ns', name: 'p', object, user, dryRun: false };
}

interface Spec {
  serviceAccountName?: string;
  volumes?: { name: string; projected?: { defaultMode: number; sources: Record<string, unknown>[] } }[];
  containers: { name: string; volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[] }[];
  initContainers?: { name: string; volumeMounts?: { name: string; mountPath: string }[] }[];
}

test('pods run as "default" and every container mounts one kube-api-access volume', async () => {
  const plugin = new ServiceAccountAdmission(async (_ns, name) => (name === 'default' ? { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } } : undefined));
  const a = podCreate({ containers: [{ name: 'a' }, { name: 'b', volumeMounts: [{ name: 'own', mountPath: SERVICE_ACCOUNT_MOUNT_PATH }] }], initContainers: [{ name: 'i' }] });
  await plugin.admit(a);
  const spec = a.object!.spec as Spec;
  assert.equal(spec.serviceAccountName, 'default');
  assert.equal(spec.volumes?.length, 1);
  const vol = spec.volumes![0];
  assert.match(vol.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  assert.deepEqual(vol.projected, {
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  });
  assert.deepEqual(spec.containers[0].volumeMounts, [{ name: vol.name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }]);
  assert.deepEqual(spec.initContainers![0].volumeMounts, [{ name: vol.name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }]);
  // A container with its own mount at the path keeps it alone.
  assert.deepEqual(spec.containers[1].volumeMounts, [{ name: 'own', mountPath: SERVICE_ACCOUNT_MOUNT_PATH }]);
});

test('automountServiceAccountToken: the pod overrides its ServiceAccount; mirror pods are untouched', async () => {
  const noAutomount = new ServiceAccountAdmission(async (_ns, name) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name }, automountServiceAccountToken: false }) as KubeObject);
  const off = podCreate({ serviceAccountName: 'robot', containers: [{ name: 'a' }] });
  await noAutomount.admit(off);
  assert.equal((off.object!.spec as Spec).volumes, undefined);
  const on = podCreate({ serviceAccountName: 'robot', automountServiceAccountToken: true, containers: [{ name: 'a' }] });
  await noAutomount.admit(on);
  assert.equal((on.object!.spec as Spec).volumes?.length, 1);

  const mirror = podCreate({ containers: [{ name: 'a' }] }, { 'kubernetes.io/config.mirror': 'abc' });
  await new ServiceAccountAdmission(async () => undefined).admit(mirror);
  assert.deepEqual(mirror.object!.spec, { containers: [{ name: 'a' }] });
});

test("a pod without imagePullSecrets gets its ServiceAccount's; a pod naming its own keeps them", async () => {
  const plugin = new ServiceAccountAdmission(
    async (_ns, name) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name }, imagePullSecrets: [{ name: 'regcred' }] }) as KubeObject,
  );
  const bare = podCreate({ containers: [{ name: 'a' }] });
  await plugin.admit(bare);
  assert.deepEqual((bare.object!.spec as { imagePullSecrets?: unknown }).imagePullSecrets, [{ name: 'regcred' }]);
  const own = podCreate({ imagePullSecrets: [{ name: 'mine' }], containers: [{ name: 'a' }] });
  await plugin.admit(own);
  assert.deepEqual((own.object!.spec as { imagePullSecrets?: unknown }).imagePullSecrets, [{ name: 'mine' }]);
});

test('a pod whose ServiceAccount does not exist is refused with upstream\'s 403; a missing "default" is looked up 10 times', async () => {
  let calls = 0;
  const sleeps: number[] = [];
  const plugin = new ServiceAccountAdmission(
    async () => {
      calls++;
      return undefined;
    },
    async (ms) => {
      sleeps.push(ms);
    },
  );
  const named = podCreate({ serviceAccountName: 'robot', containers: [{ name: 'a' }] });
  await assert.rejects(plugin.admit(named), (e: unknown) => {
    const err = e as { code: number; reason: string; message: string };
    assert.equal(err.code, 403);
    assert.equal(err.reason, 'Forbidden');
    assert.equal(err.message, 'pods "p" is forbidden: error looking up service account ns/robot: serviceaccount "robot" not found');
    return true;
  });
  assert.equal(calls, 1);
  assert.equal((named.object!.spec as Spec).volumes, undefined);

  calls = 0;
  await assert.rejects(plugin.admit(podCreate({ containers: [{ name: 'a' }] })), /error looking up service account ns\/default: serviceaccount "default" not found/);
  assert.equal(calls, 10);
  assert.equal(sleeps.length, 9);
  assert.ok(sleeps.every((ms) => ms >= 100 && ms < 200));

  // The "default" account that appears during the retries admits the pod.
  let lookups = 0;
  const late = new ServiceAccountAdmission(
    async (_ns, name) => (++lookups >= 3 ? ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } } as KubeObject) : undefined),
    async () => {},
  );
  const pod = podCreate({ containers: [{ name: 'a' }] });
  await late.admit(pod);
  assert.equal(lookups, 3);
  assert.equal((pod.object!.spec as Spec).volumes?.length, 1);
});

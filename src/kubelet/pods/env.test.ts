import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, Container, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { resolveEnv, resourceFieldValue } from './env.js';
import { fakeObjects } from './fake-objects.js';
import { PodConfigError } from './objects.js';

const cm: ConfigMap = { metadata: { namespace: 'ns', name: 'cfg' }, data: { color: 'blue', 'bad key': 'x', '1st': 'y', size: 'L' } };
const secret: Secret = { metadata: { namespace: 'ns', name: 'creds' }, data: { password: Buffer.from('s3cret').toString('base64') } };
const objects = fakeObjects([cm], [secret]);

function podWith(c: Container): Pod {
  return { metadata: { name: 'p', namespace: 'ns', uid: 'u' }, spec: { containers: [c] } };
}

async function envOf(c: Container, warnings: string[] = []): Promise<Record<string, string>> {
  const kv = await resolveEnv(podWith(c), c, { objects, podIPs: [], hostIPs: [], allocatable: { cpu: '4', memory: '8Gi' }, warn: (r, m) => warnings.push(`${r}: ${m}`) });
  return Object.fromEntries(kv.map((e) => [e.key, e.value]));
}

test('configMapKeyRef and secretKeyRef values, optional misses skipped, expansion sees them', async () => {
  const env = await envOf({
    name: 'c',
    env: [
      { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'color' } } },
      { name: 'PW', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
      { name: 'GONE', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k', optional: true } } },
      { name: 'NOKEY', valueFrom: { secretKeyRef: { name: 'creds', key: 'user', optional: true } } },
      { name: 'BOTH', value: '$(COLOR)/$(PW)' },
    ],
  });
  assert.deepEqual(env, { COLOR: 'blue', PW: 's3cret', BOTH: 'blue/s3cret' });
});

test('missing objects and keys fail with upstream messages', async () => {
  const fails = async (c: Container, msg: string) => {
    await assert.rejects(envOf(c), (err: unknown) => err instanceof PodConfigError && err.message === msg);
  };
  await fails({ name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'x', key: 'k' } } }] }, 'configmap "x" not found');
  await fails({ name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }] }, "couldn't find key k in ConfigMap ns/cfg");
  await fails({ name: 'c', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'k' } } }] }, "couldn't find key k in Secret ns/creds");
  await fails({ name: 'c', envFrom: [{ secretRef: { name: 'none' } }] }, 'secret "none" not found');
});

test('envFrom with a prefix, invalid names skipped with an InvalidEnvironmentVariableNames warning, env overrides', async () => {
  const warnings: string[] = [];
  const env = await envOf(
    {
      name: 'c',
      envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CM_' }, { configMapRef: { name: 'cfg' } }, { secretRef: { name: 'missing', optional: true } }, { secretRef: { name: 'creds' } }],
      env: [{ name: 'size', value: 'XL' }],
    },
    warnings,
  );
  assert.deepEqual(env, { CM_color: 'blue', CM_1st: 'y', CM_size: 'L', color: 'blue', size: 'XL', password: 's3cret' });
  assert.deepEqual(warnings, [
    'InvalidEnvironmentVariableNames: Keys [CM_bad key] from the EnvFrom configMap ns/cfg were skipped since they are considered invalid environment variable names.',
    'InvalidEnvironmentVariableNames: Keys [1st, bad key] from the EnvFrom configMap ns/cfg were skipped since they are considered invalid environment variable names.',
  ]);
});

test('resourceFieldRef: divisor rounds up, limits default to node allocatable', async () => {
  const c: Container = {
    name: 'c',
    resources: { limits: { memory: '64Mi' }, requests: { cpu: '250m', memory: '32Mi' } },
    env: [
      { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
      { name: 'CPU_REQ_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
      { name: 'CPU_REQ', valueFrom: { resourceFieldRef: { resource: 'requests.cpu' } } },
      { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
      { name: 'MEM_REQ', valueFrom: { resourceFieldRef: { resource: 'requests.memory' } } },
    ],
  };
  assert.deepEqual(await envOf(c), { CPU_LIMIT: '4', CPU_REQ_M: '250', CPU_REQ: '1', MEM_MI: '64', MEM_REQ: String(32 * 1024 * 1024) });
  assert.equal(resourceFieldValue({ resource: 'limits.memory', divisor: '1Gi' }, { name: 'x' }, { memory: '8Gi' }), '8');
  assert.throws(() => resourceFieldValue({ resource: 'limits.gpu' }, { name: 'x' }, {}), PodConfigError);
});

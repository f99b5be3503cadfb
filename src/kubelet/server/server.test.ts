import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { createCA, issueClientCert, issueServingCert } from '../../apiserver/pki/issue.js';
import { podLogDirectory } from '../pods/config.js';
import type { RuntimeContainer, RuntimePod } from '../pods/runtime-state.js';
import { startKubeletServer, type KubeletServer } from './server.js';

const pod: Pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { containers: [{ name: 'c' }, { name: 'late' }] } };
const ctr = (name: string, restartCount: number, state: RuntimeContainer['state']) => ({ id: `${name}-${restartCount}`, name, restartCount, state }) as RuntimeContainer;
const cached = { uid: 'u1', name: 'p', namespace: 'ns', sandboxes: [], containers: [ctr('c', 1, 'exited'), ctr('c', 0, 'exited')] } as unknown as RuntimePod;
/** The runtime has a container the cache does not show yet (just started). */
const listed = { ...cached, containers: [...cached.containers, ctr('late', 0, 'exited')] } as RuntimePod;

let dir = '';
let server: KubeletServer;
let client: { ca: string; cert: string; key: string };
let runtimeCalls = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skiff-kubelet-server-'));
  const logDir = podLogDirectory(dir, pod);
  for (const [c, n, text] of [['c', 0, 'first run'], ['c', 1, 'second run'], ['late', 0, 'late one']] as const) {
    await mkdir(join(logDir, c), { recursive: true });
    await writeFile(join(logDir, c, `${n}.log`), `2026-01-01T00:00:00.000000000Z stdout F ${text}\n`);
  }
  const ca = await createCA('test-ca');
  const serving = await issueServingCert(ca, 'kubelet', { dnsNames: ['localhost'], ips: ['127.0.0.1'] });
  const cert = await issueClientCert(ca, 'apiserver', []);
  client = { ca: ca.certPem, cert: cert.certPem, key: cert.keyPem };
  server = await startKubeletServer(
    { agentDir: dir, nodeName: 'n', addresses: ['127.0.0.1'], clientCA: ca.certPem, serving: { cert: serving.certPem, key: serving.keyPem }, bindAddress: '127.0.0.1', port: 0 },
    {
      pod: (ns, name) => (ns === 'ns' && name === 'p' ? pod : undefined),
      runtime: async () => (runtimeCalls++, listed),
      cachedRuntime: (uid) => (uid === 'u1' ? cached : undefined),
      running: async () => false,
      exec: async () => ({ stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exitCode: 0 }),
      execUrl: async () => '',
      attachUrl: async () => '',
      portForwardUrl: async () => '',
      logRoot: dir,
    },
  );
});

after(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port: server.port, path, ca: client.ca, cert: client.cert, key: client.key, servername: 'localhost' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

test('container logs come from the kubelet\'s cached view of the pod; the runtime is asked only for a container the cache lacks', async () => {
  assert.deepEqual(await get('/containerLogs/ns/p/c'), { status: 200, body: 'second run\n' });
  assert.deepEqual(await get('/containerLogs/ns/p/c?previous=true'), { status: 200, body: 'first run\n' });
  assert.equal(runtimeCalls, 0, 'no runtime call for what the cache shows');
  assert.deepEqual(await get('/containerLogs/ns/p/late'), { status: 200, body: 'late one\n' });
  assert.equal(runtimeCalls, 1);
  const missing = await get('/containerLogs/ns/p/late?previous=true');
  assert.equal(missing.status, 400);
  assert.match(missing.body, /previous terminated container \\"late\\" in pod \\"p\\" not found/);
});

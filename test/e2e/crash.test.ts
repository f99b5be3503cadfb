// kill -9 during concurrent writes: every create the server acknowledged (201) must survive a SIGKILL and a restart
// on the same data, with SQLite and with etcd (etcd stays up; only skiff dies).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request as httpsRequest } from 'node:https';
import { kubeconfigCredentials, startTestServer, type TestServer } from './harness.js';

const CLIENTS = 50;
/** The clients write at least this long, and until CLIENTS creates were acknowledged, before the kill. */
const WRITE_MS = 1500;
/** ...but no longer than this (etcd's fsyncs make it the slower store). */
const MAX_WRITE_MS = 15_000;
/** Each client stops on its own after this long, whatever happens. */
const CLIENT_DEADLINE_MS = MAX_WRITE_MS + 5000;


function call(url: string, agent: Agent, method: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method,
        agent,
        timeout: 5000,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function crashDuringCreates(datastore: 'sqlite' | 'etcd'): Promise<void> {
  const srv: TestServer = await startTestServer({ datastore });
  try {
    const tls = await kubeconfigCredentials(srv.kubeconfig);
    const agent = new Agent({ ...tls, keepAlive: true, maxSockets: CLIENTS });
    const base = `${srv.url}/api/v1/namespaces/default/configmaps`;
    const acked = new Map<string, number>(); // name -> resourceVersion of the 201 answer
    const attempted = new Set<string>();
    let killed = false;

    const client = async (id: number): Promise<void> => {
      const deadline = Date.now() + CLIENT_DEADLINE_MS;
      for (let seq = 0; !killed && Date.now() < deadline; seq++) {
        const name = `crash-${id}-${seq}`;
        attempted.add(name);
        try {
          const r = await call(base, agent, 'POST', JSON.stringify({ metadata: { name }, data: { client: String(id), seq: String(seq) } }));
          if (r.status === 201) acked.set(name, Number(JSON.parse(r.text).metadata.resourceVersion));
          else if (!killed) assert.fail(`create ${name}: ${r.status} ${r.text}`);
        } catch (err) {
          if (!killed) throw err;
          return; // the server died under this request: its outcome is unknown, and that is allowed
        }
      }
    };

    const clients = Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
    clients.catch(() => undefined); // awaited below; a failure before the kill must not go unhandled meanwhile
    const started = Date.now();
    while (Date.now() - started < MAX_WRITE_MS && (Date.now() - started < WRITE_MS || acked.size < CLIENTS)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const writeMs = Date.now() - started;
    killed = true;
    const exit = await srv.kill9();
    assert.equal(exit.signal, 'SIGKILL');
    await clients;
    agent.destroy();
    console.log(`${datastore}: ${acked.size} creates acknowledged in ${writeMs}ms, ${attempted.size} sent, then kill -9`);
    assert.ok(acked.size >= CLIENTS, `only ${acked.size} creates acknowledged before the kill`);

    await srv.restart();
    const after = new Agent({ ...tls, keepAlive: false });
    const ready = await call(`${srv.url}/readyz`, after, 'GET');
    assert.deepEqual(ready, { status: 200, text: 'ok' });
    const list = await call(base, after, 'GET');
    assert.equal(list.status, 200, list.text);
    const stored = new Map<string, { metadata: { name: string; resourceVersion: string }; data: Record<string, string> }>();
    for (const item of JSON.parse(list.text).items) stored.set(item.metadata.name, item);
    const lost = [...acked.keys()].filter((name) => !stored.has(name));
    assert.deepEqual(lost, [], `${lost.length} of ${acked.size} acknowledged creates lost after kill -9 (${datastore})`);
    for (const [name, obj] of stored) {
      if (!name.startsWith('crash-')) continue;
      assert.ok(attempted.has(name), `${name} was never sent`);
      const [, id, seq] = name.split('-');
      assert.deepEqual(obj.data, { client: id, seq }, name);
    }
    // The store carries on from where it was: new writes get newer resourceVersions than anything acknowledged.
    const next = await call(base, after, 'POST', JSON.stringify({ metadata: { name: 'after-restart' } }));
    assert.equal(next.status, 201, next.text);
    const newest = Math.max(...acked.values());
    assert.ok(Number(JSON.parse(next.text).metadata.resourceVersion) > newest, `resourceVersion went back after restart (${datastore})`);
    after.destroy();
  } finally {
    await srv.stop();
  }
}

test('kill -9 during 50 concurrent creates loses no acknowledged object (sqlite)', async () => {
  await crashDuringCreates('sqlite');
});

test('kill -9 during 50 concurrent creates loses no acknowledged object (etcd)', async () => {
  await crashDuringCreates('etcd');
});

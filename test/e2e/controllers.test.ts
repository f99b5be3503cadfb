// The controller manager inside the real `skiff server`, driven by the real kubectl: deleting a namespace deletes its
// content and then the namespace; every namespace gets a "default" ServiceAccount; --disable-controllers is honoured.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer, eventually } from './harness.js';


async function ok(srv: TestServer, args: string[]): Promise<string> {
  const r = await srv.kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}\n${srv.logs().slice(-3000)}`);
  return r.stdout;
}

describe('controllers in skiff server', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(async () => {
    await srv?.stop();
  });

  test('a new namespace gets a default ServiceAccount, recreated when deleted', async () => {
    await ok(srv, ['create', 'namespace', 'sa-e2e']);
    const hasDefault = async () => (await srv.kubectl(['get', 'serviceaccount', 'default', '-n', 'sa-e2e', '-o', 'name'])).stdout.trim() === 'serviceaccount/default';
    await eventually('the default ServiceAccount', hasDefault);
    const uid = (await ok(srv, ['get', 'sa', 'default', '-n', 'sa-e2e', '-o', 'jsonpath={.metadata.uid}'])).trim();
    await ok(srv, ['delete', 'sa', 'default', '-n', 'sa-e2e']);
    await eventually('a new default ServiceAccount', async () => {
      const r = await srv.kubectl(['get', 'sa', 'default', '-n', 'sa-e2e', '-o', 'jsonpath={.metadata.uid}']);
      return r.code === 0 && r.stdout.trim() !== '' && r.stdout.trim() !== uid;
    });
  });

  test('kubectl delete namespace removes its content, then the namespace', async () => {
    await ok(srv, ['create', 'namespace', 'ns-e2e']);
    await ok(srv, ['create', 'configmap', 'cm1', '-n', 'ns-e2e', '--from-literal=a=b']);
    await ok(srv, ['create', 'secret', 'generic', 's1', '-n', 'ns-e2e', '--from-literal=a=b']);
    await ok(srv, ['create', 'deployment', 'web', '-n', 'ns-e2e', '--image=nginx']);
    await ok(srv, ['create', 'role', 'r1', '-n', 'ns-e2e', '--verb=get', '--resource=pods']);
    // kubectl waits for the namespace to be gone.
    await ok(srv, ['delete', 'namespace', 'ns-e2e', '--timeout=30s']);
    const ns = await srv.kubectl(['get', 'namespace', 'ns-e2e']);
    assert.equal(ns.code, 1);
    assert.match(ns.stderr, /Error from server \(NotFound\): namespaces "ns-e2e" not found/);
    // The content went with it: listing across namespaces finds nothing left from ns-e2e.
    for (const kind of ['configmaps', 'secrets', 'deployments', 'roles']) {
      const left = await ok(srv, ['get', kind, '-A', '-o', 'jsonpath={range .items[*]}{.metadata.namespace}{"\\n"}{end}']);
      assert.ok(!left.split('\n').includes('ns-e2e'), `${kind} left in ns-e2e: ${left}`);
    }
  });
});

describe('skiff server --disable-controllers namespace', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ args: ['--disable-controllers', 'namespace'] });
  });
  after(async () => {
    await srv?.stop();
  });

  test('a deleted namespace stays Terminating while the other controllers run', async () => {
    await ok(srv, ['create', 'namespace', 'stuck']);
    await eventually('the default ServiceAccount', async () => (await srv.kubectl(['get', 'sa', 'default', '-n', 'stuck'])).code === 0);
    await ok(srv, ['delete', 'namespace', 'stuck', '--wait=false']);
    // Long enough for a running namespace controller to have finished.
    await new Promise((r) => setTimeout(r, 1500));
    const phase = await ok(srv, ['get', 'namespace', 'stuck', '-o', 'jsonpath={.status.phase}']);
    assert.equal(phase, 'Terminating');
    assert.equal((await srv.kubectl(['get', 'sa', 'default', '-n', 'stuck'])).code, 0, 'content stays too');
  });
});

// ServiceAccount admission through the real kubectl, as upstream: a pod whose ServiceAccount does not exist is refused
// (403 "error looking up service account <ns>/<name>: serviceaccount \"<name>\" not found"); once the account
// exists the same `kubectl run` is admitted and mounts its token. `--kube-apiserver-arg disable-admission-plugins=`
// turns the plugin off (scheduler_perf's API server runs so), and unknown plugin names stop the server at start-up.
// The server runs without the serviceaccount controller, so no namespace gets its "default" account by itself.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSkiff, startTestServer, type TestServer } from './harness.js';

let server: TestServer;

before(async () => {
  server = await startTestServer({ args: ['--disable-controllers', 'serviceaccount'] });
});

after(async () => {
  await server?.stop();
});

test('kubectl run in a namespace without its ServiceAccount shows upstream\'s error; with the account the pod is admitted', async () => {
  assert.equal((await server.kubectl(['create', 'namespace', 'nosa'])).code, 0);
  const refused = await server.kubectl(['-n', 'nosa', 'run', 'web', '--image=registry.k8s.io/pause:3.10']);
  assert.notEqual(refused.code, 0);
  assert.match(
    refused.stderr,
    /Error from server \(Forbidden\): pods "web" is forbidden: error looking up service account nosa\/default: serviceaccount "default" not found/,
  );
  // A named account that is missing is refused at once, with its own name.
  const named = await server.kubectl(['-n', 'nosa', 'run', 'robot-pod', '--image=registry.k8s.io/pause:3.10', '--overrides', JSON.stringify({ spec: { serviceAccountName: 'robot' } })]);
  assert.notEqual(named.code, 0);
  assert.match(named.stderr, /pods "robot-pod" is forbidden: error looking up service account nosa\/robot: serviceaccount "robot" not found/);

  assert.equal((await server.kubectl(['-n', 'nosa', 'create', 'serviceaccount', 'default'])).code, 0);
  const admitted = await server.kubectl(['-n', 'nosa', 'run', 'web', '--image=registry.k8s.io/pause:3.10']);
  assert.equal(admitted.code, 0, admitted.stderr);
  const got = await server.kubectl(['-n', 'nosa', 'get', 'pod', 'web', '-o', 'jsonpath={.spec.serviceAccountName} {.spec.volumes[0].name}']);
  assert.match(got.stdout, /^default kube-api-access-[a-z0-9]{5}$/);
});

test('--kube-apiserver-arg with an unknown admission plugin stops the server at start-up', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-e2e-admission-'));
  try {
    const r = await runSkiff(['server', '--data-dir', dir, '--disable-agent', '--kube-apiserver-arg', 'disable-admission-plugins=ServiceAcount']);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /disable-admission-plugins plugin "ServiceAcount" is unknown/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('disable-admission-plugins=ServiceAccount admits pods without their account and mounts nothing', async () => {
  const plain = await startTestServer({ args: ['--disable-controllers', 'serviceaccount', '--kube-apiserver-arg', 'disable-admission-plugins=ServiceAccount,TaintNodesByCondition,Priority'] });
  try {
    assert.equal((await plain.kubectl(['create', 'namespace', 'nosa'])).code, 0);
    const r = await plain.kubectl(['-n', 'nosa', 'run', 'web', '--image=registry.k8s.io/pause:3.10']);
    assert.equal(r.code, 0, r.stderr);
    const got = await plain.kubectl(['-n', 'nosa', 'get', 'pod', 'web', '-o', 'jsonpath={.spec.serviceAccountName}|{.spec.volumes}']);
    assert.equal(got.stdout, '|');
  } finally {
    await plain.stop();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Secret } from 'kubernetes-types/core/v1.js';
import { DockerKeyring } from './credentials.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function configJson(name: string, auths: Record<string, object>): Secret {
  return { metadata: { name }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(JSON.stringify({ auths })) } };
}

test('dockerconfigjson and dockercfg secrets give credentials matched by host, port and path prefix', () => {
  const ring = DockerKeyring.fromSecrets([
    configJson('a', { 'https://127.0.0.1:5000': { auth: b64('alice:secret') }, '127.0.0.1:5000/team': { username: 'bob', password: 'pw' } }),
    { metadata: { name: 'b' }, type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify({ 'https://index.docker.io/v1/': { auth: b64('carol:x') } })) } },
    { metadata: { name: 'c' }, type: 'Opaque', data: { '.dockerconfigjson': b64('{"auths":{"127.0.0.1:5000":{"username":"nope"}}}') } },
  ]);
  assert.equal(ring.size, 3);
  // The more specific key first, then the host-wide one.
  assert.deepEqual(
    ring.lookup('127.0.0.1:5000/team/app:v1').map((a) => a.username),
    ['bob', 'alice'],
  );
  assert.deepEqual(ring.lookup('127.0.0.1:5000/other/app').map((a) => [a.username, a.password, a.serverAddress]), [['alice', 'secret', 'https://127.0.0.1:5000']]);
  // Another port, another host: none. docker.io's legacy index key matches short names.
  assert.deepEqual(ring.lookup('127.0.0.1:5001/team/app'), []);
  assert.deepEqual(ring.lookup('example.com/app'), []);
  assert.deepEqual(ring.lookup('busybox').map((a) => a.username), ['carol']);
  // A path prefix matches whole components only.
  assert.deepEqual(ring.lookup('127.0.0.1:5000/teamx/app').map((a) => a.username), ['alice']);
});

test('a "*" matches one DNS label; malformed secrets give nothing', () => {
  const ring = DockerKeyring.fromSecrets([
    configJson('w', { '*.registry.test': { username: 'w', password: 'p' } }),
    { metadata: { name: 'bad' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('not json') } },
  ]);
  assert.equal(ring.lookup('eu.registry.test/app').length, 1);
  assert.equal(ring.lookup('a.eu.registry.test/app').length, 0);
  assert.equal(ring.lookup('registry.test/app').length, 0);
});

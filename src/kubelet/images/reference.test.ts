import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaultImageTag, defaultPullPolicy, parseImageReference, repositoryOf } from './reference.js';

test('references are normalized the docker way: docker.io, library/, registries with a dot, a port or localhost', () => {
  assert.deepEqual(parseImageReference('busybox'), { domain: 'docker.io', path: 'library/busybox' });
  assert.deepEqual(parseImageReference('team/app:v1'), { domain: 'docker.io', path: 'team/app', tag: 'v1' });
  assert.deepEqual(parseImageReference('127.0.0.1:5000/test/app:v2'), { domain: '127.0.0.1:5000', path: 'test/app', tag: 'v2' });
  assert.deepEqual(parseImageReference('localhost/app'), { domain: 'localhost', path: 'app' });
  const digest = `sha256:${'a'.repeat(64)}`;
  assert.deepEqual(parseImageReference(`registry.k8s.io/pause:3.10@${digest}`), { domain: 'registry.k8s.io', path: 'pause', tag: '3.10', digest });
  assert.equal(repositoryOf('index.docker.io/busybox'), 'docker.io/library/busybox');
});

test('invalid references fail with the reference library messages, wrapped as the kubelet does', () => {
  assert.throws(() => parseImageReference('Busybox'), /repository name \(library\/Busybox\) must be lowercase/);
  assert.throws(() => parseImageReference('busy box'), /^Error: invalid reference format$/);
  assert.throws(() => parseImageReference('a'.repeat(64)), /cannot specify 64-byte hexadecimal strings/);
  assert.throws(() => parseImageReference('app:'), /invalid reference format/);
  assert.throws(() => applyDefaultImageTag('UPPER/Case'), { message: 'couldn\'t parse image name "UPPER/Case": invalid reference format: repository name (Case) must be lowercase' });
});

test('applyDefaultImageTag adds :latest only without tag or digest, keeping the short name', () => {
  assert.equal(applyDefaultImageTag('busybox'), 'busybox:latest');
  assert.equal(applyDefaultImageTag('127.0.0.1:5000/app'), '127.0.0.1:5000/app:latest');
  assert.equal(applyDefaultImageTag('127.0.0.1:5000/app:v1'), '127.0.0.1:5000/app:v1');
  assert.equal(applyDefaultImageTag(`app@sha256:${'b'.repeat(64)}`), `app@sha256:${'b'.repeat(64)}`);
});

test('the default pull policy: Always for :latest or no tag, IfNotPresent for a tag or digest', () => {
  assert.equal(defaultPullPolicy('busybox'), 'Always');
  assert.equal(defaultPullPolicy('127.0.0.1:5000/app'), 'Always');
  assert.equal(defaultPullPolicy('127.0.0.1:5000/app:v1'), 'IfNotPresent');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClientsMode } from './api-clients-host.js';

test('API clients run in a worker thread when a second core exists, on the server thread on one core', () => {
  assert.equal(apiClientsMode(undefined, 2), 'worker');
  assert.equal(apiClientsMode(undefined, 8), 'worker');
  assert.equal(apiClientsMode(undefined, 1), 'in-process');
  assert.equal(apiClientsMode('', 1), 'in-process');
});

test('SKIFF_API_CLIENTS chooses either way and refuses other values', () => {
  assert.equal(apiClientsMode('in-process', 8), 'in-process');
  assert.equal(apiClientsMode('worker', 1), 'worker');
  assert.throws(() => apiClientsMode('threads', 2), /SKIFF_API_CLIENTS=threads: expected "worker" or "in-process"/);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../apiserver/log.js';
import { apiClientsMode, startApiClientsHost } from './api-clients-host.js';

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

test('a worker that fails reports the failure (the server then exits), and stop() still returns', { timeout: 60_000 }, async () => {
  process.env.SKIFF_API_CLIENTS = 'worker';
  const failed = new Promise<Error>((resolve) => {
    const host = startApiClientsHost(
      { inProcessHandler: () => (_req, res) => res.writeHead(503).end() },
      {
        config: {
          kubeconfigPath: '/nonexistent/kubeconfig.yaml',
          disabled: [],
          kubeControllerManagerArgs: [],
          clusterCidr: '198.18.0.0/16',
          pkiDir: '/nonexistent',
          // The worker reads the scheduler configuration again as it starts: a missing file fails it.
          schedulerConfigFile: '/nonexistent/scheduler-config.yaml',
        },
        logLevel: 'error',
        log: createLogger('error'),
        onFailure: (err) => void host.stop().then(() => resolve(err)),
      },
    );
  });
  const err = await failed;
  assert.match(err.message, /scheduler-config\.yaml/);
});

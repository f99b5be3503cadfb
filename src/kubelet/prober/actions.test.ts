import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Container } from 'kubernetes-types/core/v1.js';
import { CriError } from '../cri/client.js';
import { HEALTH, startHealthServer } from './health-server.js';
import { decodeHealthResponse, execProbe, grpcProbe, httpGetURL, httpProbe, resolvePort, runProbe, tcpProbe, type ExecFn } from './actions.js';

let http: Server;
let port = 0;
let lastHeaders: IncomingHttpHeaders = {};

before(async () => {
  http = createServer((req, res) => {
    lastHeaders = req.headers;
    const url = req.url ?? '';
    if (url === '/ok') res.end('fine');
    else if (url === '/fail') {
      res.statusCode = 500;
      res.end('bad');
    } else if (url === '/same-host') {
      res.statusCode = 302;
      res.setHeader('Location', '/ok');
      res.end();
    } else if (url === '/other-host') {
      res.statusCode = 301;
      res.setHeader('Location', `http://localhost:${port}/ok`);
      res.end('moved');
    } else if (url === '/slow') setTimeout(() => res.end('late'), 3000);
    else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  port = (http.address() as AddressInfo).port;
});

after(() => {
  http.closeAllConnections();
  http.close();
});

const app = (): Container => ({ name: 'app', ports: [{ name: 'web', containerPort: port }] });

test('ports: numbers, numeric strings and named container ports; invalid ones are errors', () => {
  assert.equal(resolvePort(8080, app()), 8080);
  assert.equal(resolvePort('8081', app()), 8081);
  assert.equal(resolvePort('web', app()), port);
  assert.throws(() => resolvePort('nope', app()), /couldn't find port: nope/);
  assert.throws(() => resolvePort(70000, app()), /invalid port number/);
  assert.equal(httpGetURL({ port: 'web', path: 'x?y=1', scheme: 'HTTPS' }, '198.18.0.4', app()).href, `https://198.18.0.4:${port}/x?y=1`);
  assert.equal(httpGetURL({ port: 80, host: 'fd00::1' }, '198.18.0.4', app()).href, 'http://[fd00::1]/');
});

test('httpGet: 2xx succeeds with the body, upstream headers are sent, >= 400 fails with the status code', async () => {
  const ok = await httpProbe({ port: 'web', path: '/ok', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] }, '127.0.0.1', app(), 1);
  assert.deepEqual(ok, { result: 'success', output: 'fine' });
  assert.equal(lastHeaders['user-agent'], 'kube-probe/1.31');
  assert.equal(lastHeaders['accept'], '*/*');
  assert.equal(lastHeaders['x-probe'], 'yes');
  await httpProbe({ port, path: '/ok', httpHeaders: [{ name: 'Host', value: 'example.test' }, { name: 'User-Agent', value: 'mine' }] }, '127.0.0.1', app(), 1);
  assert.equal(lastHeaders['host'], 'example.test');
  assert.equal(lastHeaders['user-agent'], 'mine');
  assert.deepEqual(await httpProbe({ port, path: '/fail' }, '127.0.0.1', app(), 1), { result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
});

test('httpGet redirects: followed on the same host; to another host not followed and a warning', async () => {
  assert.deepEqual(await httpProbe({ port, path: '/same-host' }, '127.0.0.1', app(), 1), { result: 'success', output: 'fine' });
  assert.deepEqual(await httpProbe({ port, path: '/other-host' }, '127.0.0.1', app(), 1), { result: 'warning', output: 'Probe terminated redirects, Response body: moved' });
});

test('httpGet: a timeout and a refused connection fail with Go-like messages', async () => {
  const slow = await httpProbe({ port, path: '/slow' }, '127.0.0.1', app(), 1);
  assert.equal(slow.result, 'failure');
  assert.equal(slow.output, `Get "http://127.0.0.1:${port}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`);
  const refused = await httpProbe({ port: 1, path: '/' }, '127.0.0.1', app(), 1);
  assert.deepEqual(refused, { result: 'failure', output: 'Get "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused' });
});

test('tcpSocket: a connect succeeds, a refused one fails', async () => {
  assert.equal((await tcpProbe('127.0.0.1', port, 1)).result, 'success');
  assert.deepEqual(await tcpProbe('127.0.0.1', 1, 1), { result: 'failure', output: 'dial tcp 127.0.0.1:1: connect: connection refused' });
  assert.equal((await runProbe(noExec, { tcpSocket: { port: 'web' } }, app(), 'c', '127.0.0.1', 1)).result, 'success');
  assert.equal((await runProbe(noExec, { tcpSocket: { port: 'missing' } }, app(), 'c', '127.0.0.1', 1)).result, 'unknown');
});

const noExec: ExecFn = () => Promise.reject(new Error('no exec'));

test('exec: exit 0 succeeds, non-zero fails with the output, a runtime timeout fails as timed out, other errors are unknown', async () => {
  const seen: { cmd: string[]; timeout: number }[] = [];
  const exec = (code: number | Error): ExecFn => async (_id, cmd, timeout) => {
    seen.push({ cmd, timeout });
    if (code instanceof Error) throw code;
    return { stdout: Buffer.from('out '), stderr: Buffer.from('err'), exitCode: code };
  };
  assert.deepEqual(await execProbe(exec(0), 'c1', ['cat', '/tmp/ok'], 3), { result: 'success', output: 'out err' });
  assert.deepEqual(seen[0], { cmd: ['cat', '/tmp/ok'], timeout: 3 });
  assert.deepEqual(await execProbe(exec(1), 'c1', ['false'], 1), { result: 'failure', output: 'out err' });
  const timedOut = await execProbe(exec(new CriError('ExecSync', grpc.status.DEADLINE_EXCEEDED, 'timeout 1s exceeded: context deadline exceeded')), 'c1', ['sleep', '9'], 1);
  assert.deepEqual(timedOut, { result: 'failure', output: 'command "sleep 9" timed out' });
  assert.equal((await execProbe(exec(new CriError('ExecSync', grpc.status.NOT_FOUND, 'no such container')), 'c1', ['x'], 1)).result, 'unknown');
  // Probe commands expand the container's literal env values only.
  const c: Container = { name: 'a', env: [{ name: 'F', value: '/tmp/f' }, { name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] };
  await runProbe(exec(0), { exec: { command: ['cat', '$(F)', '$(N)'] } }, c, 'c1', '', 2);
  assert.deepEqual(seen.at(-1), { cmd: ['cat', '/tmp/f', '$(N)'], timeout: 2 });
});

test('grpc: grpc.health.v1 Check: SERVING succeeds, NOT_SERVING fails, an unimplemented service and no server fail', async () => {
  const server = await startHealthServer('127.0.0.1', { '': HEALTH.SERVING, down: HEALTH.NOT_SERVING });
  const gport = server.port;
  try {
    assert.deepEqual(await grpcProbe('127.0.0.1', gport, '', 1), { result: 'success', output: 'service healthy' });
    assert.deepEqual(await grpcProbe('127.0.0.1', gport, 'down', 1), { result: 'failure', output: 'service unhealthy (responded with "NOT_SERVING")' });
    assert.match((await grpcProbe('127.0.0.1', gport, 'other', 1)).output, /^error: health rpc probe failed: 5 NOT_FOUND/);
    const none = await grpcProbe('127.0.0.1', 1, '', 1);
    assert.equal(none.result, 'failure');
    assert.match(none.output, /^timeout: failed to connect service "127.0.0.1:1" within 1s/);
  } finally {
    server.close();
  }
  assert.equal(decodeHealthResponse(Buffer.from([0x08, 0x03])), 3);
  assert.equal(decodeHealthResponse(Buffer.alloc(0)), 0);
});

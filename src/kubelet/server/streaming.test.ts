import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { RuntimePod } from '../pods/runtime-state.js';
import { proxyUpgrade, StreamingError, streamingUrl, type StreamingDeps } from './streaming.js';

const pod: Pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { containers: [{ name: 'c' }] } };
const runtimePod = {
  uid: 'u1',
  name: 'p',
  namespace: 'ns',
  sandboxes: [{ id: 'sb1', ready: true }],
  containers: [{ id: 'ctr1', name: 'c', state: 'running' }],
} as unknown as RuntimePod;

function deps(calls: unknown[]): StreamingDeps {
  return {
    pod: (ns, name) => (ns === 'ns' && name === 'p' ? pod : undefined),
    runtime: (uid) => Promise.resolve(uid === 'u1' ? runtimePod : undefined),
    execUrl: (req) => (calls.push(['exec', req]), Promise.resolve('http://127.0.0.1:1/exec/t')),
    attachUrl: (req) => (calls.push(['attach', req]), Promise.resolve('http://127.0.0.1:1/attach/t')),
    portForwardUrl: (id, ports) => (calls.push(['portForward', id, ports]), Promise.resolve('http://127.0.0.1:1/portforward/t')),
  };
}

test('exec, attach and portForward ask the runtime with upstream query names (input/output/error/tty, port)', async () => {
  const calls: unknown[] = [];
  const d = deps(calls);
  await streamingUrl(d, 'exec', ['ns', 'p', 'c'], new URLSearchParams('command=sh&command=-c&command=id&input=1&output=1&tty=1'));
  await streamingUrl(d, 'attach', ['ns', 'p', 'c'], new URLSearchParams('output=1&error=1'));
  await streamingUrl(d, 'portForward', ['ns', 'p'], new URLSearchParams('port=8080&port=x'));
  assert.deepEqual(calls, [
    ['exec', { containerId: 'ctr1', cmd: ['sh', '-c', 'id'], stdin: true, stdout: true, stderr: false, tty: true }],
    ['attach', { containerId: 'ctr1', stdin: false, stdout: true, stderr: true, tty: false }],
    ['portForward', 'sb1', [8080]],
  ]);
});

test('unknown pods, containers that do not run and exec without a command are refused before any upgrade', async () => {
  const d = deps([]);
  const fails = async (p: Promise<unknown>, code: number, msg: RegExp) => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof StreamingError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, msg);
  };
  await fails(streamingUrl(d, 'exec', ['ns', 'nope', 'c'], new URLSearchParams('command=id')), 404, /pod "nope" not found/);
  await fails(streamingUrl(d, 'exec', ['ns', 'p', 'other'], new URLSearchParams('command=id')), 400, /container not found \("other"\)/);
  await fails(streamingUrl(d, 'exec', ['ns', 'p', 'c'], new URLSearchParams('output=1')), 400, /at least 1 command/);
});

test('proxyUpgrade replays the upgrade to the runtime URL and splices both directions', async () => {
  // A stand-in for the runtime's streaming server: answers 101, then echoes upper-cased.
  let seenHead = '';
  const runtime = createNetServer((s: Socket) => {
    let buf = '';
    const onHead = (b: Buffer) => {
      buf += b.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.off('data', onHead);
      seenHead = buf.slice(0, end);
      s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n');
      const rest = buf.slice(end + 4);
      if (rest) s.write(rest.toUpperCase());
      s.on('data', (d: Buffer) => s.write(d.toString().toUpperCase()));
      s.on('end', () => s.end());
    };
    s.on('data', onHead);
  });
  await new Promise<void>((r) => runtime.listen(0, '127.0.0.1', r));
  const target = `http://127.0.0.1:${(runtime.address() as AddressInfo).port}/exec/TOKEN`;
  const kubelet = createHttpServer();
  let proxied: Promise<void> | undefined;
  kubelet.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => (proxied = proxyUpgrade(req, socket, head, target)));
  await new Promise<void>((r) => kubelet.listen(0, '127.0.0.1', r));
  const port = (kubelet.address() as AddressInfo).port;
  const { res, socket } = await new Promise<{ res: IncomingMessage; socket: Socket }>((resolve, reject) => {
    const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/exec/ns/p/c?command=id', headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' } });
    req.on('upgrade', (r: IncomingMessage, s: Socket) => resolve({ res: r, socket: s }));
    req.on('error', reject);
    req.end();
  });
  assert.equal(res.statusCode, 101);
  assert.equal(res.headers['x-stream-protocol-version'], 'v4.channel.k8s.io');
  assert.match(seenHead, /^POST \/exec\/TOKEN HTTP\/1\.1\r\n/);
  assert.match(seenHead, /\r\nUpgrade: SPDY\/3\.1/);
  assert.match(seenHead, /\r\nX-Stream-Protocol-Version: v4\.channel\.k8s\.io/);
  const echoed = await new Promise<string>((resolve) => {
    let got = '';
    socket.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.length >= 5) resolve(got);
    });
    socket.write('hello');
  });
  assert.equal(echoed, 'HELLO');
  socket.end();
  await proxied;
  kubelet.close();
  runtime.close();
});

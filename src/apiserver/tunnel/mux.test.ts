// The tunnel multiplexer over a real WebSocket on loopback: many concurrent streams keep their bytes apart, a reader
// that stops reading stops the writer at the window (nothing more is buffered), FIN/RESET reach the other side, and a
// closed WebSocket aborts every stream.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, connect as netConnect, type Server as TcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { TunnelSession, type DialTarget, type TunnelStream } from './mux.js';

const WINDOW = 64 * 1024;

interface Pair {
  server: TunnelSession;
  agent: TunnelSession;
  close(): Promise<void>;
}

let http: Server;
let wss: WebSocketServer;
let echo: TcpServer;
let echoPort = 0;
/** What the agent does with an accepted stream; set per test. */
let onAgentStream: (target: DialTarget, stream: TunnelStream) => void = () => undefined;

async function pair(): Promise<Pair> {
  const serverSide = new Promise<TunnelSession>((resolve) => wss.once('connection', (ws) => resolve(new TunnelSession(ws, { role: 'server', window: WINDOW, keepaliveMs: 0 }))));
  const ws = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const agent = new TunnelSession(ws, { role: 'agent', window: WINDOW, keepaliveMs: 0, onConnect: (t, s) => onAgentStream(t, s) });
  const server = await serverSide;
  return {
    server,
    agent,
    async close() {
      const closed = new Promise<void>((r) => server.onClose(r));
      agent.close();
      await closed;
    },
  };
}

function readAll(stream: TunnelStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    stream.on('data', (d: Buffer) => parts.push(d));
    stream.once('end', () => resolve(Buffer.concat(parts)));
    stream.once('error', reject);
    stream.resume();
  });
}

/** The agent splices to the echo server (as the real agent splices to the kubelet). */
function spliceToEcho(target: DialTarget, stream: TunnelStream): void {
  const sock = netConnect(target.port, target.host);
  stream.pipe(sock);
  sock.pipe(stream);
  sock.on('error', (e) => stream.destroy(e));
}

/** A round trip through a fresh stream: every frame sent before it on the WebSocket has arrived afterwards. */
async function barrier(p: Pair): Promise<void> {
  const previous = onAgentStream;
  onAgentStream = (t, s) => {
    if (t.host !== 'barrier') return previous(t, s);
    onAgentStream = previous;
    s.resume();
    s.end('pong');
  };
  const s = p.server.open({ host: 'barrier', port: 1 });
  const closed = new Promise((r) => s.once('close', r));
  s.end();
  assert.equal((await readAll(s)).toString(), 'pong');
  await closed;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('tunnel multiplexer', () => {
  before(async () => {
    http = createServer();
    wss = new WebSocketServer({ server: http });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    echo = createTcpServer((sock) => sock.pipe(sock));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    echoPort = (echo.address() as AddressInfo).port;
  });
  after(async () => {
    // A failed test may leave its WebSocket open.
    for (const c of wss.clients) c.terminate();
    wss.close();
    await new Promise((r) => http.close(r));
    await new Promise((r) => echo.close(r));
  });

  test('many concurrent streams each get their own bytes back, then both sessions hold no streams', async () => {
    const p = await pair();
    onAgentStream = spliceToEcho;
    const payloads = Array.from({ length: 40 }, (_, i) => randomBytes(50_000 + i * 1000));
    const results = await Promise.all(
      payloads.map((payload) => {
        const s = p.server.open({ host: '127.0.0.1', port: echoPort });
        const done = readAll(s);
        s.end(payload);
        return done;
      }),
    );
    results.forEach((r, i) => assert.equal(sha(r), sha(payloads[i]!), `stream ${i}`));
    await barrier(p);
    assert.equal(p.server.streamCount, 0);
    assert.equal(p.agent.streamCount, 0);
    await p.close();
  });

  test('a reader that does not read stops the writer at the window; reading again delivers everything', async () => {
    const p = await pair();
    let agentStream: TunnelStream | undefined;
    onAgentStream = (_t, s) => {
      agentStream = s;
      s.pause();
    };
    const s = p.server.open({ host: 'sink', port: 1 });
    const payload = randomBytes(2 * 1024 * 1024);
    let written = false;
    s.write(payload, () => (written = true));
    // Everything sent before the barrier has arrived: exactly one window is buffered, the write is not complete.
    await barrier(p);
    await barrier(p);
    assert.ok(agentStream);
    assert.equal(agentStream.readableLength, WINDOW);
    assert.equal(written, false);
    assert.ok(s.writableLength > 0);
    // The reader drains: credit flows back and the rest arrives.
    s.end();
    const received = await readAll(agentStream);
    assert.equal(sha(received), sha(payload));
    assert.equal(written, true);
    agentStream.end();
    s.resume();
    await new Promise((r) => s.once('close', r));
    await p.close();
  });

  test('FIN half-closes each way; RESET and refused connects reach the opener with their reason', async () => {
    const p = await pair();
    // Half-close: the agent keeps writing after the server's FIN.
    onAgentStream = (_t, s) => {
      s.resume();
      s.once('end', () => {
        s.write('after your fin');
        s.end();
      });
    };
    const half = p.server.open({ host: 'h', port: 1 });
    const halfDone = readAll(half);
    half.end();
    assert.equal((await halfDone).toString(), 'after your fin');

    onAgentStream = (_t, s) => {
      s.on('error', () => undefined);
      s.destroy(new Error('dial tcp 198.18.0.9:10250: connect: connection refused'));
    };
    const refused = p.server.open({ host: '198.18.0.9', port: 10250 });
    await assert.rejects(readAll(refused), /dial tcp 198\.18\.0\.9:10250: connect: connection refused/);

    let agentSide: TunnelStream | undefined;
    onAgentStream = (_t, s) => (agentSide = s);
    const aborted = p.server.open({ host: 'a', port: 1 });
    await barrier(p);
    assert.ok(agentSide);
    const agentError = new Promise<Error>((r) => agentSide!.once('error', r));
    aborted.on('error', () => undefined);
    aborted.destroy(new Error('client went away'));
    assert.match((await agentError).message, /client went away/);
    await barrier(p);
    assert.equal(p.server.streamCount, 0);
    assert.equal(p.agent.streamCount, 0);
    await p.close();
  });

  test('a closed tunnel aborts its open streams on both sides, and new streams fail', async () => {
    const p = await pair();
    let agentSide: TunnelStream | undefined;
    onAgentStream = (_t, s) => (agentSide = s);
    const s = p.server.open({ host: 'x', port: 1 });
    const serverErr = new Promise<Error>((r) => s.once('error', r));
    await barrier(p);
    const agentErr = new Promise<Error>((r) => agentSide!.once('error', r));
    await p.close();
    assert.match((await serverErr).message, /tunnel closed/);
    assert.match((await agentErr).message, /tunnel closed/);
    const late = p.server.open({ host: 'x', port: 1 });
    await assert.rejects(readAll(late), /tunnel closed/);
  });
});

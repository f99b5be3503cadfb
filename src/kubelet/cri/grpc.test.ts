import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { CriClient, CriError } from './client.js';
import { GRPC_STATUS, GrpcChannel, GrpcError, grpcStatusName } from './grpc.js';

const raw = { requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b };

/** A grpc-js server on a unix socket with raw-bytes methods: Echo (reversed), Fail (status from the request), Hang. */
async function rawServer(socket: string): Promise<grpc.Server> {
  const server = new grpc.Server();
  const def = (name: string) => ({ path: `/test.T/${name}`, requestStream: false, responseStream: false, ...raw });
  server.addService(
    { echo: def('Echo'), fail: def('Fail'), hang: def('Hang') },
    {
      echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from(call.request).reverse()),
      fail: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb({ code: call.request[0]!, details: 'not here: 100% "gone" \u00e9' }),
      hang: () => undefined,
    },
  );
  await new Promise<number>((resolve, reject) => server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return server;
}

test('GrpcChannel: replies, server statuses with their message, deadlines, no server, reconnect after a restart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-grpc-'));
  const socket = join(dir, 'g.sock');
  let server = await rawServer(socket);
  const ch = new GrpcChannel(`unix://${socket}`);
  try {
    assert.deepEqual([...(await ch.unary('/test.T/Echo', Buffer.from([1, 2, 3]), 5000))], [3, 2, 1]);
    // An empty message both ways.
    assert.equal((await ch.unary('/test.T/Echo', Buffer.alloc(0), 5000)).length, 0);
    // Calls at once share the one session.
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => ch.unary('/test.T/Echo', Buffer.from([i, 0]), 5000)));
    assert.deepEqual(many.map((b) => b[1]), Array.from({ length: 20 }, (_, i) => i));
    // A large reply.
    const big = Buffer.alloc(300_000, 7);
    assert.equal((await ch.unary('/test.T/Echo', big, 5000)).length, big.length);

    const fail = await ch.unary('/test.T/Fail', Buffer.from([GRPC_STATUS.NOT_FOUND]), 5000).catch((e: unknown) => e);
    assert.ok(fail instanceof GrpcError);
    assert.equal(fail.code, GRPC_STATUS.NOT_FOUND);
    assert.equal(fail.details, 'not here: 100% "gone" \u00e9');
    assert.equal(fail.connectFailed, false);
    assert.match(fail.message, /^5 NOT_FOUND: not here/);
    const unimpl = await ch.unary('/test.T/Nope', Buffer.alloc(0), 5000).catch((e: unknown) => e);
    assert.equal((unimpl as GrpcError).code, GRPC_STATUS.UNIMPLEMENTED);

    const hang = await ch.unary('/test.T/Hang', Buffer.alloc(0), 200).catch((e: unknown) => e);
    assert.equal((hang as GrpcError).code, GRPC_STATUS.DEADLINE_EXCEEDED);
    assert.equal((hang as GrpcError).connectFailed, false);

    // The server goes away: calls fail UNAVAILABLE as connection failures; once it is back the same channel works.
    server.forceShutdown();
    await rm(socket, { force: true });
    const down = await ch.unary('/test.T/Echo', Buffer.from([1]), 2000).catch((e: unknown) => e);
    assert.ok(down instanceof GrpcError);
    assert.equal(down.code, GRPC_STATUS.UNAVAILABLE);
    assert.equal(down.connectFailed, true);
    server = await rawServer(socket);
    assert.deepEqual([...(await ch.unary('/test.T/Echo', Buffer.from([4, 5]), 5000))], [5, 4]);
  } finally {
    ch.close();
    server.forceShutdown();
    await rm(dir, { recursive: true, force: true });
  }
  const closed = await ch.unary('/test.T/Echo', Buffer.alloc(0), 1000).catch((e: unknown) => e);
  assert.equal((closed as GrpcError).code, GRPC_STATUS.UNAVAILABLE);
  assert.equal(grpcStatusName(GRPC_STATUS.DEADLINE_EXCEEDED), 'DEADLINE_EXCEEDED');
  assert.equal(grpcStatusName(99), 'UNKNOWN');
});

test('CriClient: CRI messages through the channel, as a grpc-js runtime service decodes and answers them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-cri-'));
  const socket = join(dir, 'cri.sock');
  const proto = fileURLToPath(new URL('../../../../src/kubelet/cri/api.proto', import.meta.url));
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(proto, { keepCase: false, longs: Number, enums: String, defaults: true, arrays: true, objects: true }));
  const v1 = (pkg.runtime as grpc.GrpcObject).v1 as grpc.GrpcObject;
  const seen: unknown[] = [];
  const server = new grpc.Server();
  server.addService((v1.RuntimeService as grpc.ServiceClientConstructor).service, {
    version: (call: grpc.ServerUnaryCall<{ version: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      seen.push(call.request);
      cb(null, { version: '0.1.0', runtimeName: 'fake', runtimeVersion: '1.2.3', runtimeApiVersion: 'v1' });
    },
    listContainers: (call: grpc.ServerUnaryCall<{ filter: { labelSelector: Record<string, string> } }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      seen.push(call.request.filter.labelSelector);
      cb(null, {
        containers: [
          { id: 'c1', podSandboxId: 's1', metadata: { name: 'app', attempt: 2 }, state: 'CONTAINER_RUNNING', createdAt: 1_700_000_000_123_456_789, labels: { a: 'b' }, annotations: {} },
        ],
      });
    },
    containerStatus: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.NOT_FOUND, details: 'an error occurred when try to find container "x": not found' }),
  });
  await new Promise<number>((resolve, reject) => server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  const cri = new CriClient(socket);
  try {
    assert.equal((await cri.version()).runtimeVersion, '1.2.3');
    assert.deepEqual(seen[0], { version: 'v1' });
    const list = await cri.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': 'u1' } });
    assert.deepEqual(seen[1], { 'io.kubernetes.pod.uid': 'u1' });
    assert.equal(list.length, 1);
    assert.equal(list[0]!.id, 'c1');
    assert.equal(list[0]!.state, 'CONTAINER_RUNNING');
    assert.equal(list[0]!.metadata.attempt, 2);
    assert.equal(list[0]!.labels.a, 'b');
    assert.equal(Math.floor(list[0]!.createdAt / 1e6), 1_700_000_000_123);
    const err = await cri.containerStatus('x').catch((e: unknown) => e);
    assert.ok(err instanceof CriError);
    assert.equal(err.notFound, true);
    assert.equal(err.message, 'ContainerStatus: an error occurred when try to find container "x": not found');
    // A method the runtime does not serve.
    assert.equal(((await cri.listImages().catch((e: unknown) => e)) as CriError).code, GRPC_STATUS.UNIMPLEMENTED);
  } finally {
    cri.close();
    server.forceShutdown();
    await rm(dir, { recursive: true, force: true });
  }
});

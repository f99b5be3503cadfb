// A grpc.health.v1 Health server for tests (the prober's unit tests, and e2e pods on the host network probing it):
// Check answers the status set for the service, NOT_FOUND for services it does not know.
import * as grpc from '@grpc/grpc-js';
import { decodeHealthResponse } from './actions.js';

/** grpc.health.v1 ServingStatus values. */
export const HEALTH = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2 } as const;

export interface HealthServer {
  port: number;
  /** Status by service name ('' is the server as a whole); change it at any time. */
  statuses: Map<string, number>;
  /** Services asked about, in order. */
  checks: string[];
  close(): void;
}

/** Starts the server on `host` (port chosen by the system). */
export async function startHealthServer(host: string, statuses: Record<string, number>): Promise<HealthServer> {
  const state = new Map(Object.entries(statuses));
  const checks: string[] = [];
  const server = new grpc.Server();
  server.addService(
    {
      check: {
        path: '/grpc.health.v1.Health/Check',
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        // HealthCheckRequest field 1 (a short string); grpc-js treats a falsy request as missing: hand over an object.
        requestDeserialize: (b: Buffer) => ({ service: b.subarray(2).toString() }),
        responseSerialize: (n: number) => Buffer.from([0x08, n]),
        responseDeserialize: (b: Buffer) => decodeHealthResponse(b),
      },
    },
    {
      check: (call: grpc.ServerUnaryCall<{ service: string }, number>, cb: grpc.sendUnaryData<number>) => {
        checks.push(call.request.service);
        const s = state.get(call.request.service);
        if (s === undefined) cb({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
        else cb(null, s);
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { port, statuses: state, checks, close: () => server.forceShutdown() };
}

// A Transport for unit tests: records every request and answers from a handler (default 200 with the request body),
// so a RestClient can be driven without a server.
import type { Transport, TransportRequest, TransportResponse, TransportStream } from '../../client/index.js';

export interface RecordedRequest {
  method: string;
  path: string;
  contentType?: string;
  body: unknown;
}

export type FakeResponder = (req: RecordedRequest) => { status: number; body: unknown } | undefined;

export class RecordingTransport implements Transport {
  readonly requests: RecordedRequest[] = [];

  constructor(private readonly respond: FakeResponder = () => undefined) {}

  request(req: TransportRequest): Promise<TransportResponse> {
    const rec: RecordedRequest = { method: req.method, path: req.path, contentType: req.headers?.['Content-Type'], body: req.body === undefined ? undefined : JSON.parse(req.body) };
    this.requests.push(rec);
    const res = this.respond(rec) ?? { status: 200, body: rec.body ?? {} };
    return Promise.resolve({ status: res.status, headers: {}, body: JSON.stringify(res.body) });
  }

  stream(): Promise<TransportStream> {
    return Promise.reject(new Error('RecordingTransport does not stream'));
  }

  close(): void {}
}

// Upgrade requests (SPDY/3.1) to a kubelet's /exec, /attach and /portForward, through the one KubeletDialer
// (endpoints/kubelet-dialer.ts) every call to a kubelet goes through.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError } from '../../machinery/errors.js';
import type { KubeletDialer, KubeletEndpoint } from '../endpoints/kubelet-dialer.js';

/** An upgraded connection to the kubelet. */
export interface KubeletUpgrade {
  socket: Duplex;
  /** The kubelet's 101 response head as it would go on the wire (status line, headers, blank line). */
  responseHead: string;
  /** Bytes that came after the head (the start of the upgraded protocol). */
  rest: Buffer;
}

function errorOf(res: IncomingMessage, body: string): ApiError {
  const code = res.statusCode ?? 500;
  try {
    const st = JSON.parse(body) as { message?: string; reason?: string };
    return new ApiError({ message: st.message ?? body, reason: (st.reason as 'BadRequest') ?? 'BadRequest', code });
  } catch {
    return new ApiError({ message: body || `kubelet answered ${code}`, reason: 'InternalError', code: code >= 400 ? code : 500 });
  }
}

/**
 * Sends an upgrade request to the kubelet: its 101 gives the upgraded connection; any other answer becomes the
 * ApiError its Status describes (kubectl shows that message).
 */
export function kubeletUpgrade(dialer: KubeletDialer, endpoint: KubeletEndpoint, method: string, path: string, headers: Record<string, string | string[]>): Promise<KubeletUpgrade> {
  return new Promise((resolve, reject) => {
    const req = dialer.request(endpoint, { method, path, headers: { Connection: 'Upgrade', ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => reject(errorOf(res, body)));
      res.on('error', () => reject(errorOf(res, body)));
    });
    req.on('upgrade', (res: IncomingMessage, socket: Duplex, rest: Buffer) => {
      let head = `HTTP/1.1 ${res.statusCode ?? 101} ${res.statusMessage ?? 'Switching Protocols'}\r\n`;
      for (let i = 0; i < res.rawHeaders.length; i += 2) head += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
      resolve({ socket, responseHead: `${head}\r\n`, rest });
    });
    req.on('error', (err) => reject(new ApiError({ message: `error dialing backend: ${err.message}`, reason: 'InternalError', code: 500 })));
    req.end();
  });
}

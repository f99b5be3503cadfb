// Client-certificate authentication: TLS already verified the chain against the cluster CA (the server asks for a
// certificate but does not reject connections without one); this maps a verified certificate to a user.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AuthResult, Authenticator } from './authenticator.js';

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

/** CN is the user name and each O is a group, as upstream's CommonNameUserConversion. */
export class X509Authenticator implements Authenticator {
  readonly name = 'x509';

  /** A connection's certificate never changes: decode it once per TLS socket, not once per request. */
  private readonly bySocket = new WeakMap<object, AuthResult>();

  authenticate(req: IncomingMessage): AuthResult {
    let result = this.bySocket.get(req.socket);
    if (!result) {
      result = this.authenticateSocket(req.socket as Partial<TLSSocket>);
      this.bySocket.set(req.socket, result);
    }
    return result;
  }

  private authenticateSocket(socket: Partial<TLSSocket>): AuthResult {
    if (typeof socket.getPeerCertificate !== 'function') return { kind: 'none' };
    const cert = socket.getPeerCertificate();
    if (!cert || Object.keys(cert).length === 0) return { kind: 'none' };
    if (!socket.authorized) {
      return { kind: 'invalid', reason: `verifying certificate: ${String(socket.authorizationError ?? 'unknown authority')}` };
    }
    // An extended key usage, when present, must allow client authentication.
    if (Array.isArray(cert.ext_key_usage) && !cert.ext_key_usage.includes(CLIENT_AUTH_OID)) {
      return { kind: 'invalid', reason: 'certificate is not valid for client authentication' };
    }
    const name = firstValue(cert.subject?.CN);
    if (!name) return { kind: 'invalid', reason: 'certificate has no common name' };
    return { kind: 'ok', user: { name, groups: allValues(cert.subject?.O) } };
  }
}

function allValues(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? [...v] : [v];
}

function firstValue(v: string | string[] | undefined): string | undefined {
  return allValues(v)[0];
}

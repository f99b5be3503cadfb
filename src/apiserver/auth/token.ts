// Bearer-token authentication against a fixed set of tokens (upstream's static token file; skiff's --token).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AuthResult, Authenticator } from './authenticator.js';
import type { UserInfo } from './user.js';

/** The identity --token grants: the cluster's shared secret is as powerful as the admin certificate. */
export const SERVER_TOKEN_USER: UserInfo = { name: 'skiff:server-token', groups: ['system:masters'] };

export class TokenAuthenticator implements Authenticator {
  readonly name = 'token';
  // Compared by digest so lookups take the same time whatever the token's length or prefix.
  private readonly users: { digest: Buffer; user: UserInfo }[];

  constructor(tokens: ReadonlyMap<string, UserInfo>) {
    this.users = [...tokens].map(([token, user]) => ({ digest: digest(token), user }));
  }

  authenticate(req: IncomingMessage): AuthResult {
    const token = bearerToken(req.headers.authorization);
    if (token === undefined) return { kind: 'none' };
    const d = digest(token);
    let found: UserInfo | undefined;
    for (const u of this.users) if (timingSafeEqual(u.digest, d)) found = u.user;
    return found ? { kind: 'ok', user: found } : { kind: 'invalid', reason: 'invalid bearer token' };
  }
}

/** The token of an "Authorization: Bearer <token>" header; undefined when absent or of another scheme. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

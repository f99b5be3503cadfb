// Authentication: each Authenticator looks for one kind of credential (client certificate, bearer token, ...).
// The chain asks them in order; the first that recognises valid credentials names the user.
import type { IncomingMessage } from 'node:http';
import type { UserInfo } from './user.js';

export const AUTHENTICATED_GROUP = 'system:authenticated';

export type AuthResult =
  /** No credentials of this authenticator's kind were presented. */
  | { kind: 'none' }
  | { kind: 'ok'; user: UserInfo }
  /** Credentials of this kind were presented but are not valid (expired, unknown token, wrong CA, ...). */
  | { kind: 'invalid'; reason: string };

export interface Authenticator {
  readonly name: string;
  authenticate(req: IncomingMessage): AuthResult | Promise<AuthResult>;
}

/**
 * Runs the authenticators in order. Valid credentials win at once; otherwise, when some credentials were invalid the
 * result is 'invalid' (a bad credential never falls back to anonymous), and 'none' when there were none at all.
 * Authenticated users get the system:authenticated group, as upstream adds it.
 */
export async function authenticateRequest(authenticators: readonly Authenticator[], req: IncomingMessage): Promise<AuthResult> {
  const failures: string[] = [];
  for (const a of authenticators) {
    const r = await a.authenticate(req);
    if (r.kind === 'ok') return { kind: 'ok', user: withAuthenticatedGroup(r.user) };
    if (r.kind === 'invalid') failures.push(`${a.name}: ${r.reason}`);
  }
  return failures.length ? { kind: 'invalid', reason: failures.join('; ') } : { kind: 'none' };
}

function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.groups.includes(AUTHENTICATED_GROUP) || user.name === 'system:anonymous') return user;
  return { ...user, groups: [...user.groups, AUTHENTICATED_GROUP] };
}

// Impersonation (upstream's WithImpersonation filter): a request carrying Impersonate-User (and optionally
// Impersonate-Group, Impersonate-Uid, Impersonate-Extra-<key>) is served as that user, once the authenticated
// requester is allowed the verb `impersonate` on each thing it asks to be: users, groups, serviceaccounts (for
// system:serviceaccount:<ns>:<name>, in that namespace), uids and userextras/<key> (authentication.k8s.io), the
// value as the resource name. Runs after authentication and before the request's own authorization.
import type { IncomingMessage } from 'node:http';
import { ApiError } from '../../machinery/errors.js';
import { AUTHENTICATED_GROUP } from './authenticator.js';
import { forbiddenError, type AuthorizationAttributes, type Authorizer } from './authorizer.js';
import { serviceAccountUser, splitServiceAccountUsername } from './serviceaccount.js';
import { ANONYMOUS, UNAUTHENTICATED_GROUP, type UserInfo } from './user.js';

const USER_HEADER = 'impersonate-user';
const GROUP_HEADER = 'impersonate-group';
const UID_HEADER = 'impersonate-uid';
const EXTRA_HEADER_PREFIX = 'impersonate-extra-';
const AUTHENTICATION_GROUP = 'authentication.k8s.io';

/** One thing the requester asks to act as, in the order upstream checks them. */
type ImpersonationRequest =
  | { kind: 'User'; name: string }
  | { kind: 'ServiceAccount'; namespace: string; name: string }
  | { kind: 'Group'; name: string }
  | { kind: 'UserExtra'; key: string; value: string }
  | { kind: 'UID'; uid: string };

/** Whether the request carries any impersonation header (the cheap test every request pays). */
export function hasImpersonationHeaders(req: IncomingMessage): boolean {
  for (const name in req.headers) if (name.startsWith('impersonate-')) return true;
  return false;
}

/** Once honoured, the headers go (as upstream), so nothing that later forwards the request's headers passes them on. */
function removeImpersonationHeaders(req: IncomingMessage): void {
  const distinct = (req as Partial<Pick<IncomingMessage, 'headersDistinct'>>).headersDistinct;
  for (const name of Object.keys(req.headers)) {
    if (!name.startsWith('impersonate-')) continue;
    delete req.headers[name];
    if (distinct) delete distinct[name];
  }
}

/** Every value of a header, repeated headers kept apart (Node joins most repeated headers with ", "). */
function headerValues(req: IncomingMessage, name: string): string[] {
  const distinct = (req as Partial<Pick<IncomingMessage, 'headersDistinct'>>).headersDistinct;
  const v = distinct ? distinct[name] : req.headers[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** An extra's key as written after the prefix: lower-cased, then %-decoded (kept as sent when malformed). */
function extraKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}

/** Go's %v of the ObjectReference upstream builds per request, for its 400 message. */
function describe(r: ImpersonationRequest): string {
  const ref = (kind: string, namespace: string, name: string, apiVersion = '', fieldPath = '') => `{${[kind, namespace, name, '', apiVersion, '', fieldPath].join(' ')}}`;
  switch (r.kind) {
    case 'User':
      return ref('User', '', r.name);
    case 'ServiceAccount':
      return ref('ServiceAccount', r.namespace, r.name);
    case 'Group':
      return ref('Group', '', r.name);
    case 'UserExtra':
      return ref('UserExtra', '', r.value, `${AUTHENTICATION_GROUP}/v1`, r.key);
    case 'UID':
      return ref('UID', '', r.uid, `${AUTHENTICATION_GROUP}/v1`);
  }
}

/** What the headers ask for; 400 when groups, extras or a uid come without a user, as upstream. */
export function impersonationRequests(req: IncomingMessage): ImpersonationRequest[] {
  const out: ImpersonationRequest[] = [];
  const user = headerValues(req, USER_HEADER)[0] ?? '';
  if (user) {
    const sa = splitServiceAccountUsername(user);
    out.push(sa ? { kind: 'ServiceAccount', ...sa } : { kind: 'User', name: user });
  }
  const groups = headerValues(req, GROUP_HEADER);
  for (const name of groups) out.push({ kind: 'Group', name });
  let extras = false;
  for (const header in req.headers) {
    if (!header.startsWith(EXTRA_HEADER_PREFIX)) continue;
    extras = true;
    const key = extraKey(header.slice(EXTRA_HEADER_PREFIX.length));
    for (const value of headerValues(req, header)) out.push({ kind: 'UserExtra', key, value });
  }
  const uid = headerValues(req, UID_HEADER)[0] ?? '';
  if (uid) out.push({ kind: 'UID', uid });
  if ((groups.length || extras || uid) && !user) {
    throw ApiError.badRequest(`requested [${out.map(describe).join(' ')}] without impersonating a user`);
  }
  return out;
}

/** The authorization asked of the requester for one impersonation request. */
function impersonateAttributes(requester: UserInfo, r: ImpersonationRequest): AuthorizationAttributes {
  const base = { user: requester, verb: 'impersonate', apiVersion: 'v1', subresource: '', namespace: '', path: '', isResourceRequest: true };
  switch (r.kind) {
    case 'User':
      return { ...base, apiGroup: '', resource: 'users', name: r.name };
    case 'ServiceAccount':
      return { ...base, apiGroup: '', resource: 'serviceaccounts', namespace: r.namespace, name: r.name };
    case 'Group':
      return { ...base, apiGroup: '', resource: 'groups', name: r.name };
    case 'UserExtra':
      return { ...base, apiGroup: AUTHENTICATION_GROUP, resource: 'userextras', subresource: r.key, name: r.value };
    case 'UID':
      return { ...base, apiGroup: AUTHENTICATION_GROUP, resource: 'uids', name: r.uid };
  }
}

/**
 * The user a request acts as: `requester` itself when the headers ask for no one, else the impersonated user once every
 * request is authorized (403 with upstream's message on the first that is not). Groups given explicitly are the
 * authority; otherwise a service account gets its groups. Anyone but system:anonymous gets system:authenticated
 * unless system:authenticated or system:unauthenticated is among the groups; system:anonymous gets
 * system:unauthenticated.
 */
export async function impersonatedUser(req: IncomingMessage, requester: UserInfo, authorizer: Authorizer): Promise<UserInfo> {
  const requests = impersonationRequests(req);
  if (!requests.length) return requester;
  const groupsGiven = requests.some((r) => r.kind === 'Group');
  let name = '';
  let uid = '';
  let groups: string[] = [];
  const extra: Record<string, string[]> = {};
  for (const r of requests) {
    const attrs = impersonateAttributes(requester, r);
    const result = await authorizer.authorize(attrs);
    if (result.decision !== 'allow') throw forbiddenError(attrs, result.reason);
    switch (r.kind) {
      case 'User':
        name = r.name;
        break;
      case 'ServiceAccount': {
        const sa = serviceAccountUser(r.namespace, r.name);
        name = sa.name;
        if (!groupsGiven) groups = sa.groups;
        break;
      }
      case 'Group':
        groups.push(r.name);
        break;
      case 'UserExtra':
        (extra[r.key] ??= []).push(r.value);
        break;
      case 'UID':
        uid = r.uid;
        break;
    }
  }
  removeImpersonationHeaders(req);
  if (name !== ANONYMOUS.name) {
    if (!groups.includes(AUTHENTICATED_GROUP) && !groups.includes(UNAUTHENTICATED_GROUP)) groups.push(AUTHENTICATED_GROUP);
  } else if (!groups.includes(UNAUTHENTICATED_GROUP)) {
    groups.push(UNAUTHENTICATED_GROUP);
  }
  return { name, groups, ...(uid ? { uid } : {}), ...(Object.keys(extra).length ? { extra } : {}) };
}

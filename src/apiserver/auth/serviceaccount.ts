// Service account tokens: JWTs signed with the cluster's service-account key (<data-dir>/server/tls/service.key, as
// k3s keeps it), issued by the TokenRequest subresource (serviceaccounts/token) and accepted as bearer tokens by the
// authenticator below. Bound tokens carry upstream's "kubernetes.io" private claims (namespace, service account,
// and the Pod, Secret or Node they are bound to); they stop authenticating once the service account or the bound
// object is gone or was replaced (another uid), and at expiry.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import type { KubeObject } from '../../api/object.js';
import { formatDate } from '../../machinery/time.js';
import { isDNS1123Label, isDNS1123Subdomain } from '../../machinery/validation.js';
import { writeFileAtomic } from '../pki/cluster.js';
import type { AuthResult, Authenticator } from './authenticator.js';
import { bearerToken } from './token.js';
import type { UserInfo } from './user.js';

/** kube-apiserver's --service-account-issuer as k3s sets it; also the default (and only) API audience. */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** TokenRequestSpec.expirationSeconds when unset, and the minimum (ValidateTokenRequest). */
export const DEFAULT_EXPIRATION_SECONDS = 3600;
export const MIN_EXPIRATION_SECONDS = 600;
export const MAX_EXPIRATION_SECONDS = 2 ** 32;
/** The kubelet's kube-api-access token asks for this odd lifetime; the server then extends it to a year (warnafter). */
export const WARN_ONLY_EXPIRATION_SECONDS = 3607;
export const EXTENDED_EXPIRATION_SECONDS = 365 * 24 * 60 * 60;
/** A bound object deleted longer ago than this no longer vouches for its tokens (upstream's grace). */
const DELETION_GRACE_MS = 60_000;
/** Clock skew accepted on exp and nbf (go-jose's default leeway). */
const LEEWAY_SECONDS = 60;

export const SERVICE_ACCOUNT_USER_PREFIX = 'system:serviceaccount:';
export const SERVICE_ACCOUNTS_GROUP = 'system:serviceaccounts';

interface NameUid {
  name: string;
  uid: string;
}

/** The private claims of a bound token. */
export interface KubernetesClaims {
  namespace: string;
  serviceaccount: NameUid;
  pod?: NameUid;
  secret?: NameUid;
  node?: NameUid;
  /** Extended tokens: when a client should have rotated (seconds since the epoch). */
  warnafter?: number;
}

export interface ServiceAccountClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  'kubernetes.io': KubernetesClaims;
}

/** The issuer of the tokens controller's non-expiring Secret tokens (upstream's LegacyIssuer). */
export const LEGACY_ISSUER = 'kubernetes/serviceaccount';
export const SERVICE_ACCOUNT_TOKEN_SECRET_TYPE = 'kubernetes.io/service-account-token';
/** Annotations of a kubernetes.io/service-account-token Secret naming its service account. */
export const SERVICE_ACCOUNT_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
export const SERVICE_ACCOUNT_UID_ANNOTATION = 'kubernetes.io/service-account.uid';
/** The day (UTC, YYYY-MM-DD) a legacy token Secret last authenticated (LegacyServiceAccountTokenTracking). */
export const LEGACY_TOKEN_LAST_USED_LABEL = 'kubernetes.io/legacy-token-last-used';
/** Set by the legacy token cleaner: such a Secret's token no longer authenticates. */
export const LEGACY_TOKEN_INVALID_SINCE_LABEL = 'kubernetes.io/legacy-token-invalid-since';
/** The API server's record of since when legacy token use is tracked (upstream's legacytokentracking), in kube-system. */
export const LEGACY_TOKEN_TRACKING_CONFIGMAP = 'kube-apiserver-legacy-service-account-token-tracking';
export const LEGACY_TOKEN_TRACKING_SINCE_KEY = 'since';

/** The claims of a legacy (Secret-held, non-expiring) token: no aud, exp or jti. */
export interface LegacyServiceAccountClaims {
  iss: typeof LEGACY_ISSUER;
  sub: string;
  'kubernetes.io/serviceaccount/namespace': string;
  'kubernetes.io/serviceaccount/secret.name': string;
  'kubernetes.io/serviceaccount/service-account.name': string;
  'kubernetes.io/serviceaccount/service-account.uid': string;
}

/** The service-account signing key: made at first start (RSA 2048, as k3s's service.key), reused afterwards. */
export async function ensureServiceAccountKey(tlsDir: string): Promise<string> {
  const path = join(tlsDir, 'service.key');
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  await writeFileAtomic(path, pem, 0o600);
  return pem;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export type VerifyResult =
  | { ok: true; legacy?: false; claims: ServiceAccountClaims }
  | { ok: true; legacy: true; claims: LegacyServiceAccountClaims }
  | { ok: false; ours: boolean; reason: string };

/** Signs and verifies the cluster's service account JWTs (one key, RS256 or ES256 after its type). */
export class ServiceAccountTokens {
  readonly issuer: string;
  /** --api-audiences: a token must name one of these to authenticate to the API server. */
  readonly apiAudiences: readonly string[];
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly alg: 'RS256' | 'ES256';
  private readonly kid: string;

  constructor(keyPem: string, opts: { issuer?: string; apiAudiences?: readonly string[] } = {}) {
    this.issuer = opts.issuer ?? DEFAULT_ISSUER;
    this.apiAudiences = opts.apiAudiences?.length ? opts.apiAudiences : [this.issuer];
    this.privateKey = createPrivateKey(keyPem);
    this.publicKey = createPublicKey(this.privateKey);
    this.alg = this.privateKey.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
    // Upstream's key id: the SHA-256 of the DER public key, base64url.
    this.kid = b64url(createHash('sha256').update(this.publicKey.export({ type: 'spki', format: 'der' })).digest());
  }

  /** The JWS algorithm of this key ("RS256" or "ES256"). */
  get signingAlgorithm(): 'RS256' | 'ES256' {
    return this.alg;
  }

  /**
   * The verification key as a JSON Web Key, as upstream's /openid/v1/jwks lists it (go-jose's member order: use, kty,
   * kid, crv, alg, then the key's numbers).
   */
  publicJwk(): Record<string, string> {
    const jwk = this.publicKey.export({ format: 'jwk' });
    const out: Record<string, string> = { use: 'sig', kty: String(jwk.kty), kid: this.kid };
    if (jwk.crv) out.crv = jwk.crv;
    out.alg = this.alg;
    for (const k of ['x', 'y', 'n', 'e'] as const) if (jwk[k]) out[k] = jwk[k];
    return out;
  }

  sign(claims: ServiceAccountClaims | LegacyServiceAccountClaims): string {
    const signingInput = `${b64url(JSON.stringify({ alg: this.alg, kid: this.kid }))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), this.alg === 'ES256' ? { key: this.privateKey, dsaEncoding: 'ieee-p1363' } : this.privateKey);
    return `${signingInput}.${b64url(signature)}`;
  }

  /**
   * Checks signature, issuer, audience and time. `ours: false` means the token is no JWT of this issuer (another
   * authenticator may know it).
   */
  verify(token: string, nowMs: number): VerifyResult {
    const parts = token.split('.');
    if (parts.length !== 3) return { ok: false, ours: false, reason: 'not a JWT' };
    let header: { alg?: unknown };
    let claims: ServiceAccountClaims;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as { alg?: unknown };
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as ServiceAccountClaims;
    } catch {
      return { ok: false, ours: false, reason: 'not a JWT' };
    }
    if (typeof claims !== 'object' || claims === null) return { ok: false, ours: false, reason: 'not a JWT' };
    const legacy = (claims.iss as string) === LEGACY_ISSUER;
    if (claims.iss !== this.issuer && !legacy) return { ok: false, ours: false, reason: 'issuer mismatch' };
    if (header.alg !== this.alg) return { ok: false, ours: true, reason: `unexpected signing algorithm ${String(header.alg)}` };
    const signature = Buffer.from(parts[2], 'base64url');
    const good = verify(
      'sha256',
      Buffer.from(`${parts[0]}.${parts[1]}`),
      this.alg === 'ES256' ? { key: this.publicKey, dsaEncoding: 'ieee-p1363' } : this.publicKey,
      signature,
    );
    if (!good) return { ok: false, ours: true, reason: 'invalid signature' };
    if (legacy) return verifyLegacyClaims(claims as unknown as Record<string, unknown>, nowMs);
    const now = Math.floor(nowMs / 1000);
    if (typeof claims.exp !== 'number' || now > claims.exp + LEEWAY_SECONDS) return { ok: false, ours: true, reason: 'service account token has expired' };
    if (typeof claims.nbf === 'number' && now + LEEWAY_SECONDS < claims.nbf) return { ok: false, ours: true, reason: 'service account token is not valid yet' };
    const aud = Array.isArray(claims.aud) ? claims.aud : typeof claims.aud === 'string' ? [claims.aud] : [];
    if (!aud.some((a) => this.apiAudiences.includes(a))) return { ok: false, ours: true, reason: 'token audiences is invalid for the target audiences' };
    const k = claims['kubernetes.io'];
    if (typeof k !== 'object' || k === null || typeof k.namespace !== 'string' || typeof k.serviceaccount?.name !== 'string') {
      return { ok: false, ours: true, reason: 'service account token claims are incomplete' };
    }
    return { ok: true, claims };
  }

  /** The claims of a Secret's non-expiring token (upstream's LegacyClaims). */
  legacyClaims(serviceAccount: KubeObject, secretName: string): LegacyServiceAccountClaims {
    const sa = serviceAccount.metadata;
    return {
      iss: LEGACY_ISSUER,
      'kubernetes.io/serviceaccount/namespace': sa.namespace ?? '',
      'kubernetes.io/serviceaccount/secret.name': secretName,
      'kubernetes.io/serviceaccount/service-account.name': sa.name ?? '',
      'kubernetes.io/serviceaccount/service-account.uid': sa.uid ?? '',
      sub: `${SERVICE_ACCOUNT_USER_PREFIX}${sa.namespace}:${sa.name}`,
    };
  }

  /** The claims of a new bound token (upstream's token.Claims). */
  claims(opts: {
    serviceAccount: KubeObject;
    audiences: readonly string[];
    expirationSeconds: number;
    /** Extended tokens: the lifetime after which the holder is warned. */
    warnAfterSeconds?: number;
    pod?: KubeObject;
    secret?: KubeObject;
    node?: KubeObject;
    nowMs: number;
  }): ServiceAccountClaims {
    const now = Math.floor(opts.nowMs / 1000);
    const sa = opts.serviceAccount.metadata;
    const ref = (o: KubeObject): NameUid => ({ name: o.metadata.name ?? '', uid: o.metadata.uid ?? '' });
    const k: KubernetesClaims = { namespace: sa.namespace ?? '', serviceaccount: ref(opts.serviceAccount) };
    if (opts.pod) k.pod = ref(opts.pod);
    if (opts.secret) k.secret = ref(opts.secret);
    if (opts.node) k.node = ref(opts.node);
    if (opts.warnAfterSeconds !== undefined) k.warnafter = now + opts.warnAfterSeconds;
    return {
      aud: [...opts.audiences],
      exp: now + opts.expirationSeconds,
      iat: now,
      iss: this.issuer,
      jti: randomUUID(),
      'kubernetes.io': k,
      nbf: now,
      sub: `${SERVICE_ACCOUNT_USER_PREFIX}${sa.namespace}:${sa.name}`,
    };
  }
}

/** The legacy validator's claim checks: every private claim present, sub naming the same service account. */
function verifyLegacyClaims(c: Record<string, unknown>, nowMs: number): VerifyResult {
  const str = (k: string): string => (typeof c[k] === 'string' ? (c[k] as string) : '');
  const missing = (what: string): VerifyResult => ({ ok: false, ours: true, reason: `${what} claim is missing` });
  // Legacy tokens carry no exp; one that does anyway is held to it like any JWT.
  if (typeof c.exp === 'number' && Math.floor(nowMs / 1000) > c.exp + LEEWAY_SECONDS) return { ok: false, ours: true, reason: 'service account token has expired' };
  if (!str('sub')) return missing('sub');
  const namespace = str('kubernetes.io/serviceaccount/namespace');
  if (!namespace) return missing('namespace');
  if (!str('kubernetes.io/serviceaccount/secret.name')) return missing('secretName');
  const name = str('kubernetes.io/serviceaccount/service-account.name');
  if (!name) return missing('serviceAccountName');
  if (!str('kubernetes.io/serviceaccount/service-account.uid')) return missing('serviceAccountUID');
  if (str('sub') !== `${SERVICE_ACCOUNT_USER_PREFIX}${namespace}:${name}`) return { ok: false, ours: true, reason: 'sub claim is invalid' };
  return { ok: true, legacy: true, claims: c as unknown as LegacyServiceAccountClaims };
}

/**
 * The objects a token names (upstream's --service-account-lookup). Undefined: not found. `uid` is the one the token
 * claims: a getter backed by a watched cache may answer from it when it holds that uid, and read storage otherwise.
 */
export interface TokenObjectGetter {
  /** Called once before the lookups of one authentication (a watched cache catches up with committed writes). */
  ready?(): Promise<void>;
  serviceAccount(namespace: string, name: string, uid?: string): Promise<KubeObject | undefined>;
  pod(namespace: string, name: string, uid?: string): Promise<KubeObject | undefined>;
  secret(namespace: string, name: string, uid?: string): Promise<KubeObject | undefined>;
  node(name: string, uid?: string): Promise<KubeObject | undefined>;
  /** Labels a legacy token Secret with the day it authenticated (kubernetes.io/legacy-token-last-used). */
  markLegacyTokenUsed?(namespace: string, name: string, uid: string, day: string): Promise<void>;
}

/** The user a service account acts as (serviceaccount.UserInfo). */
export function serviceAccountUser(namespace: string, name: string, uid?: string): UserInfo {
  return {
    name: `${SERVICE_ACCOUNT_USER_PREFIX}${namespace}:${name}`,
    ...(uid ? { uid } : {}),
    groups: [SERVICE_ACCOUNTS_GROUP, `${SERVICE_ACCOUNTS_GROUP}:${namespace}`],
  };
}

/** system:serviceaccount:<namespace>:<name> with a valid namespace and name (upstream's SplitUsername), else undefined. */
export function splitServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SERVICE_ACCOUNT_USER_PREFIX)) return undefined;
  const parts = username.slice(SERVICE_ACCOUNT_USER_PREFIX.length).split(':');
  if (parts.length !== 2) return undefined;
  const [namespace, name] = parts as [string, string];
  if (isDNS1123Label(namespace).length || isDNS1123Subdomain(name).length) return undefined;
  return { namespace, name };
}

/** Accepts the cluster's service account JWTs, checking that what they are bound to still exists. */
export class ServiceAccountTokenAuthenticator implements Authenticator {
  readonly name = 'serviceaccount';
  /** Set once the registry exists (the API handler is built after the filters). */
  getter?: TokenObjectGetter;

  constructor(
    private readonly tokens: ServiceAccountTokens,
    private readonly now: () => number = Date.now,
  ) {}

  async authenticate(req: IncomingMessage): Promise<AuthResult> {
    const token = bearerToken(req.headers.authorization);
    if (token === undefined) return { kind: 'none' };
    return this.authenticateToken(token);
  }

  async authenticateToken(token: string): Promise<AuthResult> {
    const nowMs = this.now();
    const v = this.tokens.verify(token, nowMs);
    if (!v.ok) return v.ours ? { kind: 'invalid', reason: v.reason } : { kind: 'none' };
    if (!this.getter) return { kind: 'invalid', reason: 'service account tokens cannot be checked yet: the API server is starting' };
    if (v.legacy) return this.authenticateLegacy(token, v.claims, this.getter, nowMs);
    const k = v.claims['kubernetes.io'];
    const ns = k.namespace;
    const invalid = (reason: string): AuthResult => ({ kind: 'invalid', reason });
    await this.getter.ready?.();
    const sa = await this.getter.serviceAccount(ns, k.serviceaccount.name, k.serviceaccount.uid);
    const saCheck = checkBound('service account', ns, k.serviceaccount, sa, nowMs);
    if (saCheck) return invalid(saCheck);
    const extra: Record<string, string[]> = {};
    if (k.secret) {
      const why = checkBound('secret', ns, k.secret, await this.getter.secret(ns, k.secret.name, k.secret.uid), nowMs);
      if (why) return invalid(why);
    }
    if (k.pod) {
      const why = checkBound('pod', ns, k.pod, await this.getter.pod(ns, k.pod.name, k.pod.uid), nowMs);
      if (why) return invalid(why);
      extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
    }
    if (k.node) {
      // A pod-bound token names its node for information; only a token bound to the node itself needs it alive.
      if (!k.pod) {
        const why = checkBound('node', '', k.node, await this.getter.node(k.node.name, k.node.uid), nowMs);
        if (why) return invalid(why);
      }
      extra['authentication.kubernetes.io/node-name'] = [k.node.name];
      extra['authentication.kubernetes.io/node-uid'] = [k.node.uid];
    }
    if (v.claims.jti) extra['authentication.kubernetes.io/credential-id'] = [`JTI=${v.claims.jti}`];
    return { kind: 'ok', user: { ...serviceAccountUser(ns, k.serviceaccount.name, k.serviceaccount.uid), extra } };
  }

  private async authenticateLegacy(token: string, c: LegacyServiceAccountClaims, getter: TokenObjectGetter, nowMs: number): Promise<AuthResult> {
    const ns = c['kubernetes.io/serviceaccount/namespace'];
    const saName = c['kubernetes.io/serviceaccount/service-account.name'];
    const uid = c['kubernetes.io/serviceaccount/service-account.uid'];
    const secretName = c['kubernetes.io/serviceaccount/secret.name'];
    await getter.ready?.();
    const secret = await getter.secret(ns, secretName);
    const why = legacyCheck(token, c, secret, secret && (await getter.serviceAccount(ns, saName, uid)));
    if (why) return { kind: 'invalid', reason: why };
    // Tracking: today's date (or tomorrow's, from a server whose clock runs ahead) is left alone.
    const day = (offset: number) => formatDate(nowMs + offset * 86_400_000);
    const lastUsed = secret!.metadata.labels?.[LEGACY_TOKEN_LAST_USED_LABEL];
    if (getter.markLegacyTokenUsed && lastUsed !== day(0) && lastUsed !== day(1)) {
      getter.markLegacyTokenUsed(ns, secretName, secret!.metadata.uid ?? '', day(0)).catch(() => undefined);
    }
    return { kind: 'ok', user: serviceAccountUser(ns, saName, uid) };
  }
}

/**
 * The legacy validator: the Secret must still hold exactly this token and the service account must be the one it was
 * made for. A Secret used today gets the last-used label (at most one write a day per Secret).
 */
function legacyCheck(token: string, c: LegacyServiceAccountClaims, secret: KubeObject | undefined, sa: KubeObject | undefined): string | undefined {
  const ns = c['kubernetes.io/serviceaccount/namespace'];
  const saName = c['kubernetes.io/serviceaccount/service-account.name'];
  const uid = c['kubernetes.io/serviceaccount/service-account.uid'];
  if (!secret || secret.metadata.deletionTimestamp) return 'Token has been invalidated';
  if (secret.metadata.labels?.[LEGACY_TOKEN_INVALID_SINCE_LABEL]) return 'Token has been invalidated';
  const data = (secret as KubeObject & { data?: Record<string, string> }).data;
  if (!data?.token || Buffer.from(data.token, 'base64').toString('utf8') !== token) return "Token does not match server's copy";
  if (!sa) return `serviceaccounts "${saName}" not found`;
  if (sa.metadata.deletionTimestamp) return `ServiceAccount ${ns}/${saName} has been deleted`;
  if (sa.metadata.uid !== uid) return `ServiceAccount UID (${sa.metadata.uid ?? ''}) does not match claim (${uid})`;
  return undefined;
}

/** Why a bound object no longer vouches for a token (gone, replaced, or deleted a while ago); undefined when it does. */
function checkBound(what: string, ns: string, claim: NameUid, obj: KubeObject | undefined, nowMs: number): string | undefined {
  const id = ns ? `${ns}/${claim.name}` : claim.name;
  if (!obj) return `${what} ${id} has been deleted`;
  if (claim.uid && obj.metadata.uid !== claim.uid) return `${what} UID (${obj.metadata.uid ?? ''}) does not match claim (${claim.uid})`;
  const deletion = obj.metadata.deletionTimestamp;
  if (deletion && Date.parse(deletion) < nowMs - DELETION_GRACE_MS) return `${what} ${id} is being deleted`;
  return undefined;
}

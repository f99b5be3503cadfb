// Service account issuer discovery (upstream's ServiceAccountIssuerDiscovery, GA in 1.21): the API server serves an
// OpenID Connect discovery document at /.well-known/openid-configuration and the keys that verify its service
// account tokens at /openid/v1/jwks, so relying parties (cloud IAM, Vault, ...) can check those tokens without a
// TokenReview. As upstream, both are served only for an https issuer URL; the key set's URL is
// --service-account-jwks-uri, else https://<external address>/openid/v1/jwks. Who may read them is the
// authorizer's business: upstream binds the system:service-account-issuer-discovery ClusterRole to every service
// account (the bootstrap objects are created in bootstrap.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../../machinery/errors.js';
import type { ServiceAccountTokens } from './serviceaccount.js';

export const OPENID_CONFIG_PATH = '/.well-known/openid-configuration';
export const JWKS_PATH = '/openid/v1/jwks';
/** The non-resource URLs upstream's system:service-account-issuer-discovery ClusterRole grants "get" on. */
export const ISSUER_DISCOVERY_URLS = [OPENID_CONFIG_PATH, `${OPENID_CONFIG_PATH}/`, JWKS_PATH, `${JWKS_PATH}/`];
export const ISSUER_DISCOVERY_ROLE = 'system:service-account-issuer-discovery';

const CACHE_CONTROL = 'public, max-age=3600';
const MIME_JWKS = 'application/jwk-set+json';

export interface IssuerDiscoveryOptions {
  tokens: Pick<ServiceAccountTokens, 'issuer' | 'signingAlgorithm' | 'publicJwk'>;
  /** --service-account-jwks-uri; empty: derived from `externalAddress`. */
  jwksUri?: string;
  /** host:port clients outside the cluster reach the API server at (upstream's ExternalAddress). */
  externalAddress: string;
}

export interface IssuerDiscovery {
  /** The two documents, as served. */
  readonly configuration: string;
  readonly jwks: string;
  /** Answers a request for one of the two paths (true), or leaves it (false). */
  serve(req: IncomingMessage, res: ServerResponse): boolean;
}

function httpsUrl(what: string, raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`${what} ${JSON.stringify(raw)} is not a valid URL`);
  }
  if (u.protocol !== 'https:') throw new Error(`${what} must use https scheme`);
  return u;
}

/**
 * Upstream's NewOpenIDMetadata: the issuer must be an https URL without query or fragment, the key set's URL an https
 * URL. Throws saying what is wrong (upstream then serves no discovery; so does the caller).
 */
export function issuerDiscovery(opts: IssuerDiscoveryOptions): IssuerDiscovery {
  const iss = httpsUrl('issuer URL', opts.tokens.issuer);
  if (iss.search) throw new Error('issuer URL may not include a query');
  if (iss.hash) throw new Error('issuer URL may not include a fragment');
  let jwksUri: string;
  if (opts.jwksUri) jwksUri = httpsUrl('jwks URI', opts.jwksUri).toString();
  else {
    if (!opts.externalAddress) throw new Error('no external address for the jwks URI');
    jwksUri = `https://${opts.externalAddress}${JWKS_PATH}`;
  }
  const configuration = JSON.stringify({
    issuer: opts.tokens.issuer,
    jwks_uri: jwksUri,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [opts.tokens.signingAlgorithm],
  });
  const jwks = JSON.stringify({ keys: [opts.tokens.publicJwk()] });
  return {
    configuration,
    jwks,
    serve(req, res) {
      const target = req.url ?? '/';
      // Every request passes here: a target that cannot name either path (the URL parser only drops tabs and
      // newlines and resolves dot segments, it never makes "openid") is left without parsing it.
      if (!target.includes('openid') && !/[\t\n\r]/.test(target)) return false;
      const path = new URL(target, 'https://skiff.invalid').pathname;
      const doc = path === OPENID_CONFIG_PATH ? { body: configuration, type: 'application/json' } : path === JWKS_PATH ? { body: jwks, type: MIME_JWKS } : undefined;
      if (!doc) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') throw ApiError.methodNotAllowed();
      res.writeHead(200, { 'Content-Type': doc.type, 'Cache-Control': CACHE_CONTROL, 'Content-Length': Buffer.byteLength(doc.body) });
      res.end(req.method === 'HEAD' ? undefined : doc.body);
      return true;
    },
  };
}

/** host:port with IPv6 hosts in brackets (Go's net.JoinHostPort). */
export const joinHostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

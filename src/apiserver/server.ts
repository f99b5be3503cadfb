// The HTTPS server around the REST handlers: TLS with optional client certificates, then an explicit chain of
// request filters (authentication, authorization), then the built-in paths (/livez, /readyz, /healthz, /version,
// /metrics) or the API handler. Also the process lifecycle: PKI and kubeconfig at start, graceful shutdown.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { ApiError, isApiError } from '../machinery/errors.js';
import { openStorage } from '../storage/registry.js';
import type { Storage } from '../storage/types.js';
import { authenticateRequest, type AuthResult, type Authenticator } from './auth/authenticator.js';
import {
  attributesFor,
  forbiddenError,
  isPublicInfoPath,
  type Authorizer,
} from './auth/authorizer.js';
import { hasImpersonationHeaders, impersonatedUser } from './auth/impersonation.js';
import { SERVER_TOKEN_USER, TokenAuthenticator } from './auth/token.js';
import { isJoinPath, JoinPathAuthorizer, joinRoute, NodePasswords } from './join.js';
import { authorizerChain, type RbacWiring } from './auth/rbac/chain.js';
import { nodeIdentity } from './auth/node.js';
import { DEFAULT_AUTHORIZATION_MODE, parseApiServerArgs } from './args.js';
import { NodeGraph } from './auth/node-graph.js';
import { ensureServerToken } from './pki/token.js';
import { ANONYMOUS, type UserInfo } from './auth/user.js';
import { X509Authenticator } from './auth/x509.js';
import { ensureServiceAccountKey, ServiceAccountTokenAuthenticator, ServiceAccountTokens } from './auth/serviceaccount.js';
import { writeError } from './endpoints/negotiation.js';
import { logCheck, namedCheck, pingCheck, serveHealth, shutdownCheck, type HealthCheck, type HealthChecks } from './health.js';
import { METRICS_CONTENT_TYPE, instrumentStorage, longRunningStarted, metricsText, recordRequest } from './metrics.js';
import { ensureClusterPki, servingSans, type ClusterPki } from './pki/cluster.js';
import { writeKubeconfig } from './pki/kubeconfig.js';
import { isLongRunning, parseRequestInfo, requestSlot, searchParamsOf, setRequestInfo, type RequestInfo } from './request-info.js';
import { versionInfo } from './version.js';
import { CONNECT_PATH, type EgressSelectorMode } from './tunnel/server.js';
import { createLogger, type LogLevel, type Logger } from './log.js';

export { LOG_LEVELS, createLogger, type LogLevel, type Logger } from './log.js';

// ---------------------------------------------------------------------------------------------------------------
// Configuration

/** `skiff server` flags, parsed and validated (k3s's flag names). */
export interface ServerConfig {
  dataDir: string;
  bindAddress: string;
  httpsListenPort: number;
  advertiseAddress?: string;
  writeKubeconfig: string;
  writeKubeconfigMode: number;
  /** '' = embedded SQLite under the data dir; etcd as http://host:port[,host:port]. */
  datastoreEndpoint: string;
  token?: string;
  disableAgent: boolean;
  clusterCidr: string;
  serviceCidr: string;
  disableControllers: string[];
  logLevel: LogLevel;
  /** k3s's --kube-apiserver-arg / --kube-controller-manager-arg: "name=value" flags for those components. */
  kubeApiserverArgs?: string[];
  kubeControllerManagerArgs?: string[];
  /** --metric-resolution: how often the built-in metrics-server scrapes kubelets (ms). */
  metricResolutionMs?: number;
  /** k3s's --egress-selector-mode: whether kubelets are reached through the agents' reverse tunnels (default agent). */
  egressSelectorMode?: EgressSelectorMode;
}

// ---------------------------------------------------------------------------------------------------------------
// Handlers and the request pipeline

/** The REST API behind the filters: called for every authorized request the built-in paths do not serve. */
export type ApiHandler = (req: IncomingMessage, res: ServerResponse, user: UserInfo) => Promise<void>;
/** Upgrade requests (exec, attach, port-forward over WebSocket/SPDY) after authentication and authorization. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer, user: UserInfo) => void | Promise<void>;

export interface RequestContext {
  req: IncomingMessage;
  info: RequestInfo;
  /** Set by the authentication filter. */
  user?: UserInfo;
}

/** One step before the handler. Throws an ApiError to reject the request (rendered as a metav1.Status). */
export type RequestFilter = (ctx: RequestContext) => Promise<void>;

/**
 * Authentication: the first authenticator recognising valid credentials names the user. Requests without
 * credentials proceed as system:anonymous only to `anonymousAllowed` paths; everything else gets 401, as do
 * requests with invalid credentials.
 */
export function authenticationFilter(
  authenticators: readonly Authenticator[],
  anonymousAllowed: (path: string) => boolean = isPublicInfoPath,
  log?: Logger,
): RequestFilter {
  return async (ctx) => {
    const result = await authenticateRequest(authenticators, ctx.req);
    if (result.kind === 'ok') {
      ctx.user = result.user;
      return;
    }
    if (result.kind === 'none' && anonymousAllowed(ctx.info.path)) {
      ctx.user = ANONYMOUS;
      return;
    }
    if (result.kind === 'invalid') log?.debug('authentication failed', { path: ctx.info.path, reason: result.reason });
    throw ApiError.unauthorized();
  };
}

/** Impersonation headers: the request goes on as the impersonated user once the requester may impersonate it. */
export function impersonationFilter(authorizer: Authorizer): RequestFilter {
  return async (ctx) => {
    if (ctx.user && hasImpersonationHeaders(ctx.req)) ctx.user = await impersonatedUser(ctx.req, ctx.user, authorizer);
  };
}

export function authorizationFilter(authorizer: Authorizer): RequestFilter {
  return async (ctx) => {
    if (!ctx.user) throw ApiError.unauthorized();
    const attrs = attributesFor(ctx.user, ctx.info);
    const result = await authorizer.authorize(attrs);
    if (result.decision !== 'allow') throw forbiddenError(attrs, result.reason);
  };
}

/** A built-in path served by the server itself; returns false to pass the request on. */
export type Route = (req: IncomingMessage, res: ServerResponse, info: RequestInfo, user: UserInfo) => Promise<boolean>;

export const notFoundHandler: ApiHandler = async () => {
  throw ApiError.pageNotFound();
};

export interface PipelineOptions {
  filters: readonly RequestFilter[];
  routes: readonly Route[];
  apiHandler: ApiHandler;
  upgradeHandler?: UpgradeHandler;
  log: Logger;
  lifecycle: ShutdownHooks;
}

export interface Pipeline {
  onRequest(req: IncomingMessage, res: ServerResponse): void;
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Requests in flight that are not long-running (shutdown waits for these). */
  readonly inFlight: number;
  /** Resolves when no short request is in flight. */
  idle(): Promise<void>;
}

export function buildPipeline(opts: PipelineOptions): Pipeline {
  let inFlight = 0;
  let idleWaiters: (() => void)[] = [];
  // Who made each request, for the request log.
  const userOf = requestSlot<UserInfo>('skiff.requestUser');

  async function admit(req: IncomingMessage, info: RequestInfo): Promise<RequestContext> {
    setRequestInfo(req, info);
    const ctx: RequestContext = { req, info };
    for (const filter of opts.filters) await filter(ctx);
    if (ctx.user) userOf.set(req, ctx.user);
    return ctx;
  }

  function renderFailure(res: ServerResponse, err: unknown, info: RequestInfo): void {
    const apiErr = isApiError(err) ? err : ApiError.internal(err instanceof Error ? err.message : String(err), err);
    if (!isApiError(err)) opts.log.error('request failed', { path: info.path, err: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    writeError(res, apiErr);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, info: RequestInfo): Promise<void> {
    try {
      const ctx = await admit(req, info);
      const user = ctx.user ?? ANONYMOUS;
      for (const route of opts.routes) if (await route(req, res, info, user)) return;
      await opts.apiHandler(req, res, user);
    } catch (err) {
      renderFailure(res, err, info);
    }
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const info = parseRequestInfo(req.method ?? 'GET', req.url ?? '/');
    const longRunning = isLongRunning(info);
    const longRunningDone = longRunning ? longRunningStarted(info) : undefined;
    if (!longRunning) inFlight++;
    // Keep-alive connections must not outlive a shutdown.
    if (opts.lifecycle.shuttingDown) res.setHeader('Connection', 'close');
    res.once('close', () => {
      longRunningDone?.();
      const seconds = (performance.now() - started) / 1000;
      recordRequest(info, res.statusCode, seconds, { apply: (req.headers['content-type'] ?? '').startsWith('application/apply-patch') });
      opts.log.debug('request', {
        verb: info.verb,
        uri: req.url,
        code: res.statusCode,
        ms: Math.round(seconds * 1000),
        user: userOf.get(req)?.name,
        agent: req.headers['user-agent'],
      });
      if (!longRunning && --inFlight === 0) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const w of waiters) w();
      }
    });
    void handle(req, res, info);
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    void (async () => {
      try {
        if (!opts.upgradeHandler) throw ApiError.pageNotFound();
        const ctx = await admit(req, parseRequestInfo(req.method ?? 'GET', req.url ?? '/'));
        await opts.upgradeHandler(req, socket, head, ctx.user ?? ANONYMOUS);
      } catch (err) {
        const apiErr = isApiError(err) ? err : ApiError.internal(err instanceof Error ? err.message : String(err), err);
        if (!isApiError(err)) opts.log.error('upgrade failed', { path: req.url, err: String(err) });
        writeRawStatus(socket, apiErr);
      }
    })();
  }

  return {
    onRequest,
    onUpgrade,
    get inFlight() {
      return inFlight;
    },
    idle() {
      return inFlight === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}

/** An error response on a socket that was never handed to an HTTP response object (rejected upgrades). */
function writeRawStatus(socket: Duplex, err: ApiError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(err.status);
  socket.end(
    `HTTP/1.1 ${err.code} ${STATUS_CODES[err.code] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** /livez, /readyz, /healthz and their sub-checks. */
export function healthRoute(checks: HealthChecks, log?: Logger): Route {
  return async (req, res, info) => {
    if (info.isResourceRequest || !/^\/(livez|readyz|healthz)(\/|$)/.test(info.path)) return false;
    const query = searchParamsOf(req.url ?? '/');
    if (!(await serveHealth(checks, info.path, query, res, log))) throw ApiError.pageNotFound();
    return true;
  };
}

export const versionRoute: Route = async (_req, res, info) => {
  if (info.path !== '/version' && info.path !== '/version/') return false;
  // Upstream indents this document.
  const body = JSON.stringify(await versionInfo(), null, 2);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
  return true;
};

export const metricsRoute: Route = async (_req, res, info) => {
  if (info.path !== '/metrics') return false;
  if (info.verb !== 'get') throw ApiError.methodNotAllowed();
  const body = await metricsText();
  res.writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
  return true;
};

// ---------------------------------------------------------------------------------------------------------------
// Lifecycle

/**
 * What runs at shutdown. Long-running requests (watches, log streams) register a closer that ends their response
 * cleanly; components register hooks that are awaited before storage closes.
 */
export class ShutdownHooks {
  private closers = new Set<() => void>();
  private hooks: { name: string; run: () => void | Promise<void> }[] = [];
  private down = false;

  get shuttingDown(): boolean {
    return this.down;
  }

  /** Registers a long-running request's closer; returns a function that unregisters it (call it when it ends). */
  registerLongRunning(close: () => void): () => void {
    if (this.down) {
      // Started after shutdown began: end it at once.
      queueMicrotask(close);
      return () => undefined;
    }
    this.closers.add(close);
    return () => {
      this.closers.delete(close);
    };
  }

  /** Registers a hook awaited during shutdown, after requests drained and before storage closes. */
  onShutdown(name: string, run: () => void | Promise<void>): void {
    this.hooks.push({ name, run });
  }

  /** Marks shutdown as begun and closes every long-running request. */
  beginShutdown(): void {
    this.down = true;
    const closers = [...this.closers];
    this.closers.clear();
    for (const close of closers) {
      try {
        close();
      } catch {
        // A failing closer must not keep others open.
      }
    }
  }

  /** Runs the hooks, last registered first; each gets `perHookMs` before shutdown moves on without it. */
  async runHooks(log?: Logger, perHookMs = 5000): Promise<void> {
    for (const h of this.hooks.reverse()) {
      try {
        if ((await within(Promise.resolve(h.run()), perHookMs)) === 'timeout') {
          log?.warn('shutdown hook did not finish in time', { hook: h.name, ms: perHookMs });
        }
      } catch (e) {
        log?.error('shutdown hook failed', { hook: h.name, err: e });
      }
    }
    this.hooks = [];
  }
}

export interface ServerContext {
  config: ServerConfig;
  storage: Storage;
  lifecycle: ShutdownHooks;
  log: Logger;
  pki: ClusterPki;
  /** The service-account token signer, and the authenticator that wants the registry once it exists. */
  serviceAccountTokens: ServiceAccountTokens;
  serviceAccountAuthenticator: ServiceAccountTokenAuthenticator;
  /** The node authorizer's graph, for the API server to feed from its stores. */
  nodeGraph: NodeGraph;
  /** The RBAC authorizer (its objects filled from the API server's caches) and the whole authorizer chain. */
  rbac: RbacWiring;
  /** The port actually listened on (differs from the flag when that was 0) and the matching local URL. */
  port: number;
  url: string;
}

export interface ServerDeps {
  apiHandler?: ApiHandler;
  /**
   * Builds the API handler once storage is open and the port is bound (used when `apiHandler` is not given).
   * Until it returns, API requests get 503 and /readyz fails its "api-handler" check.
   */
  createApiHandler?: (ctx: ServerContext) => ApiHandler | Promise<ApiHandler>;
  upgradeHandler?: UpgradeHandler;
  /** Use this storage instead of opening config.datastoreEndpoint (it is still closed at shutdown). */
  storage?: Storage;
  /** Storage probe for /livez, /readyz and /healthz ("etcd" check); defaults to reading the current revision. */
  readiness?: () => Promise<void>;
  /** Further readiness checks (e.g. informer sync, post-start hooks). */
  readyChecks?: HealthCheck[];
  authenticators?: Authenticator[];
  authorizer?: Authorizer;
  /** --cluster-signing-duration for node certificates issued through the join endpoints (default 365 days). */
  clusterSigningDurationMs?: number;
  logger?: Logger;
  lifecycle?: ShutdownHooks;
  /** How long shutdown waits for requests in flight before closing their connections (default 10 s). */
  shutdownTimeoutMs?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  kubeconfigPath: string;
  storage: Storage;
  lifecycle: ShutdownHooks;
  pki: ClusterPki;
  /**
   * The request pipeline without the socket, for components running inside this process (an in-process transport's
   * handler): requests are authenticated as `user`, then authorized, routed and served like any that arrived over
   * HTTPS (admission, the same handlers, the request log and metrics).
   */
  inProcessHandler(user: UserInfo): (req: IncomingMessage, res: ServerResponse) => void;
  /** Graceful stop: readyz fails, no new connections, in-flight requests finish, watches close, storage closes. */
  stop(): Promise<void>;
}

/**
 * Names the user of requests handed over in-process. Only code in this process can create such requests, so the
 * identity it was given is the credential (as a client certificate is one for a socket).
 */
class InProcessAuthenticator implements Authenticator {
  readonly name = 'in-process';
  private readonly users = requestSlot<UserInfo>('skiff.inProcessUser');

  handle(req: IncomingMessage, user: UserInfo): void {
    this.users.set(req, user);
  }

  authenticate(req: IncomingMessage): AuthResult {
    const user = this.users.get(req);
    return user ? { kind: 'ok', user } : { kind: 'none' };
  }
}

/** The host clients on this machine use: loopback unless the server listens on one specific address. */
function localHost(bindAddress: string): string {
  const specific = isIP(bindAddress) !== 0 && bindAddress !== '0.0.0.0' && bindAddress !== '::';
  const host = specific ? bindAddress : '127.0.0.1';
  return isIP(host) === 6 ? `[${host}]` : host;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const what = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EADDRNOTAVAIL' ? 'cannot assign requested address' : err.message;
      reject(new Error(`listen tcp ${host}:${port}: bind: ${what}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

/** Waits for `work` at most `ms`; the timer keeps the process alive meanwhile and is cleared once either ends. */
async function within(work: Promise<unknown>, ms: number): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([work.then(() => 'done' as const), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startServer(config: ServerConfig, deps: ServerDeps = {}): Promise<RunningServer> {
  const startedAt = performance.now();
  const log = deps.logger ?? createLogger(config.logLevel);
  const lifecycle = deps.lifecycle ?? new ShutdownHooks();

  const pki = await ensureClusterPki(
    config.dataDir,
    servingSans({ serviceCidr: config.serviceCidr, advertiseAddress: config.advertiseAddress, bindAddress: config.bindAddress }),
  );
  // The join token (k3s's format, <data-dir>/server/token): its password admits agents to the certificate endpoints.
  const joinToken = await ensureServerToken(config.dataDir, pki.ca.certPem, config.token);
  const rawStorage = deps.storage ?? (await openStorage(config.datastoreEndpoint || undefined, { dataDir: config.dataDir }));
  const storage = instrumentStorage(rawStorage);
  log.info('storage opened', { backend: storage.name, endpoint: config.datastoreEndpoint || 'sqlite (embedded)' });

  try {
    let apiHandler: ApiHandler = deps.apiHandler ?? notFoundHandler;
    const buildHandler = deps.apiHandler ? undefined : deps.createApiHandler;
    let handlerInstalled = buildHandler === undefined;
    const startingHandler: ApiHandler = async () => {
      throw ApiError.serviceUnavailable('the API server is starting');
    };
    const handlerCheck: HealthCheck = {
      name: 'api-handler',
      check() {
        if (!handlerInstalled) throw new Error('API handler not installed yet');
      },
    };

    const storageProbe = deps.readiness ?? (async () => void (await storage.currentRevision()));
    const etcd = namedCheck('etcd', storageProbe);
    const checks: HealthChecks = {
      livez: [pingCheck, logCheck, etcd],
      healthz: [pingCheck, logCheck, etcd],
      readyz: [
        pingCheck,
        logCheck,
        etcd,
        ...(buildHandler ? [handlerCheck] : []),
        ...(deps.readyChecks ?? []),
        shutdownCheck(() => lifecycle.shuttingDown),
      ],
    };
    // The token (as given, its password, or the full token) is also a bearer token with the admin's power, as before.
    const tokens = new Set([joinToken.password, joinToken.token, ...(config.token ? [config.token] : [])]);
    // Service account JWTs, signed with <data-dir>/server/tls/service.key.
    const serviceAccountTokens = new ServiceAccountTokens(await ensureServiceAccountKey(pki.dir));
    const serviceAccountAuthenticator = new ServiceAccountTokenAuthenticator(serviceAccountTokens);
    const inProcess = new InProcessAuthenticator();
    const authenticators = [
      inProcess,
      ...(deps.authenticators ?? [
        new X509Authenticator(),
        new TokenAuthenticator(new Map([...tokens].map((t) => [t, SERVER_TOKEN_USER]))),
        serviceAccountAuthenticator,
      ]),
    ];
    const nodeGraph = new NodeGraph();
    // --authorization-mode (default Node,RBAC) behind k3s's join and tunnel paths, which k3s serves outside the API
    // server's authorization (the tunnel's handler admits only nodes, each to its own tunnel).
    const modes = parseApiServerArgs(config.kubeApiserverArgs ?? []).authorizationMode ?? DEFAULT_AUTHORIZATION_MODE;
    const tunnelPath: Authorizer = {
      authorize: (a) => (!a.isResourceRequest && a.path === CONNECT_PATH && nodeIdentity(a.user) !== undefined ? { decision: 'allow' } : { decision: 'no-opinion' }),
    };
    const rbac = authorizerChain(modes, nodeGraph, [new JoinPathAuthorizer(), tunnelPath]);
    const authorizer = deps.authorizer ?? rbac.authorizer;
    const joinPaths = joinRoute({
      ca: pki.ca,
      password: joinToken.password,
      apiServerSans: servingSans({ serviceCidr: config.serviceCidr, advertiseAddress: config.advertiseAddress, bindAddress: config.bindAddress }),
      nodePasswords: new NodePasswords(join(config.dataDir, 'server', 'cred', 'node-passwd')),
      ...(deps.clusterSigningDurationMs ? { signingDurationMs: deps.clusterSigningDurationMs } : {}),
    });
    const pipeline = buildPipeline({
      filters: [
        authenticationFilter(authenticators, (p) => isPublicInfoPath(p) || isJoinPath(p), log),
        impersonationFilter(authorizer),
        authorizationFilter(authorizer),
      ],
      routes: [healthRoute(checks, log), versionRoute, metricsRoute, joinPaths],
      apiHandler: (req, res, user) => (handlerInstalled ? apiHandler : startingHandler)(req, res, user),
      upgradeHandler: deps.upgradeHandler,
      log,
      lifecycle,
    });

    const server = createServer(
      {
        key: pki.serving.keyPem,
        cert: pki.serving.certPem,
        ca: pki.ca.certPem,
        requestCert: true,
        // Clients without a certificate may still use a token or reach the public paths.
        rejectUnauthorized: false,
        minVersion: 'TLSv1.2',
      },
      pipeline.onRequest,
    );
    // Go clients keep idle connections for 90 s; closing them sooner races with requests sent on them.
    server.keepAliveTimeout = 90_000;
    server.on('upgrade', pipeline.onUpgrade);
    server.on('tlsClientError', (err) => log.debug('TLS handshake failed', { err }));

    // Bound before the handler is built, so a busy port fails fast and the handler knows the real port.
    const port = await listen(server, config.httpsListenPort, config.bindAddress);
    const url = `https://${localHost(config.bindAddress)}:${port}`;
    if (buildHandler) {
      try {
        apiHandler = await buildHandler({ config, storage, lifecycle, log, pki, port, url, serviceAccountTokens, serviceAccountAuthenticator, nodeGraph, rbac });
        handlerInstalled = true;
      } catch (e) {
        server.close();
        server.closeAllConnections();
        throw e;
      }
    }
    await writeKubeconfig(
      config.writeKubeconfig,
      { server: url, caPem: pki.ca.certPem, clientCertPem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem },
      config.writeKubeconfigMode,
    );
    log.info('wrote kubeconfig', { path: config.writeKubeconfig });

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        log.info('shutting down');
        lifecycle.beginShutdown();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const graceMs = deps.shutdownTimeoutMs ?? 10_000;
        if ((await within(pipeline.idle(), graceMs)) === 'timeout') {
          log.warn('requests still in flight at shutdown deadline; closing their connections', { inFlight: pipeline.inFlight });
        }
        // Responses written during the drain carried "Connection: close"; anything left is idle or overdue.
        server.closeAllConnections();
        await closed;
        await lifecycle.runHooks(log);
        // An unreachable etcd must not keep the process from exiting.
        const storageClosed = storage.close().catch((err: unknown) => log.error('closing storage failed', { err }));
        if ((await within(storageClosed, 5000)) === 'timeout') log.warn('storage did not close in time');
        log.info('shutdown complete');
      })();
      return stopping;
    };

    log.info('skiff is ready', { url, kubeconfig: config.writeKubeconfig, startupMs: Math.round(performance.now() - startedAt) });
    const inProcessHandler = (user: UserInfo) => (req: IncomingMessage, res: ServerResponse) => {
      inProcess.handle(req, user);
      pipeline.onRequest(req, res);
    };
    return { url, port, kubeconfigPath: config.writeKubeconfig, storage, lifecycle, pki, inProcessHandler, stop };
  } catch (e) {
    await storage.close().catch(() => undefined);
    throw e;
  }
}

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest, Agent } from 'node:https';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessTransport } from '../client/in-process.js';
import { openMemoryStorage } from '../storage/memory/memory.js';
import { createCA, issueClientCert } from './pki/issue.js';
import { requestInfoOf } from './request-info.js';
import { ShutdownHooks, createLogger, startServer, type ApiHandler, type RunningServer, type ServerConfig, type ServerDeps } from './server.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

interface Creds {
  cert?: string;
  key?: string;
  token?: string;
}

function call(srv: RunningServer, path: string, creds: Creds = {}, opts: { method?: string; agent?: Agent } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, srv.url);
    const req = httpsRequest(
      url,
      {
        method: opts.method ?? 'GET',
        ca: srv.pki.ca.certPem,
        cert: creds.cert,
        key: creds.key,
        agent: opts.agent ?? false,
        headers: creds.token ? { Authorization: `Bearer ${creds.token}` } : {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function baseConfig(dataDir: string, extra: Partial<ServerConfig> = {}): ServerConfig {
  return {
    dataDir,
    bindAddress: '127.0.0.1',
    httpsListenPort: 0,
    writeKubeconfig: join(dataDir, 'kubeconfig.yaml'),
    writeKubeconfigMode: 0o600,
    datastoreEndpoint: 'memory://',
    disableAgent: true,
    clusterCidr: '198.18.0.0/16',
    serviceCidr: '198.19.0.0/16',
    disableControllers: [],
    logLevel: 'error',
    ...extra,
  };
}

const silent = createLogger('error', () => undefined);

/** Echoes who the pipeline says the user is and what the request is about. */
const echoHandler: ApiHandler = async (req, res, user) => {
  const info = requestInfoOf(req);
  const body = JSON.stringify({ user, verb: info.verb, resource: info.resource, namespace: info.namespace });
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(body);
};

async function withServer(deps: ServerDeps, extra: Partial<ServerConfig>, fn: (srv: RunningServer) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-server-'));
  const srv = await startServer(baseConfig(dir, extra), { storage: openMemoryStorage(), logger: silent, ...deps });
  try {
    await fn(srv);
  } finally {
    await srv.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('pipeline with the default authenticators and authorizer', () => {
  let dir: string;
  let srv: RunningServer;
  let admin: Creds;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-server-'));
    srv = await startServer(baseConfig(dir, { token: 's3cret' }), { storage: openMemoryStorage(), logger: silent, apiHandler: echoHandler });
    admin = { cert: srv.pki.admin.certPem, key: srv.pki.admin.keyPem };
  });
  after(async () => {
    await srv.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('health endpoints answer anonymous clients in upstream format', async () => {
    assert.deepEqual(
      [await call(srv, '/livez'), await call(srv, '/readyz'), await call(srv, '/healthz')].map((r) => [r.status, r.body]),
      [
        [200, 'ok'],
        [200, 'ok'],
        [200, 'ok'],
      ],
    );
    const verbose = await call(srv, '/livez?verbose');
    assert.equal(verbose.body, '[+]ping ok\n[+]log ok\n[+]etcd ok\nlivez check passed\n');
    assert.equal(verbose.headers['content-type'], 'text/plain; charset=utf-8');
    const ready = await call(srv, '/readyz?verbose&exclude=etcd&exclude=nothing');
    assert.equal(
      ready.body,
      '[+]ping ok\n[+]log ok\n[+]etcd excluded: ok\n[+]shutdown ok\nwarn: some health checks cannot be excluded: no matches for "nothing"\nreadyz check passed\n',
    );
    assert.deepEqual([(await call(srv, '/livez/ping')).body, (await call(srv, '/readyz/shutdown')).body], ['ok', 'ok']);
    const missing = await call(srv, '/livez/nope');
    assert.equal(missing.status, 404);
    assert.equal(JSON.parse(missing.body).reason, 'NotFound');
  });

  test('/version is public and reports Kubernetes 1.31', async () => {
    const r = await call(srv, '/version');
    assert.equal(r.status, 200);
    const v = JSON.parse(r.body);
    assert.equal(v.major, '1');
    assert.equal(v.minor, '31');
    assert.equal(v.gitVersion, 'v1.31.0+skiff');
    for (const k of ['gitCommit', 'gitTreeState', 'buildDate', 'goVersion', 'compiler', 'platform']) assert.equal(typeof v[k], 'string', k);
  });

  test('anonymous API requests get a 401 Status', async () => {
    const r = await call(srv, '/api/v1/namespaces/default/pods');
    assert.equal(r.status, 401);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(r.body), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
    assert.equal((await call(srv, '/metrics')).status, 401);
  });

  test('the admin client certificate authenticates as system:admin with its groups', async () => {
    const r = await call(srv, '/api/v1/namespaces/default/pods', admin);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), {
      user: { name: 'system:admin', groups: ['system:masters', 'system:authenticated'] },
      verb: 'list',
      resource: 'pods',
      namespace: 'default',
    });
  });

  test('in-process requests are authenticated as the given user, without a socket, and pass the same filters', async () => {
    // In-process components act as system:masters, as upstream's loopback client (RBAC has no objects here).
    const transport = new InProcessTransport(srv.inProcessHandler({ name: 'system:kube-scheduler', groups: ['system:masters'] }));
    try {
      const r = await transport.request({ method: 'GET', path: '/api/v1/namespaces/default/pods' });
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body), {
        user: { name: 'system:kube-scheduler', groups: ['system:masters', 'system:authenticated'] },
        verb: 'list',
        resource: 'pods',
        namespace: 'default',
      });
      // Built-in paths are routes of the same pipeline.
      assert.equal((await transport.request({ method: 'GET', path: '/readyz' })).body, 'ok');
      // Over HTTPS the same request without credentials is still refused: only in-process requests carry the user.
      assert.equal((await call(srv, '/api/v1/namespaces/default/pods')).status, 401);
    } finally {
      transport.close();
    }
  });

  test('a bearer token authenticates; a wrong one is refused even on public paths', async () => {
    const ok = await call(srv, '/api/v1/nodes', { token: 's3cret' });
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body).user.name, 'skiff:server-token');
    assert.equal((await call(srv, '/api/v1/nodes', { token: 'wrong' })).status, 401);
    assert.equal((await call(srv, '/livez', { token: 'wrong' })).status, 401);
  });

  test('a certificate from another CA is refused', async () => {
    const otherCa = await createCA('other-ca');
    const stranger = await issueClientCert(otherCa, 'system:admin', ['system:masters']);
    const r = await call(srv, '/api/v1/nodes', { cert: stranger.certPem, key: stranger.keyPem });
    assert.equal(r.status, 401);
  });

  test('/metrics counts requests by verb, resource, scope and code', async () => {
    await call(srv, '/api/v1/namespaces/default/configmaps', admin);
    const r = await call(srv, '/metrics', admin);
    assert.equal(r.status, 200);
    assert.match(r.body, /apiserver_request_total\{verb="LIST",group="",version="v1",resource="configmaps",subresource="",scope="namespace",code="200"\} 1/);
    assert.match(r.body, /apiserver_request_total\{verb="LIST",group="",version="v1",resource="pods",subresource="",scope="namespace",code="401"\} \d+/);
    assert.match(r.body, /apiserver_request_duration_seconds_bucket\{le="0.005",verb="LIST"/);
  });

  test('the kubeconfig points at the listening port', async () => {
    const text = await readFile(srv.kubeconfigPath, 'utf8');
    assert.match(text, new RegExp(`server: https://127\\.0\\.0\\.1:${srv.port}\\n`));
  });
});

describe('pipeline edge cases', () => {
  test('until an API handler is plugged in, API paths answer 404 Status', async () => {
    await withServer({}, {}, async (srv) => {
      const r = await call(srv, '/api', { cert: srv.pki.admin.certPem, key: srv.pki.admin.keyPem });
      assert.equal(r.status, 404);
      assert.equal(JSON.parse(r.body).message, 'the server could not find the requested resource');
    });
  });

  test('a failing storage probe fails readyz with reasons withheld', async () => {
    const readiness = async () => {
      throw new Error('database is locked');
    };
    await withServer({ readiness }, {}, async (srv) => {
      const r = await call(srv, '/readyz');
      assert.equal(r.status, 500);
      assert.equal(r.body, '[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\n[+]shutdown ok\nreadyz check failed\n');
      const one = await call(srv, '/livez/etcd');
      assert.equal(one.status, 500);
      assert.equal(one.body, 'internal server error: database is locked\n');
    });
  });

  test('denied requests get upstream 403 messages', async () => {
    const authorizer = { authorize: () => ({ decision: 'no-opinion' as const }) };
    await withServer({ authorizer, apiHandler: echoHandler }, {}, async (srv) => {
      const creds = { cert: srv.pki.admin.certPem, key: srv.pki.admin.keyPem };
      const res = JSON.parse((await call(srv, '/apis/apps/v1/namespaces/ns1/deployments/web/scale', creds)).body);
      assert.equal(res.code, 403);
      assert.equal(
        res.message,
        'deployments.apps "web" is forbidden: User "system:admin" cannot get resource "deployments/scale" in API group "apps" in the namespace "ns1"',
      );
      assert.deepEqual(res.details, { name: 'web', group: 'apps', kind: 'deployments' });
      const cluster = JSON.parse((await call(srv, '/api/v1/nodes', creds)).body);
      assert.equal(cluster.message, 'nodes is forbidden: User "system:admin" cannot list resource "nodes" in API group "" at the cluster scope');
      const path = JSON.parse((await call(srv, '/metrics', creds)).body);
      assert.equal(path.message, 'forbidden: User "system:admin" cannot get path "/metrics"');
    });
  });

  test('in-process requests are authorized like any other', async () => {
    const authorizer = { authorize: () => ({ decision: 'no-opinion' as const }) };
    await withServer({ authorizer, apiHandler: echoHandler }, {}, async (srv) => {
      const transport = new InProcessTransport(srv.inProcessHandler({ name: 'system:kube-controller-manager', groups: [] }));
      const r = await transport.request({ method: 'GET', path: '/api/v1/nodes' });
      transport.close();
      assert.equal(r.status, 403);
      assert.equal(
        JSON.parse(r.body).message,
        'nodes is forbidden: User "system:kube-controller-manager" cannot list resource "nodes" in API group "" at the cluster scope',
      );
    });
  });

  test('createApiHandler runs after binding: it sees the real port, and readyz waits for it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skiff-server-'));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let seenPort = -1;
    let bound!: (port: number) => void;
    const boundPort = new Promise<number>((r) => (bound = r));
    const starting = startServer(baseConfig(dir), {
      storage: openMemoryStorage(),
      logger: silent,
      createApiHandler: async (ctx) => {
        seenPort = ctx.port;
        bound(ctx.port);
        await gate;
        return echoHandler;
      },
    });
    const port = await boundPort;
    assert.ok(port > 0);
    const early = await new Promise<Reply>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/readyz?verbose', rejectUnauthorized: false, agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(early.status, 500);
    assert.match(early.body, /\[-\]api-handler failed: reason withheld\n/);
    release();
    const srv = await starting;
    try {
      assert.equal(seenPort, srv.port);
      assert.equal((await call(srv, '/readyz')).body, 'ok');
      const r = await call(srv, '/api/v1/pods', { cert: srv.pki.admin.certPem, key: srv.pki.admin.keyPem });
      assert.equal(JSON.parse(r.body).verb, 'list');
    } finally {
      await srv.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a busy port is a clear error and leaves nothing open', async () => {
    await withServer({}, {}, async (first) => {
      const dir = await mkdtemp(join(tmpdir(), 'skiff-server-'));
      try {
        await assert.rejects(
          startServer(baseConfig(dir, { httpsListenPort: first.port }), { storage: openMemoryStorage(), logger: silent }),
          new RegExp(`^Error: listen tcp 127\\.0\\.0\\.1:${first.port}: bind: address already in use$`),
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  test('a handler crash becomes a 500 InternalError Status', async () => {
    const apiHandler: ApiHandler = async () => {
      throw new Error('boom');
    };
    await withServer({ apiHandler }, {}, async (srv) => {
      const r = await call(srv, '/api/v1/pods', { cert: srv.pki.admin.certPem, key: srv.pki.admin.keyPem });
      assert.equal(r.status, 500);
      const s = JSON.parse(r.body);
      assert.equal(s.reason, 'InternalError');
      assert.equal(s.message, 'Internal error occurred: boom');
    });
  });

  test('shutdown finishes in-flight requests and closes watches through the hooks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skiff-server-'));
    let hookRan = false;
    const apiHandler: ApiHandler = async (req, res) => {
      const info = requestInfoOf(req);
      if (info.verb === 'watch') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write('{"type":"ADDED"}\n');
        const unregister = srv.lifecycle.registerLongRunning(() => res.end());
        res.once('close', unregister);
        return;
      }
      await new Promise((r) => setTimeout(r, 300));
      res.end('slow done');
    };
    const srv: RunningServer = await startServer(baseConfig(dir), { storage: openMemoryStorage(), logger: silent, apiHandler, shutdownTimeoutMs: 5000 });
    srv.lifecycle.onShutdown('test', () => {
      hookRan = true;
    });
    const creds = { cert: srv.pki.admin.certPem, key: srv.pki.admin.keyPem };
    const watch = call(srv, '/api/v1/pods?watch=true', creds);
    const slow = call(srv, '/api/v1/namespaces/a/pods/b', creds);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await srv.stop();
    const took = Date.now() - t0;
    const [w, s] = await Promise.all([watch, slow]);
    assert.equal(w.status, 200);
    assert.equal(w.body, '{"type":"ADDED"}\n');
    assert.equal(s.status, 200);
    assert.equal(s.body, 'slow done');
    assert.equal(hookRan, true);
    assert.ok(took < 2000, `shutdown took ${took}ms`);
    await assert.rejects(call(srv, '/livez'), /ECONNREFUSED/);
    await rm(dir, { recursive: true, force: true });
  });
});

describe('ShutdownHooks', () => {
  test('closes long-running requests at shutdown, and at once when they start afterwards', async () => {
    const hooks = new ShutdownHooks();
    const closed: string[] = [];
    hooks.registerLongRunning(() => closed.push('a'));
    const unregister = hooks.registerLongRunning(() => closed.push('b'));
    unregister();
    hooks.beginShutdown();
    assert.deepEqual(closed, ['a']);
    assert.equal(hooks.shuttingDown, true);
    hooks.registerLongRunning(() => closed.push('late'));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(closed, ['a', 'late']);
  });

  test('runs hooks last-first and does not wait forever for a hung one', async () => {
    const hooks = new ShutdownHooks();
    const order: string[] = [];
    const lines: string[] = [];
    hooks.onShutdown('first', () => void order.push('first'));
    hooks.onShutdown('hung', () => new Promise<void>(() => undefined));
    hooks.onShutdown('failing', () => {
      throw new Error('nope');
    });
    hooks.onShutdown('last', () => void order.push('last'));
    const t0 = Date.now();
    await hooks.runHooks(createLogger('warn', (l) => lines.push(l)), 50);
    assert.ok(Date.now() - t0 < 1000);
    assert.deepEqual(order, ['last', 'first']);
    assert.equal(lines.length, 2);
    assert.match(lines[0], /shutdown hook failed" hook=failing err=nope/);
    assert.match(lines[1], /shutdown hook did not finish in time" hook=hung ms=50/);
  });
});

// The real kubectl against a minimal HTTP server that serves only discovery and OpenAPI from this package:
// `kubectl explain` must render from the v3 documents, and `kubectl apply` must choose server-side validation.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadOpenAPI } from './index.js';
import { createDiscovery } from '../discovery/index.js';

const KUBECTL = '/usr/bin/kubectl';

describe('kubectl against the served documents', () => {
  const api = loadOpenAPI();
  const discovery = createDiscovery();
  const requests: string[] = [];
  const bodies: string[] = [];
  // A live Deployment previously applied with env A on container c, for the three-way merge of `kubectl apply`.
  const applied = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'live', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'live' } },
      template: { metadata: { labels: { app: 'live' } }, spec: { containers: [{ name: 'c', image: 'nginx', env: [{ name: 'A', value: '1' }] }, { name: 'd', image: 'busybox' }] } },
    },
  };
  const live = structuredClone(applied) as typeof applied & { metadata: { annotations?: Record<string, string> } };
  live.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(applied) };
  let server: Server;
  let base = '';
  const dir = mkdtempSync(join(tmpdir(), 'skiff-openapi-'));

  before(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      requests.push(`${req.method} ${url.pathname}${url.search}`);
      const json = (code: number, body: unknown) => {
        res.writeHead(code, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (url.pathname === '/version') return json(200, { major: '1', minor: '31', gitVersion: 'v1.31.0', platform: 'linux/amd64' });
      if (url.pathname.startsWith('/openapi/')) {
        const a =
          url.pathname === '/openapi/v2'
            ? api.respondV2({ accept: req.headers.accept })
            : api.respondV3(url.pathname, url.searchParams, { accept: req.headers.accept, ifNoneMatch: req.headers['if-none-match'] });
        if (!a) return json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
        res.writeHead(a.status, a.headers);
        return res.end(a.body);
      }
      const d = discovery.discovery(url.pathname, req.headers.accept);
      if (d) {
        res.writeHead(200, { 'Content-Type': d.contentType });
        return res.end(d.body);
      }
      if (req.method === 'GET' && url.pathname === '/apis/apps/v1/namespaces/default/deployments/live') return json(200, live);
      if (req.method === 'POST' || req.method === 'PATCH') {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          bodies.push(body);
          if (req.method === 'POST') json(201, JSON.parse(body));
          else json(200, live);
        });
        return;
      }
      json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const kubectl = (...args: string[]) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      const env = { ...process.env, KUBECONFIG: join(dir, 'none'), HOME: dir };
      execFile(KUBECTL, [`--server=${base}`, `--cache-dir=${join(dir, 'cache')}`, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      );
    });

  test('kubectl explain renders fields, types and descriptions', async () => {
    const r = await kubectl('explain', 'deployment.spec.strategy.rollingUpdate');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /GROUP:\s+apps/);
    assert.match(r.out, /FIELD: rollingUpdate <RollingUpdateDeployment>/);
    assert.match(r.out, /maxSurge\s+<IntOrString>/);
    const limits = await kubectl('explain', 'pods.spec.containers.resources.limits');
    assert.equal(limits.code, 0, limits.out);
    assert.match(limits.out, /FIELD: limits <map\[string\]Quantity>/);
  });

  test('kubectl apply validates on the server (fieldValidation=Strict) without /openapi/v2', async () => {
    const manifest = join(dir, 'deploy.yaml');
    writeFileSync(
      manifest,
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\n' +
        'spec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n' +
        '    spec: {containers: [{name: c, image: nginx}]}\n',
    );
    requests.length = 0;
    const r = await kubectl('apply', '-f', manifest);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /deployment.apps\/web created/);
    assert.ok(requests.some((q) => q.startsWith('POST /apis/apps/v1/namespaces/default/deployments?') && q.includes('fieldValidation=Strict')), requests.join('\n'));
    assert.equal(requests.some((q) => q.startsWith('GET /openapi/v2')), false);
  });

  test('kubectl apply computes its strategic merge patch from the served patch metadata', async () => {
    const manifest = join(dir, 'live.yaml');
    writeFileSync(
      manifest,
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: live, namespace: default}\n' +
        'spec:\n  selector: {matchLabels: {app: live}}\n  template:\n    metadata: {labels: {app: live}}\n' +
        '    spec: {containers: [{name: c, image: nginx, env: [{name: B, value: "2"}]}, {name: d, image: busybox}]}\n',
    );
    bodies.length = 0;
    requests.length = 0;
    const r = await kubectl('apply', '-f', manifest);
    assert.equal(r.code, 0, r.out);
    assert.ok(requests.some((q) => q.startsWith('PATCH /apis/apps/v1/namespaces/default/deployments/live?')), requests.join('\n'));
    const patch = JSON.parse(bodies.at(-1) ?? '{}') as { spec: { template: { spec: Record<string, unknown> } } };
    const podSpec = patch.spec.template.spec;
    // Merge keys from the document: containers by name, env by name with a $patch: delete for the dropped entry.
    assert.deepEqual(podSpec['$setElementOrder/containers'], [{ name: 'c' }, { name: 'd' }]);
    const containers = podSpec.containers as { name: string; env: unknown[] }[];
    assert.deepEqual(containers[0].env, [{ name: 'B', value: '2' }, { $patch: 'delete', name: 'A' }]);
  });
});

// RBAC through the real kubectl (authorization-mode Node,RBAC, skiff's default): a user with a RoleBinding in one
// namespace lists pods there and gets upstream's Forbidden message elsewhere; `kubectl auth can-i` and `--list`; a
// service account token is forbidden until bound; a user cannot bind cluster-admin or grant rules it does not hold
// without `bind`/`escalate`; ClusterRole aggregation. One server (no node agent) serves every case.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually, kubeconfigCredentials, startTestServer, type TestServer } from './harness.js';
import { loadCertAndKey } from '../../src/apiserver/pki/crypto.js';
import { issueClientCert } from '../../src/apiserver/pki/issue.js';

let server: TestServer;
let caFile: string;
/** kubeconfig path per user. */
const users = new Map<string, string>();

async function kubeconfigFor(name: string, groups: string[]): Promise<string> {
  const tls = join(server.dataDir, 'server', 'tls');
  const ca = await loadCertAndKey(await readFile(join(tls, 'ca.crt'), 'utf8'), await readFile(join(tls, 'ca.key'), 'utf8'));
  const pair = await issueClientCert(ca, name, groups);
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const path = join(server.dataDir, `e2e-${name}.kubeconfig`);
  await writeFile(
    path,
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${server.url}", certificate-authority-data: ${b64(ca.certPem)}}}]
users: [{name: u, user: {client-certificate-data: ${b64(pair.certPem)}, client-key-data: ${b64(pair.keyPem)}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
  );
  return path;
}

const as = (user: string, args: string[], stdin?: string) => server.kubectl(args, { kubeconfig: users.get(user)!, ...(stdin ? { stdin } : {}) });
const asToken = (token: string, args: string[]) => server.kubectl(['--server', server.url, '--certificate-authority', caFile, '--token', token, ...args], { kubeconfig: '/dev/null' });
async function admin(args: string[], stdin?: string): Promise<string> {
  const r = await server.kubectl(args, stdin ? { stdin } : {});
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  server = await startTestServer();
  caFile = join(server.dataDir, 'e2e-ca.crt');
  await writeFile(caFile, (await kubeconfigCredentials(server.kubeconfig)).ca);
  users.set('alice', await kubeconfigFor('alice', ['devs']));
  users.set('mallory', await kubeconfigFor('mallory', []));
  await admin(['create', 'namespace', 'team']);
});

after(async () => {
  await server?.stop();
});

test('a RoleBinding in one namespace: pods listed there, upstream\'s Forbidden elsewhere; can-i and --list', async () => {
  const before = await as('alice', ['-n', 'team', 'get', 'pods']);
  assert.notEqual(before.code, 0);
  assert.match(before.stderr, /Error from server \(Forbidden\): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "team"/);
  await admin(['-n', 'team', 'create', 'rolebinding', 'alice-view', '--clusterrole=view', '--user=alice']);
  const listed = await eventually('alice lists pods in team', async () => {
    const r = await as('alice', ['-n', 'team', 'get', 'pods']);
    return r.code === 0 ? r : undefined;
  });
  assert.match(listed.stderr + listed.stdout, /No resources found in team namespace/);
  const elsewhere = await as('alice', ['-n', 'default', 'get', 'pods']);
  assert.notEqual(elsewhere.code, 0);
  assert.equal(elsewhere.stderr.trim(), 'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"');
  const cluster = await as('alice', ['get', 'nodes']);
  assert.match(cluster.stderr, /nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope/);
  // Discovery and whoami work for every authenticated user (system:discovery, system:basic-user).
  assert.equal((await as('alice', ['auth', 'whoami'])).code, 0);
  assert.equal((await as('alice', ['api-resources', '--api-group=apps', '-o', 'name'])).code, 0);

  const yes = await as('alice', ['auth', 'can-i', 'list', 'pods', '-n', 'team']);
  assert.equal(yes.stdout.trim(), 'yes');
  const no = await as('alice', ['auth', 'can-i', 'create', 'pods', '-n', 'team']);
  assert.equal(no.stdout.trim(), 'no');
  assert.notEqual(no.code, 0);
  assert.equal((await as('alice', ['auth', 'can-i', 'get', 'pods/log', '-n', 'team'])).stdout.trim(), 'yes');
  assert.equal((await as('alice', ['auth', 'can-i', 'get', 'secrets', '-n', 'team'])).stdout.trim(), 'no');
  assert.equal((await as('alice', ['auth', 'can-i', 'get', '/healthz'])).stdout.trim(), 'yes');
  // The admin (system:masters) may do anything; SubjectAccessReview asks for another user.
  assert.equal((await server.kubectl(['auth', 'can-i', '*', '*'])).stdout.trim(), 'yes');
  const sar = JSON.parse(
    await admin(['create', '--raw', '/apis/authorization.k8s.io/v1/subjectaccessreviews', '-f', '-'], JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: 'alice', resourceAttributes: { namespace: 'team', verb: 'watch', resource: 'pods' } } })),
  ) as { status: { allowed: boolean; reason: string } };
  assert.deepEqual(sar.status, { allowed: true, reason: 'RBAC: allowed by RoleBinding "alice-view/team" of ClusterRole "view" to User "alice"' });

  const list = await as('alice', ['auth', 'can-i', '--list', '-n', 'team']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
  assert.match(list.stdout, /selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/);
  assert.match(list.stdout, /\[\/healthz\]\s+\[\]\s+\[get\]/);
  assert.doesNotMatch(list.stdout, /^secrets\s/m);
});

test('a service account token is forbidden until bound', async () => {
  await admin(['-n', 'team', 'create', 'serviceaccount', 'robot']);
  const token = (await admin(['-n', 'team', 'create', 'token', 'robot'])).trim();
  const denied = await asToken(token, ['-n', 'team', 'get', 'configmaps']);
  assert.match(denied.stderr, /configmaps is forbidden: User "system:serviceaccount:team:robot" cannot list resource "configmaps" in API group "" in the namespace "team"/);
  // What every service account may read: the issuer discovery document.
  assert.equal((await asToken(token, ['get', '--raw', '/.well-known/openid-configuration'])).code, 0);
  assert.match((await as('alice', ['get', '--raw', '/.well-known/openid-configuration'])).stderr, /forbidden: User "alice" cannot get path "\/.well-known\/openid-configuration"/);
  await admin(['-n', 'team', 'create', 'rolebinding', 'robot-edit', '--clusterrole=edit', '--serviceaccount=team:robot']);
  await eventually('the bound token lists configmaps', async () => (await asToken(token, ['-n', 'team', 'get', 'configmaps', '-o', 'name'])).code === 0);
  assert.equal((await asToken(token, ['-n', 'team', 'create', 'configmap', 'made-by-robot'])).code, 0);
  assert.match((await asToken(token, ['-n', 'default', 'get', 'configmaps'])).stderr, /Forbidden/);
});

test('no escalation: binding cluster-admin or granting rules not held needs bind/escalate', async () => {
  await admin(['create', 'clusterrole', 'rbac-writer', '--verb=create,get,list', '--resource=clusterroles,clusterrolebindings,roles,rolebindings']);
  await admin(['create', 'clusterrolebinding', 'mallory-rbac-writer', '--clusterrole=rbac-writer', '--user=mallory']);
  const bind = await eventually('mallory may create bindings', async () => {
    const r = await as('mallory', ['create', 'clusterrolebinding', 'mallory-admin', '--clusterrole=cluster-admin', '--user=mallory']);
    return /cannot create resource/.test(r.stderr) ? undefined : r;
  });
  assert.notEqual(bind.code, 0);
  assert.match(
    bind.stderr,
    /clusterrolebindings\.rbac\.authorization\.k8s\.io "mallory-admin" is forbidden: user "mallory" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}\n\{NonResourceURLs:\["\*"\], Verbs:\["\*"\]\}/,
  );
  // A role with rules mallory does not hold.
  const role = await as('mallory', ['create', 'clusterrole', 'secret-reader', '--verb=get', '--resource=secrets']);
  assert.match(role.stderr, /clusterroles\.rbac\.authorization\.k8s\.io "secret-reader" is forbidden: user "mallory" .* is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["secrets"\], Verbs:\["get"\]\}/);
  // Rules mallory holds: allowed.
  assert.equal((await as('mallory', ['create', 'clusterrole', 'rbac-lister', '--verb=list', '--resource=roles'])).code, 0);
  // With escalate on clusterroles and bind on cluster-admin, both go through.
  await admin(['create', 'clusterrole', 'escalator', '--verb=escalate', '--resource=clusterroles']);
  await admin(['create', 'clusterrole', 'admin-binder', '--verb=bind', '--resource=clusterroles', '--resource-name=cluster-admin']);
  await admin(['create', 'clusterrolebinding', 'mallory-escalator', '--clusterrole=escalator', '--user=mallory']);
  await admin(['create', 'clusterrolebinding', 'mallory-binder', '--clusterrole=admin-binder', '--user=mallory']);
  await eventually('escalate lets mallory create the role', async () => (await as('mallory', ['create', 'clusterrole', 'secret-reader', '--verb=get', '--resource=secrets'])).code === 0);
  await eventually('bind lets mallory bind cluster-admin', async () => (await as('mallory', ['create', 'clusterrolebinding', 'mallory-admin', '--clusterrole=cluster-admin', '--user=mallory'])).code === 0);
  await eventually('mallory is now cluster-admin', async () => (await as('mallory', ['get', 'secrets', '-A'])).code === 0);
});

test('aggregation: a role labelled aggregate-to-view lands in view, and so with whoever holds view', async () => {
  const view = JSON.parse(await admin(['get', 'clusterrole', 'view', '-o', 'json'])) as { rules: { resources?: string[] }[] };
  assert.ok(view.rules.some((r) => r.resources?.includes('pods')), 'view holds the system:aggregate-to-view rules');
  assert.ok(view.rules.every((r) => !r.resources?.includes('secrets')), 'view never reads secrets');
  await admin(['create', '-f', '-'], JSON.stringify({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'leases-view', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
    rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list'] }],
  }));
  await eventually('view aggregates leases', async () => /leases/.test(await admin(['get', 'clusterrole', 'view', '-o', 'json'])));
  await eventually('edit (which aggregates view) too', async () => /leases/.test(await admin(['get', 'clusterrole', 'edit', '-o', 'jsonpath={.rules}'])));
  await eventually('alice (view in team) may list leases there', async () => (await as('alice', ['auth', 'can-i', 'list', 'leases.coordination.k8s.io', '-n', 'team'])).stdout.trim() === 'yes');
  await admin(['delete', 'clusterrole', 'leases-view']);
  await eventually('gone from view again', async () => !/"leases"/.test(await admin(['get', 'clusterrole', 'view', '-o', 'json'])));
});

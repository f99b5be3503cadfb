// RBAC through the real kubectl (authorization-mode Node,RBAC, skiff's default): a user with a RoleBinding in one
// namespace lists pods there and gets upstream's Forbidden message elsewhere; `kubectl auth can-i` and `--list`; a
// service account token is forbidden until bound; a user cannot bind cluster-admin or grant rules it does not hold
// without `bind`/`escalate`; ClusterRole aggregation; impersonation (`--as`, `--as-group`, service accounts); the
// bootstrap policy reconciled at a restart. One server (no node agent) serves every case.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
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
  // A binding to a role that does not exist: the role's NotFound, as upstream.
  const ghost = await as('mallory', ['create', 'clusterrolebinding', 'mallory-ghost', '--clusterrole=ghost', '--user=mallory']);
  assert.equal(ghost.stderr.trim(), 'error: failed to create clusterrolebinding: clusterrole.rbac.authorization.k8s.io "ghost" not found');
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

test('impersonation: --as, --as-group and service accounts need impersonate; the impersonated user is authorized', async () => {
  users.set('eve', await kubeconfigFor('eve', []));
  await admin(['create', 'namespace', 'imp']);
  // The admin (system:masters) may impersonate anyone; jane herself may do nothing yet.
  const denied = await server.kubectl(['--as=jane', '-n', 'imp', 'get', 'pods']);
  assert.notEqual(denied.code, 0);
  assert.equal(denied.stderr.trim(), 'Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "imp"');
  assert.equal((await server.kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'imp', '--as=jane'])).stdout.trim(), 'no');
  await admin(['-n', 'imp', 'create', 'rolebinding', 'jane-view', '--clusterrole=view', '--user=jane']);
  await eventually('jane (impersonated) lists pods', async () => (await server.kubectl(['--as=jane', '-n', 'imp', 'get', 'pods'])).code === 0);
  assert.equal((await server.kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'imp', '--as=jane'])).stdout.trim(), 'yes');
  assert.equal((await server.kubectl(['auth', 'can-i', 'create', 'pods', '-n', 'imp', '--as=jane'])).stdout.trim(), 'no');
  const whoami = JSON.parse(await admin(['auth', 'whoami', '-o', 'json', '--as=jane', '--as-group=auditors', '--as-uid=u-7'])) as { status: { userInfo: unknown } };
  assert.deepEqual(whoami.status.userInfo, { username: 'jane', uid: 'u-7', groups: ['auditors', 'system:authenticated'] });

  // --as-group: a binding to the group decides.
  await admin(['-n', 'imp', 'create', 'rolebinding', 'auditors-edit', '--clusterrole=edit', '--group=auditors']);
  await eventually('a member of auditors creates configmaps', async () => (await server.kubectl(['--as=nobody', '--as-group=auditors', '-n', 'imp', 'create', 'configmap', 'by-auditor'])).code === 0);
  assert.match((await server.kubectl(['--as=nobody', '-n', 'imp', 'create', 'configmap', 'by-nobody'])).stderr, /User "nobody" cannot create resource "configmaps"/);

  // A service account: its groups and bindings.
  await admin(['-n', 'imp', 'create', 'serviceaccount', 'bot']);
  const saWho = JSON.parse(await admin(['auth', 'whoami', '-o', 'json', '--as=system:serviceaccount:imp:bot'])) as { status: { userInfo: { username: string; groups: string[] } } };
  assert.deepEqual(saWho.status.userInfo, { username: 'system:serviceaccount:imp:bot', groups: ['system:serviceaccounts', 'system:serviceaccounts:imp', 'system:authenticated'] });
  assert.match((await server.kubectl(['--as=system:serviceaccount:imp:bot', '-n', 'imp', 'get', 'configmaps'])).stderr, /User "system:serviceaccount:imp:bot" cannot list resource "configmaps"/);
  await admin(['-n', 'imp', 'create', 'rolebinding', 'bot-view', '--clusterrole=view', '--serviceaccount=imp:bot']);
  await eventually('the service account lists configmaps', async () => (await server.kubectl(['--as=system:serviceaccount:imp:bot', '-n', 'imp', 'get', 'configmaps'])).code === 0);

  // A user without impersonate is refused with upstream's message, whatever it asks to be.
  const refused = await as('eve', ['--as=jane', '-n', 'imp', 'get', 'pods']);
  assert.equal(refused.stderr.trim(), 'Error from server (Forbidden): users "jane" is forbidden: User "eve" cannot impersonate resource "users" in API group "" at the cluster scope');
  assert.equal(
    (await as('eve', ['--as=system:serviceaccount:imp:bot', '-n', 'imp', 'get', 'pods'])).stderr.trim(),
    'Error from server (Forbidden): serviceaccounts "bot" is forbidden: User "eve" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "imp"',
  );
  // edit grants impersonating the namespace's service accounts (upstream's aggregate-to-edit), and nothing more.
  await admin(['-n', 'imp', 'create', 'rolebinding', 'eve-edit', '--clusterrole=edit', '--user=eve']);
  await eventually('eve acts as the service account', async () => (await as('eve', ['--as=system:serviceaccount:imp:bot', '-n', 'imp', 'get', 'configmaps'])).code === 0);
  assert.match((await as('eve', ['--as=jane', '-n', 'imp', 'get', 'pods'])).stderr, /users "jane" is forbidden: User "eve" cannot impersonate/);
  // Impersonating a named user only: resourceNames restrict it, groups are asked for separately.
  await admin(['create', 'clusterrole', 'impersonate-jane', '--verb=impersonate', '--resource=users', '--resource-name=jane']);
  await admin(['create', 'clusterrolebinding', 'eve-impersonates-jane', '--clusterrole=impersonate-jane', '--user=eve']);
  await eventually('eve acts as jane', async () => (await as('eve', ['--as=jane', '-n', 'imp', 'get', 'pods'])).code === 0);
  assert.match((await as('eve', ['--as=john', '-n', 'imp', 'get', 'pods'])).stderr, /users "john" is forbidden/);
  assert.equal(
    (await as('eve', ['--as=jane', '--as-group=system:masters', 'get', 'secrets', '-A'])).stderr.trim(),
    'Error from server (Forbidden): groups "system:masters" is forbidden: User "eve" cannot impersonate resource "groups" in API group "" at the cluster scope',
  );

  // A node's rules cannot all be listed (the Node authorizer decides from a graph): kubectl says so.
  const nodeList = await server.kubectl(['auth', 'can-i', '--list', '--as=system:node:n1', '--as-group=system:nodes']);
  assert.equal(nodeList.code, 0, nodeList.stderr);
  assert.match(nodeList.stderr, /Warning: the list may be incomplete: node authorizer does not support user rule resolution/);

  // Groups without a user: 400, as upstream (kubectl refuses to send that, so over HTTPS directly).
  const creds = await kubeconfigCredentials(server.kubeconfig);
  const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const r = httpsRequest(`${server.url}/api/v1/namespaces/imp/pods`, { ca: creds.ca, cert: creds.cert, key: creds.key, headers: { 'Impersonate-Group': 'devs' } }, (m) => {
      let body = '';
      m.on('data', (c: Buffer) => (body += c.toString()));
      m.on('end', () => resolve({ status: m.statusCode ?? 0, body }));
    });
    r.on('error', reject);
    r.end();
  });
  assert.equal(res.status, 400);
  assert.deepEqual(JSON.parse(res.body), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'requested [{Group  devs    }] without impersonating a user', reason: 'BadRequest', code: 400 });
});

test('a restart reconciles the bootstrap policy: lost rules and subjects come back, autoupdate=false is left alone', async () => {
  const rulesOf = async (role: string) => (JSON.parse(await admin(['get', 'clusterrole', role, '-o', 'json'])) as { rules: { resources?: string[]; nonResourceURLs?: string[] }[] }).rules;
  // system:basic-user loses its SelfSubjectAccessReview rule: alice can no longer ask can-i.
  const basic = await rulesOf('system:basic-user');
  const ssar = basic.findIndex((r) => r.resources?.includes('selfsubjectaccessreviews'));
  assert.ok(ssar >= 0);
  await admin(['patch', 'clusterrole', 'system:basic-user', '--type=json', '-p', JSON.stringify([{ op: 'remove', path: `/rules/${ssar}` }])]);
  await eventually('alice may no longer ask can-i', async () => /selfsubjectaccessreviews.* is forbidden/.test((await as('alice', ['auth', 'can-i', 'list', 'pods', '-n', 'team'])).stderr));
  // The binding giving every authenticated user the public info paths loses that group.
  await admin(['patch', 'clusterrolebinding', 'system:public-info-viewer', '--type=json', '-p', JSON.stringify([{ op: 'remove', path: '/subjects/0' }])]);
  // system:discovery is the user's now (autoupdate=false), with one URL left.
  await admin(['annotate', 'clusterrole', 'system:discovery', 'rbac.authorization.kubernetes.io/autoupdate=false', '--overwrite']);
  await admin(['patch', 'clusterrole', 'system:discovery', '--type=merge', '-p', JSON.stringify({ rules: [{ verbs: ['get'], nonResourceURLs: ['/version'] }] })]);

  await server.restart();
  assert.match(server.logs(), /updated bootstrap object.*clusterroles\.rbac\.authorization\.k8s\.io\/system:basic-user/);
  assert.match(server.logs(), /skipped reconcile-protected bootstrap object.*clusterroles\.rbac\.authorization\.k8s\.io\/system:discovery/);
  assert.ok((await rulesOf('system:basic-user')).some((r) => r.resources?.includes('selfsubjectaccessreviews')));
  assert.equal((await as('alice', ['auth', 'can-i', 'list', 'pods', '-n', 'team'])).stdout.trim(), 'yes');
  const viewer = JSON.parse(await admin(['get', 'clusterrolebinding', 'system:public-info-viewer', '-o', 'json'])) as { subjects: { name: string }[] };
  assert.deepEqual(viewer.subjects.map((s) => s.name).sort(), ['system:authenticated', 'system:unauthenticated']);
  assert.deepEqual(await rulesOf('system:discovery'), [{ verbs: ['get'], nonResourceURLs: ['/version'] }]);
});

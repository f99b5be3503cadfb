// Upstream's RBAC cases: rule matching (verbs, groups, resources with "*" and subresources, resource names,
// non-resource URLs with a trailing "*"), subjects, the resolver's reasons, the authorizer's per-subject cache and its
// invalidation, Covers/escalation messages and the bootstrap policy's decisions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import type { AuthorizationAttributes } from '../authorizer.js';
import { forbiddenError } from '../authorizer.js';
import { isApiError } from '../../../machinery/errors.js';
import type { UserInfo } from '../user.js';
import { RbacAuthorizer } from './authorizer.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap-policy.js';
import { authorizerChain } from './chain.js';
import { escalationError, RbacEscalationCheck } from './escalation.js';
import type { RbacObjects } from './resolver.js';
import { appliesToUser, compactRules, compactString, covers, ruleAllows, type RuleRequest } from './rules.js';
import { aggregatedRules } from '../../../controllers/clusterroleaggregation/controller.js';
import type { AdmissionAttributes } from '../../admission/types.js';
import type { KubeObject } from '../../../api/object.js';

const req = (over: Partial<RuleRequest>): RuleRequest => ({ verb: 'get', isResourceRequest: true, apiGroup: '', resource: 'pods', subresource: '', name: '', path: '', ...over });
const rule = (verbs: string[], apiGroups: string[], resources: string[], resourceNames?: string[]): PolicyRule => ({ verbs, apiGroups, resources, ...(resourceNames ? { resourceNames } : {}) });

test('rule matching: verbs, groups, resources, subresources, names', () => {
  const r = rule(['get', 'list'], ['', 'apps'], ['pods', 'deployments']);
  assert.equal(ruleAllows(req({}), r), true);
  assert.equal(ruleAllows(req({ verb: 'delete' }), r), false);
  assert.equal(ruleAllows(req({ apiGroup: 'batch' }), r), false);
  assert.equal(ruleAllows(req({ apiGroup: 'apps', resource: 'deployments' }), r), true);
  assert.equal(ruleAllows(req({ subresource: 'log' }), r), false, 'a resource does not grant its subresources');
  assert.equal(ruleAllows(req({ subresource: 'log' }), rule(['get'], [''], ['pods/log'])), true);
  assert.equal(ruleAllows(req({ subresource: 'log' }), rule(['get'], [''], ['*/log'])), true);
  assert.equal(ruleAllows(req({ subresource: 'status' }), rule(['get'], [''], ['*/log'])), false);
  assert.equal(ruleAllows(req({ subresource: 'log' }), rule(['get'], [''], ['*'])), true, '"*" covers subresources');
  assert.equal(ruleAllows(req({ verb: 'escalate', apiGroup: 'x', resource: 'y' }), rule(['*'], ['*'], ['*'])), true);
  const named = rule(['get'], [''], ['configmaps'], ['a']);
  assert.equal(ruleAllows(req({ resource: 'configmaps', name: 'a' }), named), true);
  assert.equal(ruleAllows(req({ resource: 'configmaps', name: 'b' }), named), false);
  assert.equal(ruleAllows(req({ resource: 'configmaps', verb: 'get', name: '' }), named), false, 'a list has no name');
});

test('rule matching: non-resource URLs with a trailing "*"', () => {
  const r: PolicyRule = { verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/*'] };
  const nr = (path: string, verb = 'get') => req({ isResourceRequest: false, path, verb });
  assert.equal(ruleAllows(nr('/healthz'), r), true);
  assert.equal(ruleAllows(nr('/healthz/etcd'), r), false);
  assert.equal(ruleAllows(nr('/apis/apps/v1'), r), true);
  assert.equal(ruleAllows(nr('/apis'), r), false);
  assert.equal(ruleAllows(nr('/healthz', 'post'), r), false);
  assert.equal(ruleAllows(nr('/anything'), { verbs: ['*'], nonResourceURLs: ['*'] }), true);
  assert.equal(ruleAllows(req({}), r), false, 'a URL rule grants no resources');
});

test('subjects: users, groups, service accounts (namespace defaults to the binding\'s)', () => {
  const sa: UserInfo = { name: 'system:serviceaccount:ns:robot', groups: ['system:serviceaccounts', 'system:serviceaccounts:ns'] };
  assert.equal(appliesToUser(sa, { kind: 'ServiceAccount', name: 'robot', namespace: 'ns' }, ''), true);
  assert.equal(appliesToUser(sa, { kind: 'ServiceAccount', name: 'robot' }, 'ns'), true);
  assert.equal(appliesToUser(sa, { kind: 'ServiceAccount', name: 'robot' }, ''), false);
  assert.equal(appliesToUser(sa, { kind: 'ServiceAccount', name: 'robot' }, 'other'), false);
  assert.equal(appliesToUser(sa, { kind: 'Group', name: 'system:serviceaccounts:ns' }, ''), true);
  assert.equal(appliesToUser({ name: 'alice', groups: [] }, { kind: 'User', name: 'alice' }, ''), true);
  assert.equal(appliesToUser({ name: 'alice', groups: [] }, { kind: 'Group', name: 'alice' }, ''), false);
});

/** RBAC objects from plain lists, with a generation to bump by hand. */
class StaticObjects implements RbacObjects {
  generation = 0;
  constructor(
    public crs: ClusterRole[] = [],
    public crbs: ClusterRoleBinding[] = [],
    public roles: Role[] = [],
    public rbs: RoleBinding[] = [],
  ) {}
  clusterRoleBindings() {
    return this.crbs;
  }
  roleBindings(ns: string) {
    return this.rbs.filter((b) => b.metadata?.namespace === ns);
  }
  clusterRole(name: string) {
    return this.crs.find((r) => r.metadata?.name === name);
  }
  role(ns: string, name: string) {
    return this.roles.find((r) => r.metadata?.namespace === ns && r.metadata?.name === name);
  }
}

const attrs = (user: UserInfo, over: Partial<AuthorizationAttributes>): AuthorizationAttributes => ({
  user,
  verb: 'list',
  apiGroup: '',
  apiVersion: 'v1',
  resource: 'pods',
  subresource: '',
  namespace: 'team',
  name: '',
  path: '/api/v1/namespaces/team/pods',
  isResourceRequest: true,
  ...over,
});
const alice: UserInfo = { name: 'alice', groups: ['devs', 'system:authenticated'] };

test('authorizer: RoleBinding in one namespace, reasons, missing roles, cache invalidation', () => {
  const objects = new StaticObjects(
    [{ metadata: { name: 'pod-reader' }, rules: [rule(['get', 'list', 'watch'], [''], ['pods'])] }],
    [],
    [],
    [{ metadata: { name: 'alice-reads', namespace: 'team' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'pod-reader' }, subjects: [{ kind: 'User', name: 'alice' }] }],
  );
  const rbac = new RbacAuthorizer(objects);
  assert.deepEqual(rbac.authorize(attrs(alice, {})), { decision: 'allow', reason: 'RBAC: allowed by RoleBinding "alice-reads/team" of ClusterRole "pod-reader" to User "alice"' });
  const elsewhere = attrs(alice, { namespace: 'default' });
  const r = rbac.authorize(elsewhere);
  assert.deepEqual(r, { decision: 'no-opinion' });
  assert.equal(forbiddenError(elsewhere, r.reason).message, 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"');
  // A binding to a role that does not exist: RBAC's reason names it.
  objects.crbs.push({ metadata: { name: 'devs-ghost' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'ghost' }, subjects: [{ kind: 'Group', name: 'devs' }] });
  // Cached until the generation moves.
  assert.deepEqual(rbac.authorize(elsewhere), { decision: 'no-opinion' });
  objects.generation++;
  const ghost = rbac.authorize(elsewhere);
  assert.deepEqual(ghost, { decision: 'no-opinion', reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "ghost" not found' });
  assert.equal(
    forbiddenError(elsewhere, ghost.reason).message,
    'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default": RBAC: clusterrole.rbac.authorization.k8s.io "ghost" not found',
  );
  objects.rbs.push({ metadata: { name: 'x', namespace: 'default' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'nope' }, subjects: [{ kind: 'Group', name: 'devs' }] });
  objects.generation++;
  assert.equal(rbac.authorize(elsewhere).reason, 'RBAC: [clusterrole.rbac.authorization.k8s.io "ghost" not found, role.rbac.authorization.k8s.io "nope" not found]');
  // Cluster-scoped requests see only ClusterRoleBindings.
  assert.equal(rbac.authorize(attrs(alice, { namespace: '' })).decision, 'no-opinion');
});

test('the default chain with the bootstrap policy: masters, discovery, public info, nodes, service accounts', async () => {
  const wiring = authorizerChain(['Node', 'RBAC'], undefined);
  const objects = new StaticObjects(bootstrapClusterRoles(), bootstrapClusterRoleBindings());
  const decide = async (user: UserInfo, over: Partial<AuthorizationAttributes>) => (await wiring.authorizer.authorize(attrs(user, over))).decision;
  const anonymous: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };
  // Before the caches are attached only the public-info paths are open.
  assert.equal(await decide(anonymous, { isResourceRequest: false, verb: 'get', path: '/readyz' }), 'allow');
  assert.equal(await decide(alice, { isResourceRequest: false, verb: 'get', path: '/api' }), 'no-opinion');
  wiring.objects.attach(objects as never);
  assert.equal(await decide({ name: 'system:admin', groups: ['system:masters'] }, { verb: 'delete', resource: 'nodes', namespace: '' }), 'allow');
  assert.equal(await decide(anonymous, { isResourceRequest: false, verb: 'get', path: '/version' }), 'allow');
  assert.equal(await decide(anonymous, { isResourceRequest: false, verb: 'get', path: '/api' }), 'no-opinion');
  assert.equal(await decide(alice, { isResourceRequest: false, verb: 'get', path: '/apis/apps/v1' }), 'allow');
  assert.equal(await decide(alice, { isResourceRequest: false, verb: 'get', path: '/metrics' }), 'no-opinion');
  assert.equal(await decide(alice, { verb: 'create', apiGroup: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews', namespace: '' }), 'allow');
  assert.equal(await decide(alice, {}), 'no-opinion');
  const sa: UserInfo = { name: 'system:serviceaccount:team:default', groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'] };
  assert.equal(await decide(sa, { isResourceRequest: false, verb: 'get', path: '/openid/v1/jwks' }), 'allow');
  assert.equal(await decide(alice, { isResourceRequest: false, verb: 'get', path: '/openid/v1/jwks' }), 'no-opinion');
  assert.equal(await decide(sa, { verb: 'get', resource: 'secrets' }), 'no-opinion');
  assert.equal(await decide({ name: 'system:kube-scheduler', groups: ['system:authenticated'] }, { verb: 'create', resource: 'pods', subresource: 'binding' }), 'allow');
  // Nodes: the Node authorizer decides their resource requests (no graph here: writes by the system:node rules).
  const node: UserInfo = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
  assert.equal(await decide(node, { verb: 'patch', resource: 'nodes', subresource: 'status', namespace: '', name: 'n1' }), 'allow');
  // What the node rules do not grant is RBAC's to decide (upstream's node authorizer never denies).
  assert.equal(await decide(node, { verb: 'create', apiGroup: 'apps', resource: 'deployments' }), 'no-opinion');
  assert.equal(await decide(node, { verb: 'create', apiGroup: 'authorization.k8s.io', resource: 'selfsubjectrulesreviews', namespace: '' }), 'allow');

  // SelfSubjectRulesReview's rules: RBAC's, and for a node the Node authorizer says its list is incomplete.
  const aliceRules = wiring.rulesFor(alice, 'team');
  assert.equal(aliceRules.incomplete, undefined);
  assert.ok(aliceRules.rules.some((r) => r.rule.resources?.includes('selfsubjectrulesreviews')));
  const nodeRules = wiring.rulesFor(node, 'team');
  assert.deepEqual([nodeRules.incomplete, nodeRules.errors], [true, ['node authorizer does not support user rule resolution']]);
  assert.ok(nodeRules.rules.some((r) => r.rule.resources?.includes('selfsubjectaccessreviews')), 'RBAC\'s rules are still listed');
  const allowAll = authorizerChain(['AlwaysAllow'], undefined).rulesFor(alice, 'team');
  assert.deepEqual(allowAll.rules.map((r) => r.rule), [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }]);
  assert.deepEqual(authorizerChain(['AlwaysDeny'], undefined).rulesFor(alice, 'team'), { rules: [], errors: [] });
});

test('Covers and the escalation message (upstream\'s ConfirmNoEscalation)', () => {
  const owner = [rule(['get', 'list'], [''], ['pods', 'pods/log']), rule(['*'], ['apps'], ['deployments/*']), { verbs: ['get'], nonResourceURLs: ['/api/*'] }];
  assert.equal(covers(owner, [rule(['get'], [''], ['pods'])]).covered, true);
  assert.equal(covers(owner, [rule(['update'], ['apps'], ['deployments/scale'])]).covered, true, '"x/*" covers x\'s subresources');
  assert.equal(covers(owner, [rule(['update'], ['apps'], ['deployments'])]).covered, false);
  assert.equal(covers(owner, [{ verbs: ['get'], nonResourceURLs: ['/api/v1'] }]).covered, true);
  assert.equal(covers([rule(['get'], [''], ['configmaps'], ['a'])], [rule(['get'], [''], ['configmaps'])]).covered, false, 'names narrow');
  assert.equal(covers([rule(['get'], [''], ['configmaps'])], [rule(['get'], [''], ['configmaps'], ['a'])]).covered, true);
  const { missing } = covers(owner, [rule(['get', 'delete', 'create'], ['', 'batch'], ['pods'])]);
  assert.deepEqual(compactRules(missing).map(compactString), ['{APIGroups:[""], Resources:["pods"], Verbs:["delete" "create"]}', '{APIGroups:["batch"], Resources:["pods"], Verbs:["get" "delete" "create"]}']);

  const objects = new StaticObjects([], [], [{ metadata: { name: 'r', namespace: 'team' }, rules: owner }], [
    { metadata: { name: 'b', namespace: 'team' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' }, subjects: [{ kind: 'User', name: 'alice' }] },
  ]);
  const rbac = new RbacAuthorizer(objects);
  const rulesFor = (u: UserInfo, ns: string) => rbac.rulesFor(u, ns);
  assert.equal(escalationError({ rulesFor }, alice, 'team', [rule(['get'], [''], ['pods'])]), undefined);
  assert.equal(
    escalationError({ rulesFor }, alice, 'team', [rule(['*'], ['*'], ['*']), { verbs: ['*'], nonResourceURLs: ['*'] }]),
    'user "alice" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}',
  );
});

test('escalation check: roles need the rules or escalate, bindings the role\'s rules or bind; masters pass', async () => {
  const objects = new StaticObjects(
    [
      { metadata: { name: 'cluster-admin' }, rules: [rule(['*'], ['*'], ['*'])] },
      { metadata: { name: 'rbac-writer' }, rules: [rule(['create'], ['rbac.authorization.k8s.io'], ['clusterroles', 'clusterrolebindings', 'roles', 'rolebindings'])] },
      { metadata: { name: 'binder' }, rules: [rule(['bind'], ['rbac.authorization.k8s.io'], ['clusterroles'], ['cluster-admin'])] },
    ],
    [{ metadata: { name: 'w' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'rbac-writer' }, subjects: [{ kind: 'User', name: 'alice' }] }],
  );
  const rbac = new RbacAuthorizer(objects);
  const check = new RbacEscalationCheck({ authorizer: rbac, resolver: rbac.resolver, rulesFor: (u, ns) => rbac.rulesFor(u, ns) });
  const write = (user: UserInfo, resource: string, object: object, namespace = '', old?: object): AdmissionAttributes => ({
    operation: old ? 'UPDATE' : 'CREATE',
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource,
    subresource: '',
    kind: '',
    namespace,
    name: 'x',
    object: object as KubeObject,
    ...(old ? { oldObject: old as KubeObject } : {}),
    user,
    dryRun: false,
  });
  const adminBinding = { metadata: { name: 'x' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'User', name: 'alice' }] };
  await assert.rejects(check.admit(write(alice, 'clusterrolebindings', adminBinding)), (e: Error) =>
    e.message.startsWith('clusterrolebindings.rbac.authorization.k8s.io "x" is forbidden: user "alice" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}'),
  );
  await check.admit(write({ name: 'root', groups: ['system:masters'] }, 'clusterrolebindings', adminBinding));
  const ghost = { ...adminBinding, roleRef: { ...adminBinding.roleRef, name: 'ghost' } };
  // Binding a role that does not exist: upstream returns the role lister's NotFound as it is.
  await assert.rejects(check.admit(write(alice, 'clusterrolebindings', ghost)), (e: unknown) => isApiError(e) && e.code === 404 && e.message === 'clusterrole.rbac.authorization.k8s.io "ghost" not found');
  // A role granting only what alice holds is fine; more is not, unless she may escalate.
  await check.admit(write(alice, 'clusterroles', { metadata: { name: 'x' }, rules: [rule(['create'], ['rbac.authorization.k8s.io'], ['roles'])] }));
  await assert.rejects(check.admit(write(alice, 'roles', { metadata: { name: 'x' }, rules: [rule(['get'], [''], ['secrets'])] }, 'team')), /roles.rbac.authorization.k8s.io "x" is forbidden: .*\n\{APIGroups:\[""\], Resources:\["secrets"\], Verbs:\["get"\]\}$/);
  // An aggregated role needs full authority, checked after its rules; so does changing or dropping the aggregation.
  const aggregated = { metadata: { name: 'x' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: 'b' } }] }, rules: [] };
  const clusterAdminOnly = (e: Error) => e.message === 'clusterroles.rbac.authorization.k8s.io "x" is forbidden: must have cluster-admin privileges to use the aggregationRule';
  await assert.rejects(check.admit(write(alice, 'clusterroles', aggregated)), clusterAdminOnly);
  await assert.rejects(check.admit(write(alice, 'clusterroles', { ...aggregated, rules: [rule(['get'], [''], ['secrets'])] })), /attempting to grant RBAC permissions not currently held/);
  await assert.rejects(check.admit(write(alice, 'clusterroles', { metadata: { name: 'x' }, rules: [] }, '', aggregated)), clusterAdminOnly);
  // Changing only owner references or finalizers is not a grant.
  const held = { metadata: { name: 'x', resourceVersion: '1' }, rules: [rule(['get'], [''], ['secrets'])] };
  await check.admit(write(alice, 'clusterroles', { ...held, metadata: { ...held.metadata, finalizers: ['f'] } }, '', held));
  // bind on cluster-admin by name.
  objects.crbs.push({ metadata: { name: 'b' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'binder' }, subjects: [{ kind: 'User', name: 'alice' }] });
  objects.generation++;
  await check.admit(write(alice, 'clusterrolebindings', adminBinding));
  await check.admit(write(alice, 'rolebindings', adminBinding, 'team'));
  objects.crs.push({ metadata: { name: 'escalator' }, rules: [rule(['escalate'], ['rbac.authorization.k8s.io'], ['roles'])] });
  objects.crbs.push({ metadata: { name: 'e' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'escalator' }, subjects: [{ kind: 'Group', name: 'devs' }] });
  objects.generation++;
  await check.admit(write(alice, 'roles', { metadata: { name: 'x' }, rules: [rule(['get'], [''], ['secrets'])] }, 'team'));
});

test('aggregation: the union of the selected roles\' rules, in name order, without duplicates or itself', () => {
  const label = (l: Record<string, string>) => ({ labels: l });
  const view: ClusterRole = { metadata: { name: 'view', ...label({ 'agg-edit': 'true' }) }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'agg-view': 'true' } }] }, rules: [] };
  const all: ClusterRole[] = [
    view,
    { metadata: { name: 'z', ...label({ 'agg-view': 'true' }) }, rules: [rule(['get'], [''], ['pods']), rule(['list'], [''], ['pods'])] },
    { metadata: { name: 'a', ...label({ 'agg-view': 'true' }) }, rules: [rule(['get'], [''], ['pods'])] },
    { metadata: { name: 'other' }, rules: [rule(['*'], ['*'], ['*'])] },
  ];
  assert.deepEqual(aggregatedRules(view, all), [rule(['get'], [''], ['pods']), rule(['list'], [''], ['pods'])]);
  assert.deepEqual(aggregatedRules({ ...view, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { none: 'x' } }] } }, all), []);
});

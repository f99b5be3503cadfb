// kube-apiserver's authorizer chain from --authorization-mode (default Node,RBAC): system:masters first, then each
// mode in order; the first allow or deny decides. Until RBAC's caches hold the bootstrap policy (the first moments of
// a start), the public-info paths stay readable, as system:public-info-viewer will then grant.
import type { Authorizer, AuthorizationAttributes, AuthorizationResult } from '../authorizer.js';
import { PublicInfoAuthorizer, UnionAuthorizer } from '../authorizer.js';
import { NodeAuthorizer, nodeIdentity } from '../node.js';
import type { NodeGraph } from '../node-graph.js';
import type { UserInfo } from '../user.js';
import { PrivilegedGroupAuthorizer, RbacAuthorizer } from './authorizer.js';
import { DeferredRbacObjects } from './caches.js';
import type { ResolvedRules } from './resolver.js';

export type AuthorizationModeName = 'AlwaysAllow' | 'AlwaysDeny' | 'Node' | 'RBAC';

/** What the API server wires: the chain, and the RBAC authorizer whose objects it fills once its caches run. */
export interface RbacWiring {
  authorizer: Authorizer;
  rbac: RbacAuthorizer;
  objects: DeferredRbacObjects;
  /** Whether RBAC is one of the modes. */
  rbacEnabled: boolean;
  /**
   * What `user` may do in `namespace` as the modes can list it, in their order (upstream's union rule resolver, for
   * SelfSubjectRulesReview): AlwaysAllow everything, RBAC its rules, Node nothing it can list for a node.
   */
  rulesFor(user: UserInfo, namespace: string): ResolvedRules;
}

const NOTHING: ResolvedRules = { rules: [], errors: [] };
const EVERYTHING: ResolvedRules = {
  rules: [
    { rule: { verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, source: 'AlwaysAllow' },
    { rule: { verbs: ['*'], nonResourceURLs: ['*'] }, source: 'AlwaysAllow' },
  ],
  errors: [],
};
// The node authorizer decides from a graph of objects, not from rules: a node's list is incomplete, as upstream says.
const NODE_RULES_UNKNOWN: ResolvedRules = { rules: [], errors: ['node authorizer does not support user rule resolution'], incomplete: true };

class AlwaysAllowAuthorizer implements Authorizer {
  authorize(): AuthorizationResult {
    return { decision: 'allow' };
  }
}

class AlwaysDenyAuthorizer implements Authorizer {
  authorize(): AuthorizationResult {
    return { decision: 'no-opinion', reason: 'Everything is forbidden.' };
  }
}

class StartupPublicInfo implements Authorizer {
  private readonly inner = new PublicInfoAuthorizer();
  constructor(private readonly objects: DeferredRbacObjects) {}
  authorize(attrs: AuthorizationAttributes): AuthorizationResult {
    return this.objects.ready ? { decision: 'no-opinion' } : this.inner.authorize(attrs);
  }
}

/** The chain for `modes`, behind any authorizers the server puts first (e.g. its join paths). */
export function authorizerChain(modes: readonly AuthorizationModeName[], nodeGraph: NodeGraph | undefined, first: readonly Authorizer[] = []): RbacWiring {
  const objects = new DeferredRbacObjects();
  const rbac = new RbacAuthorizer(objects);
  const byMode: Record<AuthorizationModeName, () => Authorizer> = {
    AlwaysAllow: () => new AlwaysAllowAuthorizer(),
    AlwaysDeny: () => new AlwaysDenyAuthorizer(),
    Node: () => new NodeAuthorizer(nodeGraph),
    RBAC: () => rbac,
  };
  const rbacEnabled = modes.includes('RBAC');
  const authorizer = new UnionAuthorizer([
    ...first,
    new PrivilegedGroupAuthorizer(),
    ...(rbacEnabled ? [new StartupPublicInfo(objects)] : []),
    ...modes.map((m) => byMode[m]()),
  ]);
  const rulesByMode: Record<AuthorizationModeName, (user: UserInfo, namespace: string) => ResolvedRules> = {
    AlwaysAllow: () => EVERYTHING,
    AlwaysDeny: () => NOTHING,
    Node: (user) => (nodeIdentity(user) !== undefined ? NODE_RULES_UNKNOWN : NOTHING),
    RBAC: (user, namespace) => rbac.rulesFor(user, namespace),
  };
  const rulesFor = (user: UserInfo, namespace: string): ResolvedRules => {
    const each = modes.map((m) => rulesByMode[m](user, namespace));
    if (each.length === 1) return each[0]!;
    return { rules: each.flatMap((r) => r.rules), errors: each.flatMap((r) => r.errors), ...(each.some((r) => r.incomplete) ? { incomplete: true } : {}) };
  };
  return { authorizer, rbac, objects, rbacEnabled, rulesFor };
}

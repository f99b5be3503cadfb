// Upstream's RBAC authorizer: allows a request when a rule of a role bound to the user allows it, and otherwise has no
// opinion (reason "RBAC: <errors>" only when resolving the user's bindings met errors). Every decision reads a rule
// set computed once per user, groups and namespace from the watched caches, dropped when an RBAC object changes; the
// privileged group system:masters is allowed before anything is looked up, as kube-apiserver's authorizer chain does.
import type { AuthorizationAttributes, AuthorizationResult, Authorizer } from '../authorizer.js';
import type { UserInfo } from '../user.js';
import { aggregateErrors, RuleResolver, type RbacObjects, type ResolvedRules } from './resolver.js';
import { ruleAllows } from './rules.js';

export const PRIVILEGED_GROUP = 'system:masters';

/** kube-apiserver's first authorizer: members of system:masters may do anything. */
export class PrivilegedGroupAuthorizer implements Authorizer {
  authorize(attrs: AuthorizationAttributes): AuthorizationResult {
    return attrs.user.groups.includes(PRIVILEGED_GROUP) ? { decision: 'allow' } : { decision: 'no-opinion' };
  }
}

/** Rule sets kept at most; past it the cache starts over (a cluster rarely has this many distinct users at once). */
const MAX_CACHED = 4096;

export class RbacAuthorizer implements Authorizer {
  readonly resolver: RuleResolver;
  private readonly cache = new Map<string, ResolvedRules>();
  private generation = -1;

  constructor(private readonly objects: RbacObjects & { readonly generation?: number }) {
    this.resolver = new RuleResolver(objects);
  }

  /** The rules that apply to `user` in `namespace`, from the per-subject cache. */
  rulesFor(user: UserInfo, namespace: string): ResolvedRules {
    const gen = this.objects.generation ?? -2;
    if (gen !== this.generation || gen === -2) {
      this.cache.clear();
      this.generation = gen;
    }
    const key = `${user.name}\u0000${user.groups.join('\u0001')}\u0000${namespace}`;
    let hit = this.cache.get(key);
    if (!hit) {
      if (this.cache.size >= MAX_CACHED) this.cache.clear();
      hit = this.resolver.rulesFor(user, namespace);
      this.cache.set(key, hit);
    }
    return hit;
  }

  authorize(attrs: AuthorizationAttributes): AuthorizationResult {
    const resolved = this.rulesFor(attrs.user, attrs.isResourceRequest ? attrs.namespace : '');
    for (const { rule, source } of resolved.rules) {
      if (ruleAllows(attrs, rule)) return { decision: 'allow', reason: `RBAC: allowed by ${source}` };
    }
    return resolved.errors.length ? { decision: 'no-opinion', reason: `RBAC: ${aggregateErrors(resolved.errors)}` } : { decision: 'no-opinion' };
  }
}

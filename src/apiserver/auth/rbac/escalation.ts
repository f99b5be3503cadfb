// Privilege-escalation prevention for RBAC writes (upstream's policybased storage of roles, clusterroles,
// rolebindings and clusterrolebindings): a Role or ClusterRole may be created or changed only by a user who already
// holds every rule it grants, or who may "escalate" on it; a binding only by a user who holds every rule of the role
// it binds, or who may "bind" that role; setting, changing or dropping an aggregation rule needs everything. system:masters
// is never checked. Runs as upstream's storage does: after mutating admission, before validation (the last mutating
// step).
import type { AggregationRule, PolicyRule, RoleRef } from 'kubernetes-types/rbac/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { ApiError } from '../../../machinery/errors.js';
import type { AdmissionAttributes, MutatingAdmission } from '../../admission/types.js';
import type { Authorizer } from '../authorizer.js';
import type { UserInfo } from '../user.js';
import { PRIVILEGED_GROUP } from './authorizer.js';
import type { ResolvedRules, RuleResolver } from './resolver.js';
import { compactRules, compactString, covers, goQuotedList } from './rules.js';
import { RBAC_GROUP } from './bootstrap-policy.js';

const ROLE_RESOURCES = new Set(['roles', 'clusterroles']);
const BINDING_RESOURCES = new Set(['rolebindings', 'clusterrolebindings']);
/** What a user must hold to create or change an aggregated ClusterRole (its rules are whatever the selectors pick). */
const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

export interface EscalationDeps {
  authorizer: Authorizer;
  resolver: Pick<RuleResolver, 'roleReferenceRules'>;
  rulesFor(user: UserInfo, namespace: string): ResolvedRules;
}

/** Upstream's ConfirmNoEscalation: the text of the error when `user` does not hold every rule of `rules`. */
export function escalationError(deps: Pick<EscalationDeps, 'rulesFor'>, user: UserInfo, namespace: string, rules: readonly PolicyRule[]): string | undefined {
  const owner = deps.rulesFor(user, namespace);
  const { covered, missing } = covers(
    owner.rules.map((r) => r.rule),
    rules,
  );
  if (covered) return undefined;
  const descriptions = [...new Set(compactRules(missing).map(compactString))].sort();
  let msg = `user ${JSON.stringify(user.name)} (groups=${goQuotedList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${descriptions.join('\n')}`;
  if (owner.errors.length) msg += `; resolution errors: [${owner.errors.join(' ')}]`;
  return msg;
}

/** Everything but what the garbage collector changes (owner references, finalizers) and server-set metadata. */
function withoutGcFields(obj: KubeObject): string {
  const { ownerReferences: _o, finalizers: _f, resourceVersion: _r, managedFields: _m, generation: _g, ...meta } = obj.metadata;
  return JSON.stringify({ ...obj, metadata: meta });
}

/** A ClusterRole whose aggregation rule selects anything (upstream's hasAggregationRule). */
const aggregates = (role: KubeObject | undefined) => Boolean((role as { aggregationRule?: AggregationRule } | undefined)?.aggregationRule?.clusterRoleSelectors?.length);

export class RbacEscalationCheck implements MutatingAdmission {
  readonly name = 'RBACEscalation';
  constructor(private readonly deps: EscalationDeps) {}

  async admit(a: AdmissionAttributes): Promise<void> {
    if (a.group !== RBAC_GROUP || a.subresource || (a.operation !== 'CREATE' && a.operation !== 'UPDATE') || !a.object) return;
    const isRole = ROLE_RESOURCES.has(a.resource);
    if (!isRole && !BINDING_RESOURCES.has(a.resource)) return;
    if (a.user.groups.includes(PRIVILEGED_GROUP)) return;
    if (isRole && (await this.allowed(a.user, 'escalate', a.resource, a.name, a.namespace))) return;
    if (a.operation === 'UPDATE' && a.oldObject && withoutGcFields(a.object) === withoutGcFields(a.oldObject)) return;
    const forbid = (msg: string) => ApiError.forbidden(RBAC_GROUP, a.resource, a.name, msg);
    if (isRole) {
      const msg = escalationError(this.deps, a.user, a.namespace, (a.object as unknown as { rules?: PolicyRule[] }).rules ?? []);
      if (msg) throw forbid(msg);
      // An aggregated role can come to hold anything, and dropping its rule could stop its tightening.
      if ((aggregates(a.object) || aggregates(a.oldObject)) && escalationError(this.deps, a.user, a.namespace, FULL_AUTHORITY)) {
        throw forbid('must have cluster-admin privileges to use the aggregationRule');
      }
      return;
    }
    const ref = (a.object as unknown as { roleRef?: RoleRef }).roleRef;
    if (!ref) return;
    const roleResource = ref.kind === 'Role' ? 'roles' : 'clusterroles';
    if (await this.allowed(a.user, 'bind', roleResource, ref.name, a.namespace)) return;
    // A role that does not exist: its NotFound as it is, as upstream returns the lister's error.
    const msg = escalationError(this.deps, a.user, a.namespace, this.deps.resolver.roleReferenceRules(ref, a.namespace));
    if (msg) throw forbid(msg);
  }

  private async allowed(user: UserInfo, verb: string, resource: string, name: string, namespace: string): Promise<boolean> {
    const r = await this.deps.authorizer.authorize({
      user,
      verb,
      apiGroup: RBAC_GROUP,
      apiVersion: '*',
      resource,
      subresource: '',
      namespace,
      name,
      path: '',
      isResourceRequest: true,
    });
    return r.decision === 'allow';
  }
}

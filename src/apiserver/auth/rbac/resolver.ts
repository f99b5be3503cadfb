// Which RBAC rules apply to a user in a namespace (upstream's DefaultRuleResolver): every ClusterRoleBinding naming the
// user, then, for a namespaced request, every RoleBinding of that namespace naming it; each binding's role resolved
// from the same caches. Errors (a binding to a role that does not exist) are reported beside the rules, never fatal.
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject } from 'kubernetes-types/rbac/v1.js';
import { ApiError } from '../../../machinery/errors.js';
import type { UserInfo } from '../user.js';
import { RBAC_GROUP } from '../../registry/roles/strategy.js';
import { appliesToUser } from './rules.js';

/** The RBAC objects, as informer caches hold them (callers never mutate what they return). */
export interface RbacObjects {
  clusterRoleBindings(): readonly ClusterRoleBinding[];
  roleBindings(namespace: string): readonly RoleBinding[];
  clusterRole(name: string): ClusterRole | undefined;
  role(namespace: string, name: string): Role | undefined;
}

/** A rule and where it came from ("ClusterRoleBinding "x" of ClusterRole "y" to User "z""). */
export interface SourcedRule {
  rule: PolicyRule;
  source: string;
}

export interface ResolvedRules {
  rules: SourcedRule[];
  errors: string[];
  /** Some authorizer could not list what it allows (SelfSubjectRulesReview's status.incomplete). */
  incomplete?: boolean;
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${JSON.stringify(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind} ${JSON.stringify(s.name)}`;
}

export class RuleResolver {
  constructor(private readonly objects: RbacObjects) {}

  /** The rules a roleRef names; throws upstream's NotFound (its listers' singular resource) when the role does not exist. */
  roleReferenceRules(ref: RoleRef, bindingNamespace: string): readonly PolicyRule[] {
    if (ref.kind === 'Role') {
      const role = this.objects.role(bindingNamespace, ref.name);
      if (!role) throw ApiError.notFound(RBAC_GROUP, 'role', ref.name);
      return role.rules ?? [];
    }
    if (ref.kind === 'ClusterRole') {
      const role = this.objects.clusterRole(ref.name);
      if (!role) throw ApiError.notFound(RBAC_GROUP, 'clusterrole', ref.name);
      return role.rules ?? [];
    }
    throw new Error(`unsupported role reference kind: ${JSON.stringify(ref.kind)}`);
  }

  /** Every rule that applies to `user` in `namespace` ('' = cluster scope only), in upstream's visiting order. */
  rulesFor(user: UserInfo, namespace: string): ResolvedRules {
    const out: ResolvedRules = { rules: [], errors: [] };
    for (const b of this.objects.clusterRoleBindings()) {
      const subject = (b.subjects ?? []).find((s) => appliesToUser(user, s, ''));
      if (!subject) continue;
      this.collect(out, b.roleRef, '', () => `ClusterRoleBinding ${JSON.stringify(b.metadata?.name ?? '')} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describeSubject(subject, '')}`);
    }
    if (namespace) {
      for (const b of this.objects.roleBindings(namespace)) {
        const subject = (b.subjects ?? []).find((s) => appliesToUser(user, s, namespace));
        if (!subject) continue;
        const name = `${b.metadata?.name ?? ''}/${namespace}`;
        this.collect(out, b.roleRef, namespace, () => `RoleBinding ${JSON.stringify(name)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describeSubject(subject, namespace)}`);
      }
    }
    return out;
  }

  private collect(out: ResolvedRules, ref: RoleRef, namespace: string, describe: () => string): void {
    let rules: readonly PolicyRule[];
    try {
      rules = this.roleReferenceRules(ref, namespace);
    } catch (err) {
      out.errors.push((err as Error).message);
      return;
    }
    const source = describe();
    for (const rule of rules) out.rules.push({ rule, source });
  }
}

/** Go's utilerrors.NewAggregate(...).Error(): one message as it is, several (each once) as "[a, b]". */
export function aggregateErrors(errors: readonly string[]): string {
  const distinct = [...new Set(errors)];
  return distinct.length === 1 ? distinct[0]! : `[${distinct.join(', ')}]`;
}

// Upstream's clusterrole-aggregation controller: a ClusterRole with an aggregationRule holds the union of the rules of
// every ClusterRole its selectors pick (other than itself), in name order without duplicates; that is how admin, edit
// and view pick up the system:aggregate-to-* roles and any role an extension labels for them. Any ClusterRole change
// queues every aggregated role; keys are ClusterRole names.
import type { ClusterRole, PolicyRule } from 'kubernetes-types/rbac/v1.js';
import { isConflict, isNotFound } from '../../machinery/errors.js';
import { labelSelectorMatches } from '../../machinery/labels.js';
import { RateLimitingQueue, type ResourceClient, type SharedIndexInformer } from '../../client/index.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';
import { runQueueController } from '../run.js';

const GVR = { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles' };

const sameRule = (a: PolicyRule, b: PolicyRule): boolean => JSON.stringify(normalized(a)) === JSON.stringify(normalized(b));
const normalized = (r: PolicyRule) => [r.verbs ?? [], r.apiGroups ?? [], r.resources ?? [], r.resourceNames ?? [], r.nonResourceURLs ?? []];

/** The rules an aggregated role should hold, from the roles in `all`. */
export function aggregatedRules(role: ClusterRole, all: readonly ClusterRole[]): PolicyRule[] {
  const selectors = role.aggregationRule?.clusterRoleSelectors ?? [];
  const picked = all
    .filter((r) => r.metadata?.name !== role.metadata?.name && selectors.some((s) => labelSelectorMatches(s, r.metadata?.labels)))
    .sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : a.metadata!.name! > b.metadata!.name! ? 1 : 0));
  const rules: PolicyRule[] = [];
  for (const r of picked) {
    for (const rule of r.rules ?? []) if (!rules.some((have) => sameRule(have, rule))) rules.push(structuredClone(rule));
  }
  return rules;
}

export class ClusterRoleAggregationController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  private readonly roles: SharedIndexInformer<ClusterRole>;
  private readonly client: ResourceClient<ClusterRole>;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.client = ctx.client.resource<ClusterRole>(GVR);
    this.roles = ctx.informers.informerFor<ClusterRole>(GVR);
    // A role's labels or rules may change what any aggregated role should hold.
    const enqueueAggregated = () => {
      for (const r of this.roles.lister().list()) if (r.aggregationRule && r.metadata?.name) this.queue.add(r.metadata.name);
    };
    this.roles.addEventHandler({ onAdd: enqueueAggregated, onUpdate: enqueueAggregated, onDelete: enqueueAggregated });
  }

  run(signal: AbortSignal): Promise<void> {
    return runQueueController(
      { name: 'clusterrole-aggregation', waitForSync: () => this.roles.waitForCacheSync(), queue: this.queue, workers: 1, sync: (k) => this.sync(k), log: this.ctx.log },
      signal,
    );
  }

  async sync(name: string): Promise<void> {
    const role = this.roles.lister().get(name);
    if (!role?.aggregationRule) return;
    const rules = aggregatedRules(role, this.roles.lister().list());
    const current = role.rules ?? [];
    if (current.length === rules.length && current.every((r, i) => sameRule(r, rules[i]!))) return;
    const next = structuredClone(role);
    next.rules = rules;
    try {
      await this.client.update(next);
    } catch (err) {
      // Gone, or changed meanwhile: the informer's event queues it again.
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }
}

export const clusterRoleAggregationDescriptor: ControllerDescriptor = {
  name: 'clusterrole-aggregation',
  create: (ctx) => new ClusterRoleAggregationController(ctx),
};

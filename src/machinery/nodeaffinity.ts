// Node selector terms and node affinity matching as upstream's component-helpers nodeaffinity package (shared by the
// scheduler and the DaemonSet controller).
import type { Node, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, PreferredSchedulingTerm } from 'kubernetes-types/core/v1.js';
import type { Selector, SelectorOperator } from './labels.js';
import { newRequirement, selectorFromRequirements, selectorFromSet } from './labels.js';

const OPERATORS: Readonly<Record<string, SelectorOperator>> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
  Gt: 'gt',
  Lt: 'lt',
};

const OBJECT_NAME_FIELD = 'metadata.name';

function labelSelector(reqs: readonly NodeSelectorRequirement[] | undefined): Selector {
  return selectorFromRequirements(
    (reqs ?? []).map((r) => {
      const op = OPERATORS[r.operator];
      if (!op) throw new Error(`${JSON.stringify(r.operator)} is not a valid node selector operator`);
      return newRequirement(r.key, op, r.values ?? []);
    }),
  );
}

/** matchFields support only metadata.name with In or NotIn and exactly one value, as upstream validates. */
function fieldSelector(reqs: readonly NodeSelectorRequirement[] | undefined): (node: Node) => boolean {
  const checks = (reqs ?? []).map((r) => {
    if (r.key !== OBJECT_NAME_FIELD) throw new Error(`${JSON.stringify(r.key)} is not a valid field selector key`);
    if (r.operator !== 'In' && r.operator !== 'NotIn') throw new Error(`${JSON.stringify(r.operator)} is not a valid field selector operator`);
    if (r.values?.length !== 1) throw new Error('must have one element');
    const value = r.values[0]!;
    const want = r.operator === 'In';
    return (node: Node) => ((node.metadata?.name ?? '') === value) === want;
  });
  return (node) => checks.every((c) => c(node));
}

const isEmptyTerm = (t: NodeSelectorTerm): boolean => !t.matchExpressions?.length && !t.matchFields?.length;

interface ParsedTerm {
  matches(node: Node): boolean;
}

function parseTerm(t: NodeSelectorTerm): ParsedTerm {
  const labels = t.matchExpressions?.length ? labelSelector(t.matchExpressions) : undefined;
  const fields = t.matchFields?.length ? fieldSelector(t.matchFields) : undefined;
  return {
    matches: (node) => (!labels || labels.matches(node.metadata?.labels)) && (!fields || fields(node)),
  };
}

/**
 * A NodeSelector's terms (ORed). Empty terms match nothing; a term that does not parse is left out and the error
 * kept, so a selector with only bad terms matches nothing, as upstream's lazy errors do.
 */
export class NodeSelectorMatcher {
  private readonly terms: ParsedTerm[] = [];
  readonly errors: string[] = [];

  constructor(selector: NodeSelector) {
    for (const t of selector.nodeSelectorTerms ?? []) {
      if (isEmptyTerm(t)) continue;
      try {
        this.terms.push(parseTerm(t));
      } catch (err) {
        this.errors.push((err as Error).message);
      }
    }
  }

  matches(node: Node): boolean {
    return this.terms.some((t) => t.matches(node));
  }
}

/** A pod's spec.nodeSelector and required node affinity together (upstream's RequiredNodeAffinity). */
export class RequiredNodeAffinity {
  private readonly selector: Selector | undefined;
  private readonly affinity: NodeSelectorMatcher | undefined;

  constructor(pod: Pod) {
    const ns = pod.spec?.nodeSelector;
    this.selector = ns && Object.keys(ns).length ? selectorFromSet(ns) : undefined;
    const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    this.affinity = required ? new NodeSelectorMatcher(required) : undefined;
  }

  matches(node: Node): boolean {
    if (this.selector && !this.selector.matches(node.metadata?.labels)) return false;
    return !this.affinity || this.affinity.matches(node);
  }
}

/** Weighted preferences; zero-weight and empty terms are ignored, a term that does not parse throws. */
export class PreferredSchedulingTerms {
  private readonly terms: { weight: number; term: ParsedTerm }[] = [];

  constructor(terms: readonly PreferredSchedulingTerm[]) {
    terms.forEach((t, i) => {
      if (!t.weight || isEmptyTerm(t.preference)) return;
      try {
        this.terms.push({ weight: t.weight, term: parseTerm(t.preference) });
      } catch (err) {
        throw new Error(`[${i}].preference: ${(err as Error).message}`);
      }
    });
  }

  get length(): number {
    return this.terms.length;
  }

  /** Sum of the weights of the terms the node matches. */
  score(node: Node): number {
    let sum = 0;
    for (const t of this.terms) if (t.term.matches(node)) sum += t.weight;
    return sum;
  }
}

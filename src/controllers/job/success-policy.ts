// spec.successPolicy of Indexed Jobs (upstream's success_policy.go): the first rule whose succeededIndexes (all of them,
// or at least succeededCount of them) or plain succeededCount is met declares the Job successful.
import type { SuccessPolicy } from 'kubernetes-types/batch/v1.js';
import { OrderedIntervals } from './indexes.js';

/** The SuccessCriteriaMet message when a rule matched, else undefined. */
export function matchSuccessPolicy(policy: SuccessPolicy | undefined, completions: number, succeeded: OrderedIntervals): string | undefined {
  if (!policy || succeeded.length === 0) return undefined;
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    if (rule.succeededIndexes !== undefined && rule.succeededIndexes !== null) {
      const required = OrderedIntervals.parse(rule.succeededIndexes, completions);
      if (required.length === 0) continue; // unparsable rule
      if (matchSucceededIndexesRule(required, succeeded, rule.succeededCount)) return `Matched rules at index ${index}`;
    } else if (rule.succeededCount !== undefined && rule.succeededCount !== null && succeeded.total() >= rule.succeededCount) {
      return `Matched rules at index ${index}`;
    }
  }
  return undefined;
}

/** How many of the rule's indexes succeeded, walking both interval lists once. */
export function matchSucceededIndexesRule(rule: OrderedIntervals, succeeded: OrderedIntervals, succeededCount: number | undefined): boolean {
  const r = rule.intervals;
  const s = succeeded.intervals;
  let contains = 0;
  let i = 0;
  let j = 0;
  while (i < r.length && j < s.length) {
    const overlap = Math.min(r[i]!.last, s[j]!.last) - Math.max(r[i]!.first, s[j]!.first) + 1;
    if (overlap > 0) contains += overlap;
    if (s[j]!.last < r[i]!.last) j++;
    else if (s[j]!.last > r[i]!.last) i++;
    else {
      i++;
      j++;
    }
  }
  return contains === rule.total() || (succeededCount !== undefined && succeededCount !== null && contains >= succeededCount);
}

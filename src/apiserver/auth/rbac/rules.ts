// RBAC policy rules: whether one rule allows a request (upstream's RuleAllows), whether a set of rules covers another
// (Covers, used to prevent privilege escalation), and the compact description of rules a user is missing.
import type { PolicyRule, Subject } from 'kubernetes-types/rbac/v1.js';
import type { UserInfo } from '../user.js';
import { SERVICE_ACCOUNT_USER_PREFIX } from '../serviceaccount.js';

export const ALL = '*';

/** What a rule is checked against: a resource request or a non-resource path. */
export interface RuleRequest {
  verb: string;
  isResourceRequest: boolean;
  apiGroup: string;
  resource: string;
  subresource: string;
  name: string;
  path: string;
}

const has = (set: readonly string[] | undefined, v: string): boolean => set !== undefined && set.includes(v);

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return has(rule.verbs, ALL) || has(rule.verbs, verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return has(rule.apiGroups, ALL) || has(rule.apiGroups, group);
}

/** `combined` is "resource" or "resource/subresource"; "*" matches every resource, "*\/sub" every resource's sub. */
export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === ALL || r === combined) return true;
    if (subresource && r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource)) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  return !rule.resourceNames?.length || rule.resourceNames.includes(name);
}

export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === ALL || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

export function ruleAllows(req: RuleRequest, rule: PolicyRule): boolean {
  if (!verbMatches(rule, req.verb)) return false;
  if (!req.isResourceRequest) return nonResourceURLMatches(rule, req.path);
  const combined = req.subresource ? `${req.resource}/${req.subresource}` : req.resource;
  return apiGroupMatches(rule, req.apiGroup) && resourceMatches(rule, combined, req.subresource) && resourceNameMatches(rule, req.name);
}

/** Whether a binding subject names the user; a ServiceAccount subject without namespace takes the binding's. */
export function appliesToUser(user: UserInfo, subject: Subject, namespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.name === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const ns = subject.namespace || namespace;
      if (!ns) return false;
      return user.name === `${SERVICE_ACCOUNT_USER_PREFIX}${ns}:${subject.name}`;
    }
    default:
      return false;
  }
}

// --- escalation checks: does what a user holds cover what it grants? ---

/** One rule per verb × group × resource (× name), or per verb × URL: the units Covers checks one at a time. */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  const verbs = rule.verbs ?? [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of verbs) {
        if (rule.resourceNames?.length) {
          for (const name of rule.resourceNames) out.push({ apiGroups: [group], resources: [resource], resourceNames: [name], verbs: [verb] });
        } else {
          out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
        }
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) for (const verb of verbs) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

function hasAll(set: readonly string[] | undefined, want: readonly string[] | undefined): boolean {
  return (want ?? []).every((w) => has(set, w));
}

function resourceCoversAll(owner: readonly string[] | undefined, wanted: readonly string[] | undefined): boolean {
  if (has(owner, ALL) || hasAll(owner, wanted)) return true;
  for (const r of wanted ?? []) {
    if (has(owner, r)) continue;
    const slash = r.indexOf('/');
    if (slash < 0) return false;
    if (has(owner, `*/${r.slice(slash + 1)}`) || has(owner, `${r.slice(0, slash)}/*`)) continue;
    return false;
  }
  return true;
}

function nonResourceURLCovers(ownerURL: string, wanted: string): boolean {
  if (ownerURL === wanted) return true;
  return ownerURL.endsWith('*') && wanted.startsWith(ownerURL.slice(0, -1));
}

/** Upstream's ruleCovers: whether owner allows everything `wanted` (a broken-down rule) allows. */
export function ruleCovers(owner: PolicyRule, wanted: PolicyRule): boolean {
  const verbs = has(owner.verbs, ALL) || hasAll(owner.verbs, wanted.verbs);
  const groups = has(owner.apiGroups, ALL) || hasAll(owner.apiGroups, wanted.apiGroups);
  const resources = resourceCoversAll(owner.resources, wanted.resources);
  const urls = (wanted.nonResourceURLs ?? []).every((u) => (owner.nonResourceURLs ?? []).some((o) => nonResourceURLCovers(o, u)));
  // A rule without names is covered only by one without names.
  const names = !owner.resourceNames?.length || (Boolean(wanted.resourceNames?.length) && hasAll(owner.resourceNames, wanted.resourceNames));
  return verbs && groups && resources && urls && names;
}

/** Whether `owner` covers every rule of `wanted`; the broken-down rules it does not cover. */
export function covers(owner: readonly PolicyRule[], wanted: readonly PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing: PolicyRule[] = [];
  for (const rule of wanted) {
    for (const unit of breakdownRule(rule)) {
      if (!owner.some((o) => ruleCovers(o, unit))) missing.push(unit);
    }
  }
  return { covered: missing.length === 0, missing };
}

/**
 * Upstream's CompactRules: simple resource rules (one group, one resource, no names or URLs) that differ only in verb
 * merge into one; others stay as they are.
 */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const r of rules) {
    const isSimple = r.apiGroups?.length === 1 && r.resources?.length === 1 && !r.resourceNames?.length && !r.nonResourceURLs?.length;
    if (!isSimple) {
      out.push(r);
      continue;
    }
    const key = `${r.apiGroups![0]}\u0000${r.resources![0]}`;
    const existing = simple.get(key);
    if (existing) {
      for (const v of r.verbs ?? []) if (!existing.verbs.includes(v)) existing.verbs.push(v);
    } else {
      const copy: PolicyRule = { apiGroups: [...r.apiGroups!], resources: [...r.resources!], verbs: [...(r.verbs ?? [])] };
      simple.set(key, copy);
      out.push(copy);
    }
  }
  return out;
}

/** Go's %q of a []string: ["a" "b"]. */
export function goQuotedList(list: readonly string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;
}

/** Upstream's CompactString: {APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}. */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${goQuotedList(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${goQuotedList(r.resources)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${goQuotedList(r.nonResourceURLs)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${goQuotedList(r.resourceNames)}`);
  if (r.verbs?.length) parts.push(`Verbs:${goQuotedList(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

// Nodes (upstream pkg/registry/core/node/strategy.go, SetDefaults_NodeStatus, ValidateNode/ValidateNodeUpdate).
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isValidCIDR, isValidLabelValue, parseCIDRSloppy, validateLabelName } from '../../../machinery/validation.js';
import type { Strategy } from '../strategy.js';
import { asArray, asObject, asString, asStrings, decodeQuantity, type Json } from '../group-validation.js';
import { validateTaintEffect } from '../validation/pod.js';

function validateTaints(taints: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  asArray(taints).forEach((raw, i) => {
    const t = asObject(raw) ?? {};
    const p = `${path}[${i}]`;
    const key = asString(t.key);
    errs.push(...validateLabelName(key, `${p}.key`));
    const value = asString(t.value);
    const valueErrs = isValidLabelValue(value);
    if (valueErrs.length) errs.push(fieldErr.invalid(`${p}.value`, value, valueErrs.join(';')));
    errs.push(...validateTaintEffect(t.effect, false, `${p}.effect`));
    const pair = `${asString(t.effect)}\u0000${key}`;
    if (seen.has(pair)) errs.push({ ...fieldErr.duplicate(p, t), detail: 'taints must be unique by key and effect pair' });
    seen.add(pair);
  });
  return errs;
}

function validatePodCIDRs(cidrs: string[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  cidrs.forEach((c, i) => errs.push(...invalidEach(`${path}[${i}]`, c, isValidCIDR(c))));
  if (errs.length === 0 && cidrs.length > 1) {
    const families = cidrs.map((c) => (parseCIDRSloppy(c)?.ip.length === 16 ? 6 : 4));
    if (cidrs.length > 2 || families[0] === families[1]) {
      errs.push(fieldErr.invalid(path, cidrs, 'may specify no more than one CIDR for each IP family'));
    }
  }
  return errs;
}

function validateResourceList(list: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [name, v] of Object.entries(asObject(list) ?? {})) {
    const d = decodeQuantity(v, `${path}[${name}]`);
    errs.push(...d.errs);
    if (d.quantity && d.quantity.sign() < 0) errs.push(fieldErr.invalid(`${path}[${name}]`, d.quantity.toString(), 'must be greater than or equal to 0'));
  }
  return errs;
}

function validateNode(obj: Record<string, unknown>): FieldError[] {
  const spec: Json = asObject(obj.spec) ?? {};
  const status: Json = asObject(obj.status) ?? {};
  return [
    ...validateTaints(spec.taints, 'spec.taints'),
    ...validatePodCIDRs(asStrings(spec.podCIDRs), 'spec.podCIDRs'),
    ...validateResourceList(status.capacity, 'status.capacity'),
    ...validateResourceList(status.allocatable, 'status.allocatable'),
  ];
}

const CIDR_CHANGE = 'node updates may not change podCIDR except from "" to valid';

export const nodeStrategy: Strategy = {
  // Nodes register with their status (capacity, addresses) in the create request.
  keepsStatusOnCreate: true,
  defaults(obj) {
    const status = asObject(obj.status);
    if (status && status.allocatable === undefined && asObject(status.capacity)) status.allocatable = { ...asObject(status.capacity) };
  },
  validate: validateNode,
  validateUpdate(obj, old) {
    const spec = asObject(obj.spec) ?? {};
    const oldSpec = asObject(old.spec) ?? {};
    const errs: FieldError[] = [];
    const oldCIDRs = asStrings(oldSpec.podCIDRs);
    const newCIDRs = asStrings(spec.podCIDRs);
    // A node may be given CIDRs once; after that they never change.
    if (oldCIDRs.length > 0 && (oldCIDRs.length !== newCIDRs.length || oldCIDRs.some((c, i) => c !== newCIDRs[i]))) {
      errs.push(fieldErr.forbidden('spec.podCIDRs', CIDR_CHANGE));
    }
    const oldProvider = asString(oldSpec.providerID);
    if (oldProvider && oldProvider !== asString(spec.providerID)) {
      errs.push(fieldErr.forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
    }
    return errs;
  },
  validateStatusUpdate: validateNode,
  selectableFields(obj) {
    return { 'spec.unschedulable': String(asObject(obj.spec)?.unschedulable === true) };
  },
};

export { nodeStrategy as Strategy };

// apiextensions.k8s.io/v1 CustomResourceDefinition: upstream's v1 defaults, the CRD strategy's status handling
// (storedVersions), and ValidateCustomResourceDefinition(Update/StatusUpdate) for names, scope, versions, schema
// presence, the structural basics of schemas and conversion. acceptedNames and conditions belong to a controller.
import type {
  CustomResourceColumnDefinition,
  CustomResourceConversion,
  CustomResourceDefinition,
  CustomResourceDefinitionNames,
  CustomResourceDefinitionSpec,
  CustomResourceDefinitionVersion,
  JSONSchemaProps,
} from 'kubernetes-types/apiextensions/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { isDNS1035Label, isDNS1123Subdomain, validateImmutableField } from '../../../machinery/validation.js';
import type { Strategy as KindStrategy } from '../strategy.js';
import { validateClientConfig } from '../validatingwebhookconfigurations/strategy.js';

const SCOPES = ['Cluster', 'Namespaced'];
const CONVERSION_STRATEGIES = ['None', 'Webhook'];
const PRINTER_COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];
const PRINTER_COLUMN_FORMATS = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'password'];
const CONVERSION_REVIEW_VERSIONS = ['v1', 'v1beta1'];

type Spec = Partial<CustomResourceDefinitionSpec>;
type Names = Partial<CustomResourceDefinitionNames>;

const crdOf = (obj: KubeObject) => obj as unknown as CustomResourceDefinition;

/** Upstream's SetDefaults_CustomResourceDefinitionSpec plus the webhook service port default. */
function defaultCRD(obj: KubeObject): void {
  const spec: Spec = (crdOf(obj).spec ??= {} as CustomResourceDefinitionSpec);
  const names: Names = (spec.names ??= {} as CustomResourceDefinitionNames);
  if (!names.singular && names.kind) names.singular = names.kind.toLowerCase();
  if (!names.listKind && names.kind) names.listKind = `${names.kind}List`;
  spec.conversion ??= { strategy: 'None' };
  const service = spec.conversion.webhook?.clientConfig?.service;
  if (service) service.port ??= 443;
}

/** Adds the storage version to status.storedVersions, as upstream's strategy does on create and update. */
function recordStorageVersion(crd: CustomResourceDefinition): void {
  const storage = (crd.spec?.versions ?? []).find((v) => v.storage);
  if (!storage) return;
  const status = (crd.status ??= { acceptedNames: { kind: '', plural: '' }, storedVersions: [] });
  status.storedVersions ??= [];
  if (!status.storedVersions.includes(storage.name)) status.storedVersions.push(storage.name);
}

const dns1035 = (path: string, v: string): FieldError[] => {
  const errs = isDNS1035Label(v);
  return errs.length ? [fieldErr.invalid(path, v, errs.join(','))] : [];
};
const mixedCase = (path: string, v: string): FieldError[] => {
  const errs = isDNS1035Label(v.toLowerCase());
  return errs.length ? [fieldErr.invalid(path, v, `may have mixed case, but should otherwise match: ${errs.join(',')}`)] : [];
};

/** Upstream's ValidateCustomResourceDefinitionNames (used for spec.names and status.acceptedNames). */
function validateNames(names: Names, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (names.plural) errs.push(...dns1035(`${path}.plural`, names.plural));
  if (names.singular) errs.push(...dns1035(`${path}.singular`, names.singular));
  if (names.kind) errs.push(...mixedCase(`${path}.kind`, names.kind));
  if (names.listKind) errs.push(...mixedCase(`${path}.listKind`, names.listKind));
  (names.shortNames ?? []).forEach((s, i) => errs.push(...dns1035(`${path}.shortNames[${i}]`, s)));
  if (names.kind && names.kind === names.listKind) errs.push(fieldErr.invalid(`${path}.listKind`, names.listKind, 'kind and listKind may not be the same'));
  (names.categories ?? []).forEach((c, i) => errs.push(...dns1035(`${path}.categories[${i}]`, c)));
  return errs;
}

/** Nodes that may omit `type`: int-or-string values and subtrees that preserve unknown fields. */
function typeExempt(schema: JSONSchemaProps): boolean {
  const ext = schema as Record<string, unknown>;
  return ext['x-kubernetes-int-or-string'] === true || ext['x-kubernetes-preserve-unknown-fields'] === true;
}

/**
 * The structural-schema basics: every node states its type (unless it preserves unknown fields or is
 * int-or-string), and the root is an object.
 */
function validateStructural(schema: JSONSchemaProps, path: string, root: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (root) {
    if (!schema.type) {
      if (!typeExempt(schema)) errs.push(fieldErr.required(`${path}.type`, 'must not be empty at the root'));
    } else if (schema.type !== 'object') errs.push(fieldErr.invalid(`${path}.type`, schema.type, 'must be object at the root'));
  }
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    const propPath = `${path}.properties[${key}]`;
    if (!prop.type && !typeExempt(prop)) errs.push(fieldErr.required(`${propPath}.type`, 'must not be empty for specified object fields'));
    errs.push(...validateStructural(prop, propPath, false));
  }
  const items = schema.items;
  if (items && !Array.isArray(items)) {
    const itemSchema = items as JSONSchemaProps;
    if (!itemSchema.type && !typeExempt(itemSchema)) errs.push(fieldErr.required(`${path}.items.type`, 'must not be empty for specified array items'));
    errs.push(...validateStructural(itemSchema, `${path}.items`, false));
  }
  if (schema.type === 'array' && items == null) errs.push(fieldErr.required(`${path}.items`, 'must be specified'));
  const additional = schema.additionalProperties;
  if (additional && typeof additional === 'object') errs.push(...validateStructural(additional as JSONSchemaProps, `${path}.additionalProperties`, false));
  return errs;
}

function validateColumn(col: Partial<CustomResourceColumnDefinition>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!col.name) errs.push(fieldErr.required(`${path}.name`));
  const types = `must be one of ${PRINTER_COLUMN_TYPES.join(',')}`;
  if (!col.type) errs.push(fieldErr.required(`${path}.type`, types));
  else if (!PRINTER_COLUMN_TYPES.includes(col.type)) errs.push(fieldErr.invalid(`${path}.type`, col.type, types));
  if (col.format && !PRINTER_COLUMN_FORMATS.includes(col.format)) {
    errs.push(fieldErr.invalid(`${path}.format`, col.format, `must be one of ${PRINTER_COLUMN_FORMATS.join(',')}`));
  }
  if (!col.jsonPath) errs.push(fieldErr.required(`${path}.jsonPath`));
  return errs;
}

function validateVersion(v: Partial<CustomResourceDefinitionVersion>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const schema = v.schema?.openAPIV3Schema;
  if (!schema) errs.push(fieldErr.required(`${path}.schema.openAPIV3Schema`, 'schemas are required'));
  else errs.push(...validateStructural(schema, `${path}.schema.openAPIV3Schema`, true));
  (v.additionalPrinterColumns ?? []).forEach((c, i) => errs.push(...validateColumn(c, `${path}.additionalPrinterColumns[${i}]`)));
  const scale = v.subresources?.scale;
  if (scale) {
    if (!scale.specReplicasPath) errs.push(fieldErr.required(`${path}.subresources.scale.specReplicasPath`));
    else if (!scale.specReplicasPath.startsWith('.spec.')) {
      errs.push(fieldErr.invalid(`${path}.subresources.scale.specReplicasPath`, scale.specReplicasPath, 'should be a json path under .spec'));
    }
    if (!scale.statusReplicasPath) errs.push(fieldErr.required(`${path}.subresources.scale.statusReplicasPath`));
    else if (!scale.statusReplicasPath.startsWith('.status.')) {
      errs.push(fieldErr.invalid(`${path}.subresources.scale.statusReplicasPath`, scale.statusReplicasPath, 'should be a json path under .status'));
    }
  }
  return errs;
}

function validateConversion(conversion: CustomResourceConversion | undefined, path: string): FieldError[] {
  if (!conversion) return [];
  const errs: FieldError[] = [];
  const strategy = conversion.strategy ?? '';
  if (strategy === '') errs.push(fieldErr.required(`${path}.strategy`));
  else if (!CONVERSION_STRATEGIES.includes(strategy)) errs.push(fieldErr.notSupported(`${path}.strategy`, strategy, CONVERSION_STRATEGIES));
  const webhook = conversion.webhook;
  if (strategy === 'Webhook') {
    const cc = webhook?.clientConfig;
    if (!cc) errs.push(fieldErr.required(`${path}.webhookClientConfig`, 'required when strategy is set to Webhook'));
    else errs.push(...validateClientConfig(cc, `${path}.webhookClientConfig`));
    const versions = webhook?.conversionReviewVersions ?? [];
    if (versions.length === 0) {
      errs.push(fieldErr.required(`${path}.conversionReviewVersions`, `must specify one of ${CONVERSION_REVIEW_VERSIONS.join(', ')}`));
    } else if (!versions.some((v) => CONVERSION_REVIEW_VERSIONS.includes(v))) {
      errs.push(fieldErr.invalid(`${path}.conversionReviewVersions`, versions, `must include at least one of ${CONVERSION_REVIEW_VERSIONS.join(', ')}`));
    }
  } else if (webhook?.clientConfig) {
    errs.push(fieldErr.forbidden(`${path}.webhookClientConfig`, 'should not be set when strategy is not set to Webhook'));
  }
  return errs;
}

function validateSpec(spec: Spec): FieldError[] {
  const errs: FieldError[] = [];
  const group = spec.group ?? '';
  if (group === '') errs.push(fieldErr.required('spec.group'));
  else if (isDNS1123Subdomain(group).length > 0) errs.push(fieldErr.invalid('spec.group', group, isDNS1123Subdomain(group).join(',')));
  else if (group.split('.').length < 2) errs.push(fieldErr.invalid('spec.group', group, 'should be a domain with at least one dot'));
  const scope = spec.scope ?? '';
  if (scope === '') errs.push(fieldErr.required('spec.scope'));
  else if (!SCOPES.includes(scope)) errs.push(fieldErr.notSupported('spec.scope', scope, SCOPES));

  const versions = spec.versions ?? [];
  const seen = new Set<string>();
  let unique = true;
  let storageCount = 0;
  versions.forEach((v, i) => {
    if (v.storage) storageCount++;
    if (seen.has(v.name)) unique = false;
    seen.add(v.name);
    errs.push(...dns1035(`spec.versions[${i}].name`, v.name ?? ''));
    errs.push(...validateVersion(v, `spec.versions[${i}]`));
  });
  if (!unique) errs.push(fieldErr.invalid('spec.versions', versions, 'must contain unique version names'));
  if (storageCount !== 1) errs.push(fieldErr.invalid('spec.versions', versions, 'must have exactly one version marked as storage version'));

  const names: Names = spec.names ?? {};
  for (const key of ['plural', 'singular', 'kind', 'listKind'] as const) {
    if (!names[key]) errs.push(fieldErr.required(`spec.names.${key}`));
  }
  errs.push(...validateNames(names, 'spec.names'));
  errs.push(...validateConversion(spec.conversion, 'spec.conversion'));
  return errs;
}

/** Upstream's ValidateCustomResourceDefinitionStoredVersions. */
function validateStoredVersions(crd: CustomResourceDefinition): FieldError[] {
  const stored = crd.status?.storedVersions ?? [];
  const errs: FieldError[] = [];
  if (stored.length === 0) errs.push(fieldErr.invalid('status.storedVersions', stored, 'must have at least one stored version'));
  const remaining = new Map(stored.map((v, i) => [v, i]));
  for (const v of crd.spec?.versions ?? []) {
    if (v.storage && !remaining.has(v.name)) errs.push(fieldErr.invalid('status.storedVersions', v, `must have the storage version ${v.name}`));
    remaining.delete(v.name);
  }
  for (const [v, i] of remaining) errs.push(fieldErr.invalid(`status.storedVersions[${i}]`, v, 'must appear in spec.versions'));
  return errs;
}

function validateCRD(obj: KubeObject): FieldError[] {
  const crd = crdOf(obj);
  const spec: Spec = crd.spec ?? {};
  const errs: FieldError[] = [];
  const name = crd.metadata?.name ?? '';
  if (name !== `${spec.names?.plural ?? ''}.${spec.group ?? ''}`) errs.push(fieldErr.invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  errs.push(...validateSpec(spec));
  if (crd.status) {
    errs.push(...validateNames(crd.status.acceptedNames ?? {}, 'status.acceptedNames'));
    errs.push(...validateStoredVersions(crd));
  }
  return errs;
}

function isEstablished(crd: CustomResourceDefinition): boolean {
  return (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
}

export const Strategy: KindStrategy = {
  defaults: defaultCRD,
  prepareForCreate(obj) {
    const crd = crdOf(obj);
    crd.status = { acceptedNames: { kind: '', plural: '' }, storedVersions: [] };
    recordStorageVersion(crd);
  },
  prepareForUpdate(obj) {
    recordStorageVersion(crdOf(obj));
  },
  validate: validateCRD,
  validateUpdate(obj, old) {
    const spec: Spec = crdOf(obj).spec ?? {};
    const oldSpec: Spec = crdOf(old).spec ?? {};
    const errs: FieldError[] = [];
    // Scope and kind decide how objects are stored, so they are fixed once the CRD is serving.
    if (isEstablished(crdOf(old))) {
      errs.push(...validateImmutableField(spec.scope, oldSpec.scope, 'spec.scope'));
      errs.push(...validateImmutableField(spec.names?.kind, oldSpec.names?.kind, 'spec.names.kind'));
    }
    errs.push(...validateImmutableField(spec.group, oldSpec.group, 'spec.group'));
    errs.push(...validateImmutableField(spec.names?.plural, oldSpec.names?.plural, 'spec.names.plural'));
    return errs;
  },
  validateStatusUpdate(obj) {
    const crd = crdOf(obj);
    return [...validateNames(crd.status?.acceptedNames ?? {}, 'status.acceptedNames'), ...validateStoredVersions(crd)];
  },
};

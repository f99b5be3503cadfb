// Generates the OpenAPI v3 component schemas of the built-in types from the kubernetes-types declarations (doc
// comments become descriptions, literal apiVersion/kind become x-kubernetes-group-version-kind), merges in the
// strategic-merge/list metadata of src/api/schema-extensions.ts, and pre-builds each served group-version's
// document with its hash, so the server only reads files at run time.
// Output: dist/generated/openapi/{schemas.json, index.json, <api__v1|apis__G__V>.json}. Run after tsc.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(new URL('..', import.meta.url).pathname);
const typesRoot = join(root, 'node_modules/kubernetes-types');
const outDir = join(root, 'dist/generated/openapi');
const REF = '#/components/schemas/';

const { BUILTIN_RESOURCES, GROUP_ORDER } = await import(join(root, 'dist/src/api/catalog.js'));
const { SCHEMA_EXTENSIONS } = await import(join(root, 'dist/src/api/schema-extensions.js'));
const { buildGroupVersionDocument, serializeDocument } = await import(join(root, 'dist/src/apiserver/openapi/document.js'));
const { groupVersionPath, kindKey } = await import(join(root, 'dist/src/apiserver/openapi/types.js'));

// ---- module -> upstream package -------------------------------------------------------------------------------
function packageOf(moduleKey) {
  switch (moduleKey) {
    case 'meta/v1':
      return 'io.k8s.apimachinery.pkg.apis.meta.v1';
    case 'runtime':
      return 'io.k8s.apimachinery.pkg.runtime';
    case 'api/resource':
      return 'io.k8s.apimachinery.pkg.api.resource';
    case 'version':
      return 'io.k8s.apimachinery.pkg.version';
    case 'apiextensions/v1':
      return 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1';
    default:
      return 'io.k8s.api.' + moduleKey.replace('/', '.');
  }
}
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

function walk(dir, out = []) {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (n.endsWith('.d.ts')) out.push(p);
  }
  return out;
}
// Alpha/beta versions are not served, so their types stay out of the documents.
const modules = walk(typesRoot)
  .map((file) => ({ file, key: relative(typesRoot, file).replace(/\.d\.ts$/, '') }))
  .filter((m) => !/\/v\d+(alpha|beta)\d*$/.test(m.key));

// ---- client-node's generated models carry upstream's number/byte formats, which TypeScript types cannot ---------
const formats = loadClientFormats();
function loadClientFormats() {
  const dir = join(root, 'node_modules/@kubernetes/client-node/dist/gen/models');
  const byModel = new Map();
  if (!existsSync(dir)) {
    console.warn('gen-openapi: @kubernetes/client-node not installed; integers get format int32');
    return byModel;
  }
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.js')) continue;
    const m = /\.attributeTypeMap = (\[[\s\S]*?\]);/.exec(readFileSync(join(dir, f), 'utf8'));
    if (!m) continue;
    const fields = new Map();
    for (const a of JSON.parse(m[1])) fields.set(a.baseName, { type: a.type, format: a.format });
    byModel.set(f.slice(0, -3), fields);
  }
  return byModel;
}
function formatFieldsFor(moduleKey, name) {
  const [group, version] = moduleKey.split('/');
  if (!version) return undefined;
  const v = version[0].toUpperCase() + version.slice(1);
  const g = group[0].toUpperCase() + group.slice(1);
  return formats.get(`${g}${v}${name}`) ?? formats.get(`${v}${name}`);
}

// ---- declarations ----------------------------------------------------------------------------------------------
function docOf(node, sf) {
  const ranges = ts.getLeadingCommentRanges(sf.text, node.getFullStart()) ?? [];
  const last = ranges.filter((r) => sf.text.startsWith('/**', r.pos)).pop();
  if (!last) return undefined;
  const raw = sf.text.slice(last.pos + 3, last.end - 2);
  const lines = raw.split('\n').map((l) => l.replace(/^\s*\* ?/, ''));
  const text = lines.join('\n').trim();
  return text || undefined;
}

const decls = new Map(); // component name -> { node, sf, moduleKey, kind: 'interface' | 'alias' }
const scopes = new Map(); // moduleKey -> Map(local name -> component name)
for (const { file, key } of modules) {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const scope = new Map();
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) {
      const target = relative(typesRoot, resolve(dirname(file), st.moduleSpecifier.text));
      for (const el of st.importClause?.namedBindings?.elements ?? []) scope.set(el.name.text, `${packageOf(target)}.${(el.propertyName ?? el.name).text}`);
    } else if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) {
      const name = `${packageOf(key)}.${st.name.text}`;
      scope.set(st.name.text, name);
      decls.set(name, { node: st, sf, moduleKey: key, kind: ts.isInterfaceDeclaration(st) ? 'interface' : 'alias' });
    }
  }
  scopes.set(key, scope);
}
const isStruct = (name) => decls.get(name)?.kind === 'interface';

/** The schema of a type expression; $refs stay bare here and get wrapped where siblings are added. */
function typeSchema(node, moduleKey) {
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword:
      return { type: 'string' };
    case ts.SyntaxKind.NumberKeyword:
      return { type: 'integer' };
    case ts.SyntaxKind.BooleanKeyword:
      return { type: 'boolean' };
    case ts.SyntaxKind.LiteralType:
      if (ts.isStringLiteral(node.literal)) return { type: 'string' };
      return { type: ts.isNumericLiteral(node.literal) ? 'integer' : 'boolean' };
    case ts.SyntaxKind.ArrayType:
      return { type: 'array', items: itemSchema(node.elementType, moduleKey) };
    case ts.SyntaxKind.TypeReference: {
      const n = node.typeName.getText();
      if (n === 'Array') return { type: 'array', items: itemSchema(node.typeArguments[0], moduleKey) };
      const target = scopes.get(moduleKey).get(n);
      if (!target) throw new Error(`gen-openapi: unresolved type ${n} in ${moduleKey}`);
      return { $ref: REF + target };
    }
    case ts.SyntaxKind.UnionType: {
      const kinds = node.types.map((t) => t.kind).sort();
      if (kinds.length === 2 && kinds.includes(ts.SyntaxKind.NumberKeyword) && kinds.includes(ts.SyntaxKind.StringKeyword)) return { $ref: REF + INT_OR_STRING };
      return {};
    }
    case ts.SyntaxKind.TypeLiteral: {
      const index = node.members.find(ts.isIndexSignatureDeclaration);
      if (index) return { type: 'object', additionalProperties: itemSchema(index.type, moduleKey) };
      return { type: 'object' };
    }
    case ts.SyntaxKind.ParenthesizedType:
      return typeSchema(node.type, moduleKey);
    default:
      return {};
  }
}
/** Array items and map values: a struct element has upstream's zero default {} and so an allOf-wrapped $ref. */
function itemSchema(node, moduleKey) {
  const s = typeSchema(node, moduleKey);
  if (s.$ref && isStruct(s.$ref.slice(REF.length))) return { allOf: [s], default: {} };
  return s;
}

const ZERO = { string: '', integer: 0, boolean: false };
// Fields that upstream declares as non-pointer structs even where optional; their zero default is {}.
const VALUE_STRUCT_FIELDS = new Set(['metadata', 'spec', 'status']);

function applyFormat(schema, fmt) {
  if (!fmt || !fmt.format) return;
  const target = schema.type === 'array' ? schema.items : schema.type === 'object' && typeof schema.additionalProperties === 'object' ? schema.additionalProperties : schema;
  if (!target || target.$ref || target.allOf) return;
  if (fmt.format === 'double' || fmt.format === 'float') target.type = 'number';
  if (target.type === 'integer' || target.type === 'number' || (target.type === 'string' && fmt.format === 'byte')) target.format = fmt.format;
}

function interfaceSchema(name, { node, sf, moduleKey }) {
  const schema = {};
  const description = docOf(node, sf);
  if (description) schema.description = description;
  const props = {};
  const required = [];
  const literal = {};
  const formatFields = formatFieldsFor(moduleKey, node.name.text);
  for (const m of node.members) {
    if (!ts.isPropertySignature(m) || !m.type) continue;
    const field = m.name.getText().replace(/^["']|["']$/g, '');
    if (ts.isLiteralTypeNode(m.type) && ts.isStringLiteral(m.type.literal)) literal[field] = m.type.literal.text;
    let s = typeSchema(m.type, moduleKey);
    const isRequired = !m.questionToken;
    if (isRequired) required.push(field);
    const doc = docOf(m, sf);
    if (s.$ref) {
      const target = s.$ref.slice(REF.length);
      const wrapped = { allOf: [s] };
      if (isStruct(target) && (VALUE_STRUCT_FIELDS.has(field) || (isRequired && !target.endsWith('.LabelSelector')))) wrapped.default = {};
      s = wrapped;
    } else {
      applyFormat(s, formatFields?.get(field));
      if (isRequired && s.type in ZERO && s.format !== 'byte') s.default = ZERO[s.type];
    }
    if (doc) s.description = doc;
    props[field] = s;
  }
  if (Object.keys(props).length) schema.properties = props;
  if (required.length) schema.required = required;
  if (!(name.endsWith('.JSON') && name.includes('apiextensions'))) schema.type = 'object';
  if (literal.apiVersion && literal.kind) {
    const i = literal.apiVersion.indexOf('/');
    const [group, version] = i < 0 ? ['', literal.apiVersion] : [literal.apiVersion.slice(0, i), literal.apiVersion.slice(i + 1)];
    schema['x-kubernetes-group-version-kind'] = [{ group, kind: literal.kind, version }];
  }
  return schema;
}

function aliasSchema(name, { node, sf }) {
  const description = docOf(node, sf);
  const base = description ? { description } : {};
  if (name.endsWith('meta.v1.Time') || name.endsWith('meta.v1.MicroTime')) return { ...base, format: 'date-time', type: 'string' };
  if (node.type.kind === ts.SyntaxKind.StringKeyword) return { ...base, type: 'string' };
  // JSONSchemaPropsOrArray/OrBool/OrStringArray: upstream leaves these untyped.
  return base;
}

const schemas = {};
for (const [name, d] of decls) schemas[name] = d.kind === 'interface' ? interfaceSchema(name, d) : aliasSchema(name, d);
// v3 gives the two scalar wrappers oneOf types rather than `type: string` (v2 keeps the string form), so clients
// such as kubectl explain show them by name.
schemas[INT_OR_STRING] = {
  description: 'IntOrString holds either an int32 or a string. In JSON it is written as a plain number or a plain string.',
  format: 'int-or-string',
  oneOf: [{ type: 'integer' }, { type: 'string' }],
};
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
schemas[QUANTITY] = { description: schemas[QUANTITY].description, oneOf: [{ type: 'string' }, { type: 'number' }] };

// Fields kubernetes-types leaves out: those of structs Go inlines (admissionregistration's Rule, authorization's
// ResourceRule) and the x-kubernetes-* extensions of JSONSchemaProps. Without them strict field validation would
// reject valid webhook configurations and CRDs.
const stringList = (description) => ({ description, items: { default: '', type: 'string' }, type: 'array', 'x-kubernetes-list-type': 'atomic' });
const APIEXT_V1 = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.';
const MISSING_FIELDS = {
  'io.k8s.api.admissionregistration.v1.RuleWithOperations': {
    resources: stringList('Resources this rule applies to, e.g. "pods", "pods/log", "*", "*/scale".'),
    scope: { description: 'Scope of the rule: "Cluster", "Namespaced" or "*" (the default).', type: 'string' },
  },
  'io.k8s.api.authorization.v1.ResourceRule': {
    resources: stringList('Resources the rule applies to; "*" means all.'),
    verbs: stringList('Verbs the rule allows, e.g. get, list, watch, create; "*" means all.'),
  },
  [APIEXT_V1 + 'JSONSchemaProps']: {
    'x-kubernetes-embedded-resource': { description: 'The object is a complete resource: apiVersion, kind and metadata are implied.', type: 'boolean' },
    'x-kubernetes-int-or-string': { description: 'The value may be an integer or a string.', type: 'boolean' },
    'x-kubernetes-list-map-keys': stringList('Keys that identify the items of a list whose x-kubernetes-list-type is map.'),
    'x-kubernetes-list-type': { description: 'List semantics for merging and apply: atomic, set or map.', type: 'string' },
    'x-kubernetes-map-type': { description: 'Map semantics for merging and apply: granular or atomic.', type: 'string' },
    'x-kubernetes-preserve-unknown-fields': { description: 'Fields not declared in the schema are kept rather than pruned.', type: 'boolean' },
    'x-kubernetes-validations': {
      description: 'CEL validation rules for the value at this position of the schema.',
      items: { allOf: [{ $ref: REF + APIEXT_V1 + 'ValidationRule' }], default: {} },
      type: 'array',
      'x-kubernetes-list-map-keys': ['rule'],
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-patch-merge-key': 'rule',
      'x-kubernetes-patch-strategy': 'merge',
    },
  },
};
MISSING_FIELDS['io.k8s.api.admissionregistration.v1.NamedRuleWithOperations'] = MISSING_FIELDS['io.k8s.api.admissionregistration.v1.RuleWithOperations'];
for (const [name, fields] of Object.entries(MISSING_FIELDS)) {
  const s = schemas[name];
  for (const [field, schema] of Object.entries(fields)) if (!s.properties[field]) s.properties[field] = structuredClone(schema);
}

// Kinds that upstream serves in every group-version (DeleteOptions, WatchEvent) and Status.
const servedGroupVersions = GROUP_ORDER.flatMap((g) => g.versions.map((version) => ({ group: g.group, version })));
for (const kind of ['DeleteOptions', 'WatchEvent']) {
  schemas[`io.k8s.apimachinery.pkg.apis.meta.v1.${kind}`]['x-kubernetes-group-version-kind'] = servedGroupVersions.map(({ group, version }) => ({ group, kind, version }));
}
schemas['io.k8s.apimachinery.pkg.apis.meta.v1.Status']['x-kubernetes-group-version-kind'] = [{ group: '', kind: 'Status', version: 'v1' }];

// ---- strategic merge / list metadata ---------------------------------------------------------------------------
const problems = [];
for (const [name, fields] of Object.entries(SCHEMA_EXTENSIONS)) {
  const s = schemas[name];
  if (!s) {
    problems.push(`${name}: no such schema`);
    continue;
  }
  for (const [field, ext] of Object.entries(fields)) {
    const target = field === '' ? s : s.properties?.[field];
    if (!target) {
      problems.push(`${name}.${field}: no such field`);
      continue;
    }
    Object.assign(target, ext);
  }
}
if (problems.length) {
  console.error('gen-openapi: src/api/schema-extensions.ts names unknown schemas or fields:\n  ' + problems.join('\n  '));
  process.exit(1);
}

// Upstream documents list object keys in sorted order; sorting keeps the output (and so its hash) stable.
function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}
const sorted = sortKeys(schemas);

// ---- per group-version documents --------------------------------------------------------------------------------
const kinds = {};
for (const [name, s] of Object.entries(sorted)) {
  for (const gvk of s['x-kubernetes-group-version-kind'] ?? []) {
    const k = kindKey(gvk.group, gvk.version, gvk.kind);
    // A kind served from meta (DeleteOptions in every group) never shadows a group's own type.
    if (!(k in kinds) || !name.startsWith('io.k8s.apimachinery.')) kinds[k] = name;
  }
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'schemas.json'), JSON.stringify(sorted));
const groupVersions = {};
for (const { group, version } of servedGroupVersions) {
  const resources = BUILTIN_RESOURCES.filter((r) => r.group === group && r.version === version);
  const doc = buildGroupVersionDocument({ group, version, resources, schemas: sorted, kinds, strategicMergePatch: true });
  const { body, hash } = serializeDocument(doc);
  const path = groupVersionPath(group, version);
  const file = path.replaceAll('/', '__') + '.json';
  writeFileSync(join(outDir, file), body);
  groupVersions[path] = { file, hash };
}
writeFileSync(join(outDir, 'index.json'), JSON.stringify({ groupVersions, kinds }));
console.log(`gen-openapi: ${Object.keys(sorted).length} schemas, ${Object.keys(groupVersions).length} group-versions -> ${relative(root, outDir)}`);

// The Swagger 2.0 document (/openapi/v2), derived from the v3 group-version documents: definitions instead of
// components, bare $refs (v2 allows siblings next to $ref), body parameters instead of request bodies.
import type { OpenAPIDocument, OperationObject, ParameterObject, PathItemObject, SchemaObject } from './types.js';
import { COMPONENT_REF_PREFIX, type HttpMethod } from './types.js';

const V2_REF_PREFIX = '#/definitions/';

type V2Value = null | boolean | number | string | V2Value[] | { [k: string]: V2Value };

/** Rewrites a v3 schema for v2: `#/definitions/` refs, and `allOf: [{$ref}]` collapsed into a bare `$ref`. */
export function toV2Schema(s: SchemaObject): V2Value {
  return convert(s) as V2Value;
}

function convert(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(convert);
  if (!v || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const allOf = o.allOf;
  const single = Array.isArray(allOf) && allOf.length === 1 && typeof (allOf[0] as { $ref?: unknown }).$ref === 'string';
  const v2Ref = (r: string) => (r.startsWith(COMPONENT_REF_PREFIX) ? V2_REF_PREFIX + r.slice(COMPONENT_REF_PREFIX.length) : r);
  for (const [k, x] of Object.entries(o)) {
    if (k === 'allOf' && single) out.$ref = v2Ref((allOf[0] as { $ref: string }).$ref);
    else if (k === '$ref' && typeof x === 'string') out.$ref = v2Ref(x);
    else out[k] = convert(x);
  }
  // A $ref takes no default in v2 output upstream; the default {} of value structs is a v3 addition.
  if (single && out.default !== undefined && typeof out.default === 'object') delete out.default;
  // v2 has no oneOf: the scalar wrappers (Quantity, IntOrString) are strings there.
  if (Array.isArray(out.oneOf) && out.type === undefined && out.oneOf.every((x) => isScalarType(x))) {
    delete out.oneOf;
    out.type = 'string';
  }
  return out;
}

function isScalarType(v: unknown): boolean {
  const t = (v as { type?: unknown } | null)?.type;
  return t === 'string' || t === 'integer' || t === 'number' || t === 'boolean';
}

function v2Parameter(p: ParameterObject): Record<string, unknown> {
  const { schema, ...rest } = p;
  return { ...rest, ...(convert(schema) as Record<string, unknown>) };
}

function v2Operation(op: OperationObject): Record<string, unknown> {
  const { requestBody, responses, parameters, ...rest } = op;
  const params: unknown[] = (parameters ?? []).map(v2Parameter);
  const consumes = requestBody ? Object.keys(requestBody.content) : undefined;
  if (requestBody) {
    const first = Object.values(requestBody.content)[0];
    params.unshift({ name: 'body', in: 'body', required: true, schema: convert(first.schema) });
  }
  const v2Responses: Record<string, unknown> = {};
  const produces = new Set<string>();
  for (const [code, r] of Object.entries(responses)) {
    const media = r.content ? Object.entries(r.content) : [];
    for (const [m] of media) produces.add(m);
    v2Responses[code] = media.length ? { description: r.description, schema: convert(media[0][1].schema) } : { description: r.description };
  }
  return {
    ...rest,
    ...(consumes ? { consumes } : {}),
    ...(produces.size ? { produces: [...produces] } : {}),
    ...(params.length ? { parameters: params } : {}),
    responses: v2Responses,
    schemes: ['https'],
  };
}

/** One Swagger 2.0 document covering every given v3 group-version document. */
export function buildV2Document(docs: readonly OpenAPIDocument[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const definitions: Record<string, unknown> = {};
  for (const doc of docs) {
    for (const [p, item] of Object.entries(doc.paths) as [string, PathItemObject][]) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(item)) {
        if (k === 'parameters') out.parameters = (v as ParameterObject[]).map(v2Parameter);
        else out[k as HttpMethod] = v2Operation(v as OperationObject);
      }
      paths[p] = out;
    }
    for (const [name, s] of Object.entries(doc.components.schemas)) definitions[name] ??= convert(s);
  }
  const sortedDefs = Object.fromEntries(Object.keys(definitions).sort().map((k) => [k, definitions[k]]));
  const sortedPaths = Object.fromEntries(Object.keys(paths).sort().map((k) => [k, paths[k]]));
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: 'v1.31.0' },
    paths: sortedPaths,
    definitions: sortedDefs,
    securityDefinitions: { BearerToken: { type: 'apiKey', in: 'header', name: 'authorization', description: 'Bearer token authentication' } },
    security: [{ BearerToken: [] }],
  };
}

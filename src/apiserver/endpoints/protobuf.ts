// Protobuf request bodies (application/vnd.kubernetes.protobuf), as kubectl 1.32+ sends for `create namespace|
// configmap|deployment`, `create rolebinding` and `auth can-i`: the "k8s\0" magic, a runtime.Unknown envelope naming
// apiVersion/kind, and the typed message inside. The message is decoded with the schema in src/api/proto/k8s.json
// and turned into the object's JSON form, so everything after decoding is the same as for a JSON body.
import { existsSync, readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { formatGoDuration } from '../../machinery/duration.js';
import { ApiError } from '../../machinery/errors.js';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const META = '.k8s.io.apimachinery.pkg.apis.meta.v1.';

let schema: protobuf.Root | undefined;

/** k8s.json stays in src/api/proto (dist/src/apiserver/endpoints/protobuf.js -> src/api/proto/k8s.json). */
function root(): protobuf.Root {
  if (schema) return schema;
  const candidates = [new URL('../../api/proto/k8s.json', import.meta.url), new URL('../../../../src/api/proto/k8s.json', import.meta.url)];
  const file = candidates.find((u) => existsSync(u));
  if (!file) throw new Error('the protobuf schema src/api/proto/k8s.json is missing');
  schema = protobuf.Root.fromJSON(JSON.parse(readFileSync(file, 'utf8')) as protobuf.INamespace);
  schema.resolveAll();
  return schema;
}

/** The proto package of a group/version: "" -> core, "rbac.authorization.k8s.io" -> rbac, "apps" -> apps. */
function protoPackage(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? 'core' : apiVersion.slice(0, slash).split('.')[0];
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  return `k8s.io.api.${group}.${version}`;
}

/**
 * Decodes a protobuf object body into the JSON object it encodes. A body that is not a Kubernetes protobuf message
 * is 400 BadRequest; a kind with no protobuf schema here is 415, as before.
 */
export function decodeProtobufObject(body: Buffer, intoKind = 'Object'): Record<string, unknown> {
  const unrecognized = (why: string) => ApiError.badRequest(`the object provided is unrecognized (must be of type ${intoKind}): ${why}`);
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw unrecognized('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  }
  const envelopeType = root().lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  let envelope: protobuf.Message;
  try {
    envelope = envelopeType.decode(body.subarray(MAGIC.length));
  } catch (err) {
    throw unrecognized((err as Error).message);
  }
  const fields = envelope as unknown as { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array; contentEncoding?: string };
  const apiVersion = fields.typeMeta?.apiVersion ?? '';
  const kind = fields.typeMeta?.kind ?? '';
  if (!apiVersion || !kind) throw unrecognized("Object 'Kind' is missing in protobuf envelope");
  if (fields.contentEncoding) throw ApiError.unsupportedMediaType(`application/vnd.kubernetes.protobuf with contentEncoding ${fields.contentEncoding}`);
  let type: protobuf.Type;
  try {
    type = root().lookupType(`${protoPackage(apiVersion)}.${kind}`);
  } catch {
    throw ApiError.unsupportedMediaType(`application/vnd.kubernetes.protobuf (no protobuf schema for ${apiVersion}, Kind=${kind})`);
  }
  let message: protobuf.Message;
  try {
    message = type.decode(fields.raw ?? new Uint8Array());
  } catch (err) {
    throw unrecognized((err as Error).message);
  }
  return { apiVersion, kind, ...messageToJson(message, type) };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * Go writes every non-pointer field to the wire, zero or not, and pointer fields only when set; its JSON leaves zero
 * non-pointer fields out where they are omitempty. The schema marks the scalar fields whose zero survives (pointers
 * and fields without omitempty) with keep_zero, read from the Go types by scripts/extract-k8s-proto.mjs.
 */
function keepsZero(field: protobuf.Field): boolean {
  return field.options?.keep_zero === true;
}

function isZero(v: unknown): boolean {
  if (v === '' || v === 0 || v === false) return true;
  return typeof v === 'object' && v !== null && 'isZero' in v && (v as { isZero(): boolean }).isZero();
}

/** A decoded message as Kubernetes writes it in JSON; fields absent on the wire stay absent. */
function messageToJson(message: protobuf.Message, type: protobuf.Type): Record<string, Json> {
  const out: Record<string, Json> = {};
  const values = message as unknown as Record<string, unknown>;
  for (const field of type.fieldsArray) {
    if (!Object.prototype.hasOwnProperty.call(values, field.name)) continue;
    const value = values[field.name];
    // Empty lists and maps are omitted in JSON (omitempty), as upstream encodes them.
    if (field instanceof protobuf.MapField) {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length) out[field.name] = Object.fromEntries(entries.map(([k, v]) => [k, valueToJson(v, field)]));
    } else if (field.repeated) {
      const list = value as unknown[];
      if (list.length) out[field.name] = list.map((v) => valueToJson(v, field));
    } else if (!(field.resolvedType === null && isZero(value) && !keepsZero(field))) {
      out[field.name] = valueToJson(value, field);
    }
  }
  return out;
}

function valueToJson(value: unknown, field: protobuf.Field): Json {
  const t = field.resolve().resolvedType;
  if (t instanceof protobuf.Type) {
    const special = wellKnownToJson(value as protobuf.Message, t);
    return special !== undefined ? special : messageToJson(value as protobuf.Message, t);
  }
  if (t instanceof protobuf.Enum) return t.valuesById[value as number] ?? (value as number);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'object' && value !== null && 'toNumber' in value) return (value as { toNumber(): number }).toNumber();
  return value as Json;
}

/** Types whose JSON form is not their message shape (Time, Quantity, IntOrString, raw JSON). */
function wellKnownToJson(message: protobuf.Message, type: protobuf.Type): Json | undefined {
  const v = message as unknown as Record<string, unknown>;
  const num = (x: unknown): number => (typeof x === 'object' && x !== null && 'toNumber' in x ? (x as { toNumber(): number }).toNumber() : Number(x ?? 0));
  switch (type.fullName) {
    case `${META}Time`: {
      const seconds = num(v.seconds);
      // The zero time is null in JSON (kubectl sends it for metadata.creationTimestamp).
      return seconds === 0 && num(v.nanos) === 0 ? null : new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    case `${META}MicroTime`: {
      const seconds = num(v.seconds);
      if (seconds === 0 && num(v.nanos) === 0) return null;
      const micros = String(Math.floor(num(v.nanos) / 1000)).padStart(6, '0');
      return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, `.${micros}Z`);
    }
    case `${META}Duration`:
      return formatGoDuration(num(v.duration));
    case `${META}FieldsV1`:
    case '.k8s.io.apimachinery.pkg.runtime.RawExtension': {
      const raw = (v.Raw ?? v.raw) as Uint8Array | undefined;
      return raw && raw.length ? (JSON.parse(Buffer.from(raw).toString('utf8')) as Json) : null;
    }
    case '.k8s.io.apimachinery.pkg.api.resource.Quantity':
      return String(v.string ?? '');
    case '.k8s.io.apimachinery.pkg.util.intstr.IntOrString':
      return num(v.type) === 1 ? String(v.strVal ?? '') : num(v.intVal);
    default:
      return undefined;
  }
}

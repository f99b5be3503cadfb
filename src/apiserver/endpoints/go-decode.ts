// Upstream decodes request bodies with Go's encoding/json into typed structs, and its error messages surface to
// clients verbatim ("json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32").
// This module reproduces those messages: Go's JSON syntax errors, Go's type errors checked against the kind's
// OpenAPI schema, and the body summary upstream appends to undecodable bodies.
import { isPlainObject } from '../../api/object.js';
import { COMPONENT_REF_PREFIX, type SchemaObject } from '../openapi/types.js';

/** Go's quoteChar: the offending byte as a quoted character literal. */
function quoteChar(c: number): string {
  if (c === 0x27) return `'\\''`;
  if (c === 0x22) return `'"'`;
  const escapes: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 0x5c: '\\\\' };
  if (escapes[c]) return `'${escapes[c]}'`;
  if (c < 0x20 || c === 0x7f) return `'\\x${c.toString(16).padStart(2, '0')}'`;
  // The scanner works on bytes; Go quotes a byte >= 0x80 as the Latin-1 rune of the same number.
  if ((c >= 0x80 && c <= 0xa0) || c === 0xad) return `'\\u${c.toString(16).padStart(4, '0')}'`;
  return `'${String.fromCharCode(c)}'`;
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

class SyntaxError extends Error {}

/** Go's scanner refuses deeper nesting (and so never recurses without bound). */
const MAX_NESTING_DEPTH = 10000;

/**
 * Parses JSON, refusing what Go's scanner refuses, with its error text. JSON.parse accepts the same grammar except
 * for Go's nesting limit, which only a body longer than the limit can reach: the (slower) scanner runs only then, or
 * to word the error of a body JSON.parse refused.
 */
export function parseJsonAsGo(data: Buffer): { value: unknown } | { error: string } {
  if (data.length <= MAX_NESTING_DEPTH) {
    try {
      return { value: JSON.parse(data.toString('utf8')) as unknown };
    } catch {
      // worded below
    }
  }
  const syntax = goJsonSyntaxError(data);
  if (syntax) return { error: syntax };
  return { value: JSON.parse(data.toString('utf8')) as unknown };
}

/**
 * Validates JSON as Go's scanner does and returns its error text ("invalid character 'o' looking for beginning of
 * object key string", "unexpected end of JSON input"), or undefined for valid JSON.
 */
export function goJsonSyntaxError(data: Uint8Array): string | undefined {
  let i = 0;
  const peek = () => (i < data.length ? data[i] : -1);
  const fail = (context: string): never => {
    if (i >= data.length) throw new SyntaxError('unexpected end of JSON input');
    throw new SyntaxError(`invalid character ${quoteChar(data[i])} ${context}`);
  };
  const skipSpace = () => {
    while (i < data.length && isSpace(data[i])) i++;
  };
  const literal = (word: string) => {
    for (let k = 1; k < word.length; k++) {
      i++;
      if (peek() !== word.charCodeAt(k)) fail(`in literal ${word} (expecting '${word[k]}')`);
    }
    i++;
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      const c = peek();
      if (c === -1) fail('');
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail('in string literal');
      if (c === 0x5c) {
        i++;
        const e = peek();
        if (e === 0x75) {
          for (let k = 0; k < 4; k++) {
            i++;
            if (!isHex(peek())) fail('in \\u hexadecimal character escape');
          }
        } else if (![0x62, 0x66, 0x6e, 0x72, 0x74, 0x5c, 0x2f, 0x22].includes(e)) {
          fail('in string escape code');
        }
      }
      i++;
    }
  };
  const number = () => {
    if (peek() === 0x2d) {
      i++;
      if (!isDigit(peek())) fail('in numeric literal');
    }
    if (peek() === 0x30) i++;
    else while (isDigit(peek())) i++;
    if (peek() === 0x2e) {
      i++;
      if (!isDigit(peek())) fail('after decimal point in numeric literal');
      while (isDigit(peek())) i++;
    }
    if (peek() === 0x65 || peek() === 0x45) {
      i++;
      if (peek() === 0x2b || peek() === 0x2d) i++;
      if (!isDigit(peek())) fail('in exponent of numeric literal');
      while (isDigit(peek())) i++;
    }
  };
  // Iterative, with an explicit stack of open containers, so nesting never exhausts the call stack.
  const value = (): void => {
    const open: number[] = []; // 0x7b for an object, 0x5b for an array
    for (;;) {
      // Expect a value.
      skipSpace();
      const c = peek();
      if (c === 0x7b || c === 0x5b) {
        if (open.length >= MAX_NESTING_DEPTH) fail('exceeded max depth');
        i++;
        skipSpace();
        const close = c === 0x7b ? 0x7d : 0x5d;
        if (peek() !== close) {
          open.push(c);
          if (c === 0x7b) objectKey();
          continue;
        }
        i++;
      } else if (c === 0x22) string();
      else if (c === 0x2d || isDigit(c)) number();
      else if (c === 0x74) literal('true');
      else if (c === 0x66) literal('false');
      else if (c === 0x6e) literal('null');
      else fail('looking for beginning of value');
      // A value ended: close containers until one expects another element.
      for (;;) {
        const top = open[open.length - 1];
        if (top === undefined) return;
        skipSpace();
        if (peek() === 0x2c) {
          i++;
          if (top === 0x7b) objectKey();
          break;
        }
        if (peek() === (top === 0x7b ? 0x7d : 0x5d)) {
          i++;
          open.pop();
          continue;
        }
        fail(top === 0x7b ? 'after object key:value pair' : 'after array element');
      }
    }
  };
  const objectKey = () => {
    skipSpace();
    if (peek() !== 0x22) fail('looking for beginning of object key string');
    string();
    skipSpace();
    if (peek() !== 0x3a) fail('after object key');
    i++;
  };
  try {
    value();
    skipSpace();
    if (i < data.length) fail('after top-level value');
    return undefined;
  } catch (err) {
    if (err instanceof SyntaxError) return err.message;
    throw err;
  }
}

/** Upstream's summarizeData: a body that starts with '{' as text, anything else in hex; 30 bytes at most. */
export function summarizeBody(body: Uint8Array, maxLength = 30): string {
  if (body.length === 0) return '<empty>';
  const head = Buffer.from(body.subarray(0, maxLength));
  const text = body[0] === 0x7b ? head.toString('utf8') : head.toString('hex');
  return body.length > maxLength ? `${text} ...` : text;
}

/** Go's name for the kind of a JSON value in "cannot unmarshal <kind>". */
export function jsonKind(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

/** The anonymous struct upstream's serializer reads apiVersion and kind into, as Go prints its type. */
const TYPE_META_STRUCT = 'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }';

/** Go's error for a body whose top level is not an object when reading apiVersion/kind. */
export function typeMetaError(value: unknown): string | undefined {
  if (value === null || isPlainObject(value)) {
    const obj = (value ?? {}) as Record<string, unknown>;
    for (const key of ['apiVersion', 'kind']) {
      const v = obj[key];
      if (v !== undefined && v !== null && typeof v !== 'string') {
        return `json: cannot unmarshal ${jsonKind(v)} into Go struct field .${key} of type string`;
      }
    }
    return undefined;
  }
  return `json: cannot unmarshal ${jsonKind(value)} into Go value of type ${TYPE_META_STRUCT}`;
}

export type SchemaLookup = (name: string) => SchemaObject | undefined;

// Types with their own UnmarshalJSON (or free-form content): Go reports their errors differently, so skip them.
const CUSTOM_DECODED = /\.(Quantity|IntOrString|Time|MicroTime|Duration|RawExtension|FieldsV1|JSON|JSONSchemaPropsOrBool|JSONSchemaPropsOrArray|JSONSchemaPropsOrStringArray)$/;

/** metav1.Time decodes its JSON string with a nested json.Unmarshal, so its type errors name no struct field. */
const TIME: GoType = {
  name: 'v1.Time',
  check: (value) =>
    value === null || typeof value === 'string' ? undefined : `json: cannot unmarshal ${jsonKind(value)} into Go value of type string`,
};

interface GoType {
  /** Go's printed type: "int32", "v1.PodTemplateSpec", "[]v1.Container", "map[string]string". */
  name: string;
  check(value: unknown, field: string, struct: string): string | undefined;
}

/**
 * The first type error Go's decoder would report for `value` decoded into the built-in kind described by the
 * component schema `schemaName`, or undefined. Only built-in kinds (io.k8s.*) are typed upstream.
 */
export function goTypeError(value: unknown, schemaName: string, lookup: SchemaLookup): string | undefined {
  if (!schemaName.startsWith('io.k8s.')) return undefined;
  const root = lookup(schemaName);
  if (!root) return undefined;
  let checker = checkers.get(lookup);
  if (!checker) checkers.set(lookup, (checker = new TypeChecker(lookup)));
  return checker.structType(schemaName, root).check(value, '', '');
}

/**
 * The checker of each lookup: the Go types it derived (per struct, per property schema) are reused for every body
 * checked with that lookup, so a caller passes one lookup per set of schemas.
 */
const checkers = new WeakMap<SchemaLookup, TypeChecker>();

class TypeChecker {
  private readonly structs = new Map<string, { schema: SchemaObject; type: GoType }>();
  /** typeOf per property schema object (undefined: not checked). */
  private readonly types = new Map<SchemaObject, GoType | undefined>();
  constructor(private readonly lookup: SchemaLookup) {}

  private error(value: unknown, type: string, field: string, struct: string, literal?: string): string {
    const what = literal ?? jsonKind(value);
    if (!field) return `json: cannot unmarshal ${what} into Go value of type ${type}`;
    return `json: cannot unmarshal ${what} into Go struct field ${struct}.${field} of type ${type}`;
  }

  structType(name: string, schema: SchemaObject): GoType {
    const cached = this.structs.get(name);
    if (cached?.schema === schema) return cached.type;
    const parts = name.split('.');
    const shortName = parts[parts.length - 1];
    const type: GoType = {
      name: `${parts[parts.length - 2]}.${shortName}`,
      check: (value, field, struct) => {
        if (value === null) return undefined;
        if (!isPlainObject(value)) return this.error(value, type.name, field, struct);
        const props = schema.properties ?? {};
        for (const [key, v] of Object.entries(value)) {
          if (!Object.hasOwn(props, key)) continue; // unknown fields are fieldValidation's business
          const child = this.typeOf(props[key]);
          const err = child?.check(v, field ? `${field}.${key}` : key, shortName);
          if (err) return err;
        }
        return undefined;
      },
    };
    this.structs.set(name, { schema, type });
    return type;
  }

  private typeOf(schema: SchemaObject | undefined): GoType | undefined {
    if (!schema) return undefined;
    if (this.types.has(schema)) return this.types.get(schema);
    const type = this.deriveType(schema);
    this.types.set(schema, type);
    return type;
  }

  private deriveType(schema: SchemaObject): GoType | undefined {
    if (schema.$ref || (schema.allOf?.length === 1 && !schema.type)) {
      const ref = schema.$ref ?? schema.allOf![0].$ref;
      if (!ref?.startsWith(COMPONENT_REF_PREFIX)) return undefined;
      const name = ref.slice(COMPONENT_REF_PREFIX.length);
      const target = this.lookup(name);
      if (/\.(Time|MicroTime)$/.test(name)) return TIME;
      if (!target || CUSTOM_DECODED.test(name) || !target.properties) return undefined;
      return this.structType(name, target);
    }
    if (schema['x-kubernetes-int-or-string'] || schema['x-kubernetes-preserve-unknown-fields']) return undefined;
    switch (schema.type) {
      case 'string':
        if (schema.format === 'date-time') return TIME;
        if (schema.format === 'byte') return undefined;
        return this.scalar('string', (v) => typeof v === 'string');
      case 'boolean':
        return this.scalar('bool', (v) => typeof v === 'boolean');
      case 'number':
        return this.scalar('float64', (v) => typeof v === 'number');
      case 'integer':
        return this.integer(schema.format === 'int32' ? 32 : 64);
      case 'array': {
        const elem = this.typeOf(schema.items);
        if (!elem) return undefined;
        const type: GoType = {
          name: `[]${elem.name}`,
          check: (value, field, struct) => {
            if (value === null) return undefined;
            if (!Array.isArray(value)) return this.error(value, type.name, field, struct);
            for (const item of value) {
              const err = elem.check(item, field, struct);
              if (err) return err;
            }
            return undefined;
          },
        };
        return type;
      }
      case 'object': {
        if (typeof schema.additionalProperties !== 'object') return undefined;
        const elem = this.typeOf(schema.additionalProperties);
        if (!elem) return undefined;
        const type: GoType = {
          name: `map[string]${elem.name}`,
          check: (value, field, struct) => {
            if (value === null) return undefined;
            if (!isPlainObject(value)) return this.error(value, type.name, field, struct);
            for (const item of Object.values(value)) {
              const err = elem.check(item, field, struct);
              if (err) return err;
            }
            return undefined;
          },
        };
        return type;
      }
      default:
        return undefined;
    }
  }

  private scalar(name: string, ok: (v: unknown) => boolean): GoType {
    return {
      name,
      check: (value, field, struct) => (value === null || ok(value) ? undefined : this.error(value, name, field, struct)),
    };
  }

  private integer(bits: 32 | 64): GoType {
    const name = `int${bits}`;
    const limit = 2 ** (bits - 1);
    return {
      name,
      check: (value, field, struct) => {
        if (value === null) return undefined;
        if (typeof value !== 'number') return this.error(value, name, field, struct);
        // Go names the literal when a number does not fit the integer type.
        if (!Number.isInteger(value) || value < -limit || value >= limit) {
          return this.error(value, name, field, struct, `number ${String(value)}`);
        }
        return undefined;
      },
    };
  }
}

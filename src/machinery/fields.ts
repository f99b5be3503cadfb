// Field selectors as upstream's k8s.io/apimachinery/pkg/fields: `a=b,c!=d`, "==" as "=", values escaped with
// backslashes (`\,` `\=` `\\`). Matching is against the flat field set a kind exposes (metadata.name, status.phase ...).
import { ApiError } from './errors.js';

export type FieldSelectorOperator = '=' | '==' | '!=';

export type Fields = Readonly<Record<string, string>>;

export interface FieldRequirement {
  readonly field: string;
  readonly operator: FieldSelectorOperator;
  /** The unescaped value. */
  readonly value: string;
}

export interface FieldSelector {
  /** Terms in upstream's order (sorted by their source text). All must hold. */
  readonly requirements: readonly FieldRequirement[];
  /** Missing fields read as "", as upstream's Fields.Get. */
  matches(fields: Fields | undefined | null): boolean;
  /** True when nothing is restricted. */
  isEmpty(): boolean;
  /** For `field=value`, the value the selector demands. */
  requiresExactMatch(field: string): string | undefined;
  /** The distinct field names used, in order of appearance. */
  fieldNames(): string[];
  /** Upstream's String(): terms joined by ",", values escaped. */
  toString(): string;
}

class CompiledFieldSelector implements FieldSelector {
  private text?: string;
  constructor(readonly requirements: readonly FieldRequirement[]) {}

  matches(fields: Fields | undefined | null): boolean {
    const fs = fields ?? EMPTY_FIELDS;
    for (const r of this.requirements) {
      const actual = Object.prototype.hasOwnProperty.call(fs, r.field) ? fs[r.field] : '';
      if ((actual === r.value) === (r.operator === '!=')) return false;
    }
    return true;
  }

  isEmpty(): boolean {
    return this.requirements.length === 0;
  }

  requiresExactMatch(field: string): string | undefined {
    for (const r of this.requirements) if (r.field === field && r.operator !== '!=') return r.value;
    return undefined;
  }

  fieldNames(): string[] {
    return [...new Set(this.requirements.map((r) => r.field))];
  }

  toString(): string {
    this.text ??= this.requirements.map((r) => `${r.field}${r.operator === '!=' ? '!=' : '='}${escapeFieldValue(r.value)}`).join(',');
    return this.text;
  }
}

const EMPTY_FIELDS: Fields = Object.freeze({});
const EVERYTHING = new CompiledFieldSelector([]);

export function everythingFields(): FieldSelector {
  return EVERYTHING;
}

/** Matches exactly the given fields (upstream's SelectorFromSet). */
export function fieldSelectorFromSet(set: Fields | undefined | null): FieldSelector {
  const entries = Object.entries(set ?? {});
  return entries.length === 0 ? EVERYTHING : new CompiledFieldSelector(entries.map(([field, value]) => ({ field, operator: '=', value })));
}

/** Upstream's OneTermEqualSelector. */
export function oneTermEqualSelector(field: string, value: string): FieldSelector {
  return new CompiledFieldSelector([{ field, operator: '=', value }]);
}

/** Escapes a literal for use as a field selector value. */
export function escapeFieldValue(value: string): string {
  return value.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/** Reverses escapeFieldValue; throws ApiError.badRequest with upstream's text on a bad sequence or a bare ',' or '='. */
export function unescapeFieldValue(value: string): string {
  if (!/[\\,=]/.test(value)) return value;
  let out = '';
  let inSlash = false;
  for (const c of value) {
    if (inSlash) {
      if (c !== '\\' && c !== ',' && c !== '=') {
        throw ApiError.badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      }
      out += c;
      inSlash = false;
      continue;
    }
    if (c === '\\') inSlash = true;
    // Upstream prints the rune with %v, i.e. its code point number.
    else if (c === ',' || c === '=') throw ApiError.badRequest(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    else out += c;
  }
  if (inSlash) throw ApiError.badRequest('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** Splits on commas that are not backslash-escaped; the escapes stay in the terms. */
function splitTerms(selector: string): string[] {
  if (selector.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

// "==" before "=" so that no '=' is left on the value.
const TERM_OPERATORS: readonly FieldSelectorOperator[] = ['!=', '==', '='];

/** Splits at the first operator occurrence; the field part supports no escaping. */
function splitTerm(term: string): { field: string; operator: FieldSelectorOperator; rawValue: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of TERM_OPERATORS) {
      if (term.startsWith(op, i)) return { field: term.slice(0, i), operator: op, rawValue: term.slice(i + op.length) };
    }
  }
  return undefined;
}

const parseCache = new Map<string, FieldSelector>();
const PARSE_CACHE_LIMIT = 512;

/**
 * Parses a field selector as upstream's fields.ParseSelector. Throws ApiError.badRequest with upstream's message,
 * e.g. `invalid selector: 'a'; can't understand 'a'`.
 */
export function parseFieldSelector(selector: string): FieldSelector {
  const cached = parseCache.get(selector);
  if (cached) return cached;
  const parts = splitTerms(selector).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const reqs: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const term = splitTerm(part);
    if (!term) throw ApiError.badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    reqs.push({ field: term.field, operator: term.operator, value: unescapeFieldValue(term.rawValue) });
  }
  const result = reqs.length === 0 ? EVERYTHING : new CompiledFieldSelector(reqs);
  if (parseCache.size >= PARSE_CACHE_LIMIT) parseCache.clear();
  parseCache.set(selector, result);
  return result;
}

/** Upstream's error for a field a kind does not index: `field label not supported: <name>`. */
export function fieldLabelNotSupported(field: string): ApiError {
  return ApiError.badRequest(`field label not supported: ${field}`);
}

/**
 * Rejects a selector that names fields the kind does not support; metadata.name and metadata.namespace are always
 * supported, as upstream's default field label conversion allows them for every kind.
 */
export function checkSupportedFields(selector: FieldSelector, supported: ReadonlySet<string> | readonly string[]): void {
  const allowed = supported instanceof Set ? supported : new Set(supported as readonly string[]);
  for (const name of selector.fieldNames()) {
    if (name !== 'metadata.name' && name !== 'metadata.namespace' && !allowed.has(name)) throw fieldLabelNotSupported(name);
  }
}

/**
 * Rewrites every term (upstream's Transform), e.g. to map a legacy field label onto its current name.
 * The callback may throw (typically fieldLabelNotSupported).
 */
export function transformFieldSelector(
  selector: FieldSelector,
  fn: (field: string, value: string) => { field: string; value: string },
): FieldSelector {
  if (selector.isEmpty()) return selector;
  return new CompiledFieldSelector(
    selector.requirements.map((r) => {
      const t = fn(r.field, r.value);
      return { field: t.field, operator: r.operator, value: t.value };
    }),
  );
}

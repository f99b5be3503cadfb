// Label selectors as upstream's k8s.io/apimachinery/pkg/labels: the string syntax (`a=b,c in (d,e),!f,g>3`), the
// metav1.LabelSelector form, and a compiled matcher so the API server can filter large lists cheaply.
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { ApiError, fieldErrorMessage, fieldErr } from './errors.js';
import { isQualifiedName, isValidLabelValue } from './validation.js';

/** Upstream's selection.Operator values. */
export type SelectorOperator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

export type Labels = Readonly<Record<string, string>>;

export interface Requirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  /** Values as given (parsed selectors hold them sorted and de-duplicated, as upstream's string set does). */
  readonly values: readonly string[];
}

export interface Selector {
  /** Requirements sorted by key; all must hold (logical AND). */
  readonly requirements: readonly Requirement[];
  /** True for the selector that selects nothing (a nil metav1.LabelSelector). */
  readonly matchesNothing: boolean;
  matches(labels: Labels | undefined | null): boolean;
  /** Upstream's canonical String(): requirements joined by ",", multi-value sets sorted. */
  toString(): string;
  /** For `key=value`, `key==value` or `key in (value)`, the single value the selector demands. */
  requiresExactMatch(key: string): string | undefined;
}

const BINARY_OPERATORS: readonly SelectorOperator[] = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];
const ALL_OPERATORS: readonly SelectorOperator[] = [...BINARY_OPERATORS, 'exists', '!'];

/** Go's strconv.ParseInt(s, 10, 64) acceptance. */
const INT64_RE = /^[+-]?[0-9]+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
function parseInt64(s: string): bigint | undefined {
  if (!INT64_RE.test(s)) return undefined;
  const v = BigInt(s);
  return v < INT64_MIN || v > INT64_MAX ? undefined : v;
}

/** Upstream's aggregate error text: one error alone, several in brackets, duplicates dropped. */
function aggregateMessage(msgs: string[]): string {
  const unique = [...new Set(msgs)];
  return unique.length === 1 ? unique[0] : `[${unique.join(', ')}]`;
}

// Upstream renders a nil field.Path as "<nil>"; the parser validates keys against that nil path.
const NIL_PATH = '<nil>';

function keyError(key: string, path: string): string | undefined {
  const errs = isQualifiedName(key);
  return errs.length ? fieldErrorMessage(fieldErr.invalid(path, key, errs.join('; '))) : undefined;
}

/**
 * Builds a validated requirement (upstream's NewRequirement). Throws ApiError.badRequest with upstream's text,
 * e.g. `key: Invalid value: "-x": name part must consist of ...`.
 */
export function newRequirement(key: string, operator: SelectorOperator, values: readonly string[], path = ''): Requirement {
  const errs = requirementErrors(key, operator, values, path);
  if (errs.length) throw ApiError.badRequest(aggregateMessage(errs));
  return { key, operator, values: [...values] };
}

/** Upstream's NewRequirement checks, as rendered error texts. */
function requirementErrors(key: string, operator: string, values: readonly string[], path: string): string[] {
  const at = (child: string): string => (path ? `${path}.${child}` : child);
  const errs: string[] = [];
  const ke = keyError(key, at('key'));
  if (ke) errs.push(ke);
  const valuesPath = at('values');
  // The bad value is the whole []string, which upstream prints with %#v.
  const invalidValues = (detail: string): string =>
    `${valuesPath}: Invalid value: []string{${values.map((v) => JSON.stringify(v)).join(', ')}}: ${detail}`;
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(invalidValues("for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(invalidValues('exact-match compatibility requires one single value'));
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(invalidValues('values set must be empty for exists and does not exist'));
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(invalidValues("for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) {
          errs.push(fieldErrorMessage(fieldErr.invalid(`${valuesPath}[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer")));
        }
      });
      break;
    default:
      errs.push(fieldErrorMessage(fieldErr.notSupported(at('operator'), operator, [...ALL_OPERATORS])));
  }
  values.forEach((v, i) => {
    const ve = isValidLabelValue(v);
    if (ve.length) errs.push(fieldErrorMessage(fieldErr.invalid(`${valuesPath}[${i}][${key}]`, v, ve.join('; '))));
  });
  return errs;
}

function requirementString(r: Requirement): string {
  let s = r.operator === '!' ? `!${r.key}` : r.key;
  switch (r.operator) {
    case 'exists':
    case '!':
      return s;
    case '=':
    case '==':
    case '!=':
      s += r.operator;
      break;
    case 'in':
    case 'notin':
      s += ` ${r.operator} (`;
      break;
    case 'gt':
      s += '>';
      break;
    case 'lt':
      s += '<';
      break;
  }
  s += r.values.length === 1 ? r.values[0] : [...r.values].sort(compareStrings).join(',');
  if (r.operator === 'in' || r.operator === 'notin') s += ')';
  return s;
}

/** Byte-wise order, as Go's sort.Strings: compares UTF-16 code units, identical for the label character set. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

type LabelTest = (labels: Labels) => boolean;

function compileRequirement(r: Requirement): LabelTest {
  const { key, values } = r;
  const has = (labels: Labels): boolean => Object.prototype.hasOwnProperty.call(labels, key);
  const oneOf: (v: string) => boolean =
    values.length === 1 ? ((only) => (v: string) => v === only)(values[0]) : ((set) => (v: string) => set.has(v))(new Set(values));
  switch (r.operator) {
    case '=':
    case '==':
    case 'in':
      return (labels) => has(labels) && oneOf(labels[key]);
    case '!=':
    case 'notin':
      return (labels) => !has(labels) || !oneOf(labels[key]);
    case 'exists':
      return has;
    case '!':
      return (labels) => !has(labels);
    case 'gt':
    case 'lt': {
      const bound = values.length === 1 ? parseInt64(values[0]) : undefined;
      if (bound === undefined) return () => false;
      const greater = r.operator === 'gt';
      return (labels) => {
        if (!has(labels)) return false;
        const v = parseInt64(labels[key]);
        if (v === undefined) return false;
        return greater ? v > bound : v < bound;
      };
    }
  }
}

class CompiledSelector implements Selector {
  readonly requirements: readonly Requirement[];
  private readonly tests: readonly LabelTest[];
  private text?: string;

  constructor(
    requirements: readonly Requirement[],
    readonly matchesNothing = false,
  ) {
    // Stable sort by key, as upstream sorts requirements for a deterministic form.
    this.requirements = [...requirements].sort((a, b) => compareStrings(a.key, b.key));
    this.tests = this.requirements.map(compileRequirement);
  }

  matches(labels: Labels | undefined | null): boolean {
    if (this.matchesNothing) return false;
    const ls = labels ?? EMPTY_LABELS;
    for (const test of this.tests) if (!test(ls)) return false;
    return true;
  }

  toString(): string {
    this.text ??= this.requirements.map(requirementString).join(',');
    return this.text;
  }

  requiresExactMatch(key: string): string | undefined {
    for (const r of this.requirements) {
      if (r.key !== key) continue;
      if ((r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1) return r.values[0];
      return undefined;
    }
    return undefined;
  }
}

const EMPTY_LABELS: Labels = Object.freeze({});
const EVERYTHING = new CompiledSelector([]);
const NOTHING = new CompiledSelector([], true);

/** The selector that matches every label set. */
export function everything(): Selector {
  return EVERYTHING;
}

/** The selector that matches nothing (what a nil metav1.LabelSelector means). */
export function nothing(): Selector {
  return NOTHING;
}

/** True when the selector does not restrict anything (upstream's Empty()). */
export function isEverything(selector: Selector): boolean {
  return !selector.matchesNothing && selector.requirements.length === 0;
}

export function selectorToString(selector: Selector): string {
  return selector.toString();
}

/** Builds a selector from requirements (validated with newRequirement beforehand). */
export function selectorFromRequirements(requirements: readonly Requirement[]): Selector {
  return requirements.length === 0 ? EVERYTHING : new CompiledSelector(requirements);
}

/** Matches exactly the given labels (upstream's SelectorFromSet); no validation. */
export function selectorFromSet(set: Labels | undefined | null): Selector {
  const entries = Object.entries(set ?? {});
  if (entries.length === 0) return EVERYTHING;
  return new CompiledSelector(entries.map(([key, value]) => ({ key, operator: '=', values: [value] })));
}

// ---------------------------------------------------------------------------------------------------------------
// String syntax: lexer and parser with upstream's tokens, contexts and error texts.

const enum Tok {
  Error,
  End,
  ClosedPar,
  Comma,
  DoesNotExist,
  DoubleEquals,
  Equals,
  GreaterThan,
  Identifier,
  In,
  LessThan,
  NotEquals,
  NotIn,
  OpenPar,
}

const LITERAL_TOKENS: ReadonlyMap<string, Tok> = new Map([
  [')', Tok.ClosedPar],
  [',', Tok.Comma],
  ['!', Tok.DoesNotExist],
  ['==', Tok.DoubleEquals],
  ['=', Tok.Equals],
  ['>', Tok.GreaterThan],
  ['in', Tok.In],
  ['<', Tok.LessThan],
  ['!=', Tok.NotEquals],
  ['notin', Tok.NotIn],
  ['(', Tok.OpenPar],
]);

interface Item {
  tok: Tok;
  lit: string;
}

const isWhitespace = (ch: string): boolean => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
const isSpecialSymbol = (ch: string): boolean => '=!(),><'.includes(ch) && ch.length === 1;

function lex(s: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && isWhitespace(s[pos])) pos++;
    if (pos >= s.length) {
      items.push({ tok: Tok.End, lit: '' });
      return items;
    }
    if (isSpecialSymbol(s[pos])) {
      // Longest run of symbols that still forms a known operator ("!=", "=="), as upstream's scanSpecialSymbol.
      let buffer = '';
      let last: Item | undefined;
      while (pos < s.length && isSpecialSymbol(s[pos])) {
        buffer += s[pos];
        const tok = LITERAL_TOKENS.get(buffer);
        if (tok !== undefined) {
          last = { tok, lit: buffer };
        } else if (last) {
          break;
        }
        pos++;
      }
      items.push(last ?? { tok: Tok.Error, lit: `error expected: keyword found '${buffer}'` });
      continue;
    }
    const start = pos;
    while (pos < s.length && !isSpecialSymbol(s[pos]) && !isWhitespace(s[pos])) pos++;
    const word = s.slice(start, pos);
    items.push({ tok: LITERAL_TOKENS.get(word) ?? Tok.Identifier, lit: word });
  }
}

class ParseError extends Error {}

class Parser {
  private position = 0;
  constructor(private readonly items: Item[]) {}

  /** In a values context "in" and "notin" are plain identifiers. */
  private lookahead(values: boolean): Item {
    const it = this.items[Math.min(this.position, this.items.length - 1)];
    return values && (it.tok === Tok.In || it.tok === Tok.NotIn) ? { tok: Tok.Identifier, lit: it.lit } : it;
  }

  private consume(values: boolean): Item {
    const it = this.lookahead(values);
    if (this.position < this.items.length - 1) this.position++;
    return it;
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = [];
    for (;;) {
      const { tok, lit } = this.lookahead(true);
      switch (tok) {
        case Tok.Identifier:
        case Tok.DoesNotExist: {
          let r: Requirement;
          try {
            r = this.parseRequirement();
          } catch (e) {
            throw new ParseError(`unable to parse requirement: ${(e as Error).message}`);
          }
          reqs.push(r);
          const next = this.consume(true);
          if (next.tok === Tok.End) return reqs;
          if (next.tok === Tok.Comma) {
            const after = this.lookahead(true);
            if (after.tok !== Tok.Identifier && after.tok !== Tok.DoesNotExist) {
              throw new ParseError(`found '${after.lit}', expected: identifier after ','`);
            }
            continue;
          }
          throw new ParseError(`found '${next.lit}', expected: ',' or 'end of string'`);
        }
        case Tok.End:
          return reqs;
        default:
          throw new ParseError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
    }
  }

  private parseRequirement(): Requirement {
    const { key, operator } = this.parseKeyAndInferOperator();
    if (operator === 'exists' || operator === '!') return requirementOrThrow(key, operator, []);
    const op = this.parseOperator();
    const values = op === 'in' || op === 'notin' ? this.parseValues() : this.parseExactValue();
    return requirementOrThrow(key, op, [...values].sort(compareStrings));
  }

  private parseKeyAndInferOperator(): { key: string; operator?: SelectorOperator } {
    let operator: SelectorOperator | undefined;
    let { tok, lit } = this.consume(true);
    if (tok === Tok.DoesNotExist) {
      operator = '!';
      ({ tok, lit } = this.consume(true));
    }
    if (tok !== Tok.Identifier) throw new Error(`found '${lit}', expected: identifier`);
    const ke = keyError(lit, NIL_PATH);
    if (ke) throw new Error(ke);
    const next = this.lookahead(true).tok;
    if ((next === Tok.End || next === Tok.Comma) && operator !== '!') operator = 'exists';
    return { key: lit, operator };
  }

  private parseOperator(): SelectorOperator {
    const { tok, lit } = this.consume(false);
    switch (tok) {
      case Tok.In:
        return 'in';
      case Tok.Equals:
        return '=';
      case Tok.DoubleEquals:
        return '==';
      case Tok.GreaterThan:
        return 'gt';
      case Tok.LessThan:
        return 'lt';
      case Tok.NotIn:
        return 'notin';
      case Tok.NotEquals:
        return '!=';
      default:
        throw new Error(`found '${lit}', expected: ${BINARY_OPERATORS.join(', ')}`);
    }
  }

  private parseValues(): Set<string> {
    const open = this.consume(true);
    if (open.tok !== Tok.OpenPar) throw new Error(`found '${open.lit}' expected: '('`);
    const { tok, lit } = this.lookahead(true);
    switch (tok) {
      case Tok.Identifier:
      case Tok.Comma: {
        const s = this.parseIdentifiersList();
        if (this.consume(true).tok !== Tok.ClosedPar) throw new Error(`found '${lit}', expected: ')'`);
        return s;
      }
      case Tok.ClosedPar:
        this.consume(true);
        return new Set(['']);
      default:
        throw new Error(`found '${lit}', expected: ',', ')' or identifier`);
    }
  }

  private parseIdentifiersList(): Set<string> {
    const s = new Set<string>();
    for (;;) {
      const { tok, lit } = this.consume(true);
      switch (tok) {
        case Tok.Identifier: {
          s.add(lit);
          const next = this.lookahead(true);
          if (next.tok === Tok.Comma) continue;
          if (next.tok === Tok.ClosedPar) return s;
          throw new Error(`found '${next.lit}', expected: ',' or ')'`);
        }
        case Tok.Comma: {
          // Empty values: "(,a)", "(a,)", "(a,,b)" all include "".
          if (s.size === 0) s.add('');
          const next = this.lookahead(true).tok;
          if (next === Tok.ClosedPar) {
            s.add('');
            return s;
          }
          if (next === Tok.Comma) s.add('');
          continue;
        }
        default:
          throw new Error(`found '${lit}', expected: ',', or identifier`);
      }
    }
  }

  private parseExactValue(): Set<string> {
    const next = this.lookahead(true).tok;
    if (next === Tok.End || next === Tok.Comma) return new Set(['']);
    const { tok, lit } = this.consume(true);
    if (tok === Tok.Identifier) return new Set([lit]);
    throw new Error(`found '${lit}', expected: identifier`);
  }
}

function requirementOrThrow(key: string, operator: SelectorOperator, values: string[]): Requirement {
  const errs = requirementErrors(key, operator, values, '');
  if (errs.length) throw new Error(aggregateMessage(errs));
  return { key, operator, values };
}

const parseCache = new Map<string, Selector>();
const PARSE_CACHE_LIMIT = 512;

/**
 * Parses a label selector string exactly as upstream's labels.Parse. Throws ApiError.badRequest carrying upstream's
 * message (e.g. `unable to parse requirement: found '', expected: in, notin, =, ==, !=, gt, lt`).
 * Results are cached: watchers and list calls repeat the same few selectors.
 */
export function parseSelector(text: string): Selector {
  const cached = parseCache.get(text);
  if (cached) return cached;
  let selector: Selector;
  try {
    selector = selectorFromRequirements(new Parser(lex(text)).parse());
  } catch (e) {
    if (e instanceof Error) throw ApiError.badRequest(e.message);
    throw e;
  }
  if (parseCache.size >= PARSE_CACHE_LIMIT) parseCache.clear();
  parseCache.set(text, selector);
  return selector;
}

// ---------------------------------------------------------------------------------------------------------------
// metav1.LabelSelector

const LABEL_SELECTOR_OPERATORS: Readonly<Record<string, SelectorOperator>> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
};

/**
 * Converts a metav1.LabelSelector (upstream's LabelSelectorAsSelector): undefined/null selects nothing, an empty
 * selector selects everything. Throws ApiError.badRequest for invalid content.
 */
export function labelSelectorAsSelector(selector: LabelSelector | undefined | null): Selector {
  if (!selector) return NOTHING;
  const matchLabels = Object.entries(selector.matchLabels ?? {});
  const expressions = selector.matchExpressions ?? [];
  if (matchLabels.length + expressions.length === 0) return EVERYTHING;
  const reqs: Requirement[] = matchLabels.map(([k, v]) => newRequirement(k, '=', [v]));
  for (const expr of expressions) {
    const op = LABEL_SELECTOR_OPERATORS[expr.operator];
    if (!op) throw ApiError.badRequest(`${JSON.stringify(expr.operator)} is not a valid label selector operator`);
    reqs.push(newRequirement(expr.key, op, [...(expr.values ?? [])]));
  }
  return new CompiledSelector(reqs);
}

/** Upstream's FormatLabelSelector, as tables show it: "<none>" for empty, "<error>" for invalid. */
export function formatLabelSelector(selector: LabelSelector | undefined | null): string {
  try {
    const s = labelSelectorAsSelector(selector).toString();
    return s.length === 0 ? '<none>' : s;
  } catch {
    return '<error>';
  }
}

/** Convenience: does the metav1.LabelSelector select these labels? Invalid selectors select nothing. */
export function labelSelectorMatches(selector: LabelSelector | undefined | null, labels: Labels | undefined | null): boolean {
  try {
    return labelSelectorAsSelector(selector).matches(labels);
  } catch {
    return false;
  }
}

// The small expression language of simulated-node stages: field paths into an object (".status.phase",
// ".metadata.annotations[\"skiff.dev/exit-code\"]", ".status.conditions[type=Ready].status"), literals, function
// calls with parentheses and Go-template-like pipes ("{{ .metadata.annotations[\"a\"] | default \"0\" | int }}"), and
// templates: a JSON/YAML tree whose strings may hold {{ ... }} and whose {$forEach, $template} objects expand to lists.

export type Value = unknown;

/** What expressions can read: the object itself (`.`), named variables (`$item`, `$index`, stage vars) and functions. */
export interface Scope {
  root: unknown;
  vars: ReadonlyMap<string, Value>;
  funcs: Readonly<Record<string, (...args: Value[]) => Value>>;
}

type Segment = { kind: 'field'; name: string } | { kind: 'index'; index: number } | { kind: 'select'; field: string; value: string };

interface PathExpr {
  kind: 'path';
  /** '' for the root object, else a variable name without '$'. */
  base: string;
  segments: Segment[];
}

type Expr =
  | PathExpr
  | { kind: 'literal'; value: Value }
  | { kind: 'call'; name: string; args: Expr[] }
  | { kind: 'pipe'; stages: Expr[] };

class Parser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parse(): Expr {
    const e = this.pipeline();
    this.skip();
    if (this.pos < this.text.length) throw this.error('unexpected input');
    return e;
  }

  private error(msg: string): Error {
    return new Error(`expression ${JSON.stringify(this.text)}: ${msg} at ${this.pos}`);
  }

  private skip(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  private peek(): string {
    this.skip();
    return this.text[this.pos] ?? '';
  }

  private pipeline(): Expr {
    const stages = [this.command()];
    while (this.peek() === '|') {
      this.pos++;
      stages.push(this.command());
    }
    return stages.length === 1 ? stages[0]! : { kind: 'pipe', stages };
  }

  /** A function applied to operands, or a single operand. */
  private command(): Expr {
    this.skip();
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.pos));
    if (ident && !['true', 'false', 'null'].includes(ident[0])) {
      this.pos += ident[0].length;
      const args: Expr[] = [];
      for (;;) {
        const c = this.peek();
        if (c === '' || c === '|' || c === ')') break;
        args.push(this.operand());
      }
      return { kind: 'call', name: ident[0], args };
    }
    return this.operand();
  }

  private operand(): Expr {
    const c = this.peek();
    if (c === '(') {
      this.pos++;
      const e = this.pipeline();
      if (this.peek() !== ')') throw this.error('expected )');
      this.pos++;
      return e;
    }
    if (c === '"') return { kind: 'literal', value: this.string() };
    if (c === '.' || c === '$') return this.path();
    const rest = this.text.slice(this.pos);
    const num = /^-?\d+(\.\d+)?/.exec(rest);
    if (num) {
      this.pos += num[0].length;
      return { kind: 'literal', value: Number(num[0]) };
    }
    const word = /^(true|false|null)\b/.exec(rest);
    if (word) {
      this.pos += word[0].length;
      return { kind: 'literal', value: word[0] === 'null' ? null : word[0] === 'true' };
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (ident) {
      // A function without arguments used as an operand, e.g. "eq now .x".
      this.pos += ident[0].length;
      return { kind: 'call', name: ident[0], args: [] };
    }
    throw this.error('expected a value');
  }

  private string(): string {
    const m = /^"(?:[^"\\]|\\.)*"/.exec(this.text.slice(this.pos));
    if (!m) throw this.error('unterminated string');
    this.pos += m[0].length;
    return JSON.parse(m[0]) as string;
  }

  private path(): PathExpr {
    let base = '';
    if (this.text[this.pos] === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?/.exec(this.text.slice(this.pos))!;
      base = m[1] ?? '';
      this.pos += m[0].length;
    }
    const segments: Segment[] = [];
    for (;;) {
      const ch = this.text[this.pos];
      if (ch === '.') {
        this.pos++;
        const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(this.text.slice(this.pos));
        if (!m) {
          // A lone "." is the root itself.
          if (segments.length === 0 && base === '') continue;
          throw this.error('expected a field name');
        }
        this.pos += m[0].length;
        segments.push({ kind: 'field', name: m[0] });
      } else if (ch === '[') {
        this.pos++;
        if (this.text[this.pos] === '"') {
          segments.push({ kind: 'field', name: this.string() });
        } else {
          const m = /^(\d+)|^([A-Za-z_][A-Za-z0-9_]*)=([^\]]*)/.exec(this.text.slice(this.pos));
          if (!m) throw this.error('expected an index, a "key" or field=value');
          this.pos += m[0].length;
          if (m[1] !== undefined) segments.push({ kind: 'index', index: Number(m[1]) });
          else segments.push({ kind: 'select', field: m[2]!, value: m[3]!.replace(/^"(.*)"$/, '$1') });
        }
        if (this.text[this.pos] !== ']') throw this.error('expected ]');
        this.pos++;
      } else {
        return { kind: 'path', base, segments };
      }
    }
  }
}

const cache = new Map<string, Expr>();

export function parseExpr(text: string): Expr {
  let e = cache.get(text);
  if (!e) {
    e = new Parser(text).parse();
    cache.set(text, e);
  }
  return e;
}

function walk(value: unknown, segments: readonly Segment[]): unknown {
  let v = value;
  for (const s of segments) {
    if (v === null || v === undefined) return undefined;
    if (s.kind === 'field') {
      if (typeof v !== 'object' || Array.isArray(v)) return undefined;
      v = (v as Record<string, unknown>)[s.name];
    } else if (s.kind === 'index') {
      if (!Array.isArray(v)) return undefined;
      v = v[s.index];
    } else {
      if (!Array.isArray(v)) return undefined;
      v = v.find((e) => e !== null && typeof e === 'object' && String((e as Record<string, unknown>)[s.field]) === s.value);
    }
  }
  return v;
}

function evaluate(e: Expr, scope: Scope, piped?: { value: Value }): Value {
  switch (e.kind) {
    case 'literal':
      return e.value;
    case 'path': {
      let base: unknown;
      if (e.base === '') base = scope.root;
      else if (scope.vars.has(e.base)) base = scope.vars.get(e.base);
      else throw new Error(`undefined variable $${e.base}`);
      return walk(base, e.segments);
    }
    case 'call': {
      const fn = scope.funcs[e.name];
      if (!fn) throw new Error(`unknown function ${e.name}`);
      const args = e.args.map((a) => evaluate(a, scope));
      if (piped) args.push(piped.value);
      return fn(...args);
    }
    case 'pipe': {
      let v = evaluate(e.stages[0]!, scope);
      for (const s of e.stages.slice(1)) {
        if (s.kind !== 'call') throw new Error('only a function may follow |');
        v = evaluate(s, scope, { value: v });
      }
      return v;
    }
  }
}

export function evalExpr(text: string, scope: Scope): Value {
  return evaluate(parseExpr(text), scope);
}

const WHOLE = /^\s*\{\{(.*?)\}\}\s*$/s;
const PART = /\{\{(.*?)\}\}/gs;

/**
 * Renders a template tree: "{{ e }}" alone yields e's value (any type; undefined drops the key), text around {{ }}
 * interpolates, {$forEach: expr, $template: t} maps t over a list (with $item and $index), {$if: expr, $then, $else}
 * picks a branch.
 */
export function render(template: unknown, scope: Scope): unknown {
  if (typeof template === 'string') {
    const whole = WHOLE.exec(template);
    if (whole && !whole[1]!.includes('}}')) return evalExpr(whole[1]!, scope);
    if (!template.includes('{{')) return template;
    return template.replace(PART, (_, e: string) => {
      const v = evalExpr(e, scope);
      return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    });
  }
  if (Array.isArray(template)) return template.map((t) => render(t, scope)).filter((v) => v !== undefined);
  if (template === null || typeof template !== 'object') return template;
  const obj = template as Record<string, unknown>;
  if ('$forEach' in obj) {
    const list = evalExpr(bare(obj.$forEach), scope);
    if (list === undefined || list === null) return undefined;
    if (!Array.isArray(list)) throw new Error(`$forEach ${String(obj.$forEach)}: not a list`);
    if (list.length === 0) return undefined;
    return list.map((item, index) => {
      const vars = new Map(scope.vars);
      vars.set('item', item);
      vars.set('index', index);
      return render(obj.$template, { ...scope, vars });
    });
  }
  if ('$if' in obj) {
    const cond = evalExpr(bare(obj.$if), scope);
    return render(truthy(cond) ? obj.$then : obj.$else, scope);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const r = render(v, scope);
    if (r !== undefined) out[k] = r;
  }
  return out;
}

/** $forEach and $if take an expression, with or without {{ }} around it. */
function bare(v: unknown): string {
  const text = String(v);
  const whole = WHOLE.exec(text);
  return whole ? whole[1]! : text;
}

/** Go template truth: false, 0, "", null, empty lists and maps are false. */
export function truthy(v: Value): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** Go's time.ParseDuration ("1h2m3.5s", "300ms", "-1.5h"); a bare number counts as milliseconds. Undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  const m = /^([-+]?)((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/.exec(s);
  if (!m) return undefined;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const part of m[2]!.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(part[1]) * units[part[2]!]!;
  return m[1] === '-' ? -total : total;
}

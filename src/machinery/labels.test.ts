import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from './errors.js';
import {
  everything,
  formatLabelSelector,
  isEverything,
  labelSelectorAsSelector,
  labelSelectorMatches,
  newRequirement,
  nothing,
  parseSelector,
  selectorFromRequirements,
  selectorFromSet,
  selectorToString,
  type Labels,
  type SelectorOperator,
} from './labels.js';

/** The error a parse produces, as the API server would send it. */
function parseError(text: string): ApiError {
  try {
    parseSelector(text);
  } catch (e) {
    assert.ok(e instanceof ApiError, 'expected an ApiError');
    return e;
  }
  assert.fail(`expected ${JSON.stringify(text)} to fail`);
}

describe('parseSelector (upstream selector_test.go)', () => {
  test('good strings re-render without spaces', () => {
    for (const s of ['x=a,y=b,z=c', '', 'x!=a,y=b', 'x=', 'x= ', 'x=,z= ', 'x= ,z= ', '!x', 'x>1', 'x>1,z<5']) {
      assert.equal(selectorToString(parseSelector(s)), s.replaceAll(' ', ''), s);
    }
  });

  test('bad strings fail', () => {
    for (const s of ['x=a||y=b', 'x==a==b', '!x=a', 'x<a']) parseError(s);
  });

  test('parsing is deterministic (sorted by key)', () => {
    assert.equal(parseSelector('x=a,a=x').toString(), parseSelector('a=x,x=a').toString());
    assert.equal(parseSelector('x=a,a=x').toString(), 'a=x,x=a');
  });

  test('set-based table', () => {
    const req = (key: string, operator: SelectorOperator, values: string[] = []): { key: string; operator: SelectorOperator; values: string[] } => ({ key, operator, values });
    const cases: [string, ReturnType<typeof req>[] | undefined][] = [
      ['', []],
      ['\rx', [req('x', 'exists')]],
      ['this-is-a-dns.domain.com/key-with-dash', [req('this-is-a-dns.domain.com/key-with-dash', 'exists')]],
      ['this-is-another-dns.domain.com/key-with-dash in (so,what)', [req('this-is-another-dns.domain.com/key-with-dash', 'in', ['so', 'what'])]],
      ['0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)', [req('0.1.2.domain/99', 'notin', ['10.10.100.1', 'tick.tack.clock'])]],
      ['foo  in\t (abc)', [req('foo', 'in', ['abc'])]],
      ['x notin\n (abc)', [req('x', 'notin', ['abc'])]],
      ['x  notin\t\t\t(abc,def)', [req('x', 'notin', ['abc', 'def'])]],
      ['x in (abc,def)', [req('x', 'in', ['abc', 'def'])]],
      ['x in (abc,)', [req('x', 'in', ['', 'abc'])]],
      ['x in ()', [req('x', 'in', [''])]],
      ['x notin (abc,,def),bar,z in (),w', [req('bar', 'exists'), req('w', 'exists'), req('x', 'notin', ['', 'abc', 'def']), req('z', 'in', [''])]],
      ['x notin (abc,def)', [req('x', 'notin', ['abc', 'def'])]],
      ['x=a', [req('x', '=', ['a'])]],
      ['x>1', [req('x', 'gt', ['1'])]],
      ['x<7', [req('x', 'lt', ['7'])]],
      ['x=a,y!=b', [req('x', '=', ['a']), req('y', '!=', ['b'])]],
      ['x=a,y!=b,z in (h,i,j)', [req('x', '=', ['a']), req('y', '!=', ['b']), req('z', 'in', ['h', 'i', 'j'])]],
      ['x notin ( )', [req('x', 'notin', [''])]],
      ['x notin (, a)', [req('x', 'notin', ['', 'a'])]],
      ['a ', [req('a', 'exists')]],
      ['a in (x,y,notin, z,in)', [req('a', 'in', ['in', 'notin', 'x', 'y', 'z'])]],
      ['x=a||y=b', undefined],
      ['x,,y', undefined],
      [',x,y', undefined],
      ['x nott in (y)', undefined],
      ['a in (xyz),', undefined],
      ['a in (xyz)b notin ()', undefined],
      ['a in (xyz abc)', undefined],
      ['a notin(', undefined],
      ['a (', undefined],
      ['(', undefined],
    ];
    for (const [text, want] of cases) {
      if (!want) {
        parseError(text);
        continue;
      }
      assert.deepEqual(
        parseSelector(text).requirements.map((r) => ({ key: r.key, operator: r.operator, values: [...r.values] })),
        want,
        text,
      );
    }
  });

  test('upstream error texts', () => {
    const cases: [string, string][] = [
      ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
      ['x=a b', "found 'b', expected: ',' or 'end of string'"],
      ['x,', "found '', expected: identifier after ','"],
      [',x', "found ',', expected: !, identifier, or 'end of string'"],
      ['x in', "unable to parse requirement: found '' expected: '('"],
      ['x in (a', "unable to parse requirement: found '', expected: ',' or ')'"],
      ['x>a', `unable to parse requirement: values[0]: Invalid value: "a": for 'Gt', 'Lt' operators, the value must be an integer`],
      [
        '-x',
        `unable to parse requirement: <nil>: Invalid value: "-x": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
      ],
      [
        'x=-a',
        `unable to parse requirement: values[0][x]: Invalid value: "-a": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      ],
    ];
    for (const [text, message] of cases) {
      const e = parseError(text);
      assert.equal(e.message, message, text);
      assert.equal(e.code, 400);
      assert.equal(e.reason, 'BadRequest');
    }
  });
});

describe('matching', () => {
  const expectMatch = (sel: string, ls: Labels): void => assert.ok(parseSelector(sel).matches(ls), `${sel} should match ${JSON.stringify(ls)}`);
  const expectNoMatch = (sel: string, ls: Labels): void => assert.ok(!parseSelector(sel).matches(ls), `${sel} should not match ${JSON.stringify(ls)}`);

  test('upstream TestSelectorMatches', () => {
    expectMatch('', { x: 'y' });
    expectMatch('x=y', { x: 'y' });
    expectMatch('x=y,z=w', { x: 'y', z: 'w' });
    expectMatch('x!=y,z!=w', { x: 'z', z: 'a' });
    expectMatch('notin=in', { notin: 'in' });
    expectMatch('x', { x: 'z' });
    expectMatch('!x', { y: 'z' });
    expectMatch('x>1', { x: '2' });
    expectMatch('x<1', { x: '0' });
    expectNoMatch('x=z', {});
    expectNoMatch('x=y', { x: 'z' });
    expectNoMatch('x=y,z=w', { x: 'w', z: 'w' });
    expectNoMatch('x!=y,z!=w', { x: 'z', z: 'w' });
    expectNoMatch('x', { y: 'z' });
    expectNoMatch('!x', { x: 'z' });
    expectNoMatch('x>1', { x: '0' });
    expectNoMatch('x<1', { x: '2' });
    const labelset = { foo: 'bar', baz: 'blah' };
    expectMatch('foo=bar', labelset);
    expectMatch('baz=blah', labelset);
    expectMatch('foo=bar,baz=blah', labelset);
    expectNoMatch('foo=blah', labelset);
    expectNoMatch('baz=bar', labelset);
    expectNoMatch('foo=bar,foobar=bar,baz=blah', labelset);
  });

  test('upstream TestRequirementSelectorMatching', () => {
    expectMatch('x in (foo),y notin (alpha)', { x: 'foo', y: 'baz' });
    expectNoMatch('x in (foo),y in (alpha)', { x: 'foo', y: 'baz' });
    expectMatch('x notin (),y', { y: '' });
    expectMatch('!x,y', { y: '' });
    expectNoMatch('x notin (),!y', { y: '' });
    expectNoMatch('x in ()', { y: 'baz' });
    expectMatch('z>1', { z: '2' });
    expectNoMatch('z>1', { z: 'v2' });
  });

  test('inherited properties and missing labels are handled', () => {
    expectNoMatch('constructor', {});
    expectMatch('!toString', {});
    assert.ok(parseSelector('x!=a').matches(undefined));
    assert.ok(!parseSelector('x=a').matches(null));
  });

  test('many-valued in uses the same semantics', () => {
    const values = Array.from({ length: 50 }, (_, i) => `v${i}`);
    const sel = parseSelector(`k in (${values.join(',')})`);
    assert.ok(sel.matches({ k: 'v49' }));
    assert.ok(!sel.matches({ k: 'v50' }));
  });

  test('everything, nothing and sets', () => {
    assert.ok(everything().matches({ x: 'y' }));
    assert.ok(isEverything(everything()));
    assert.ok(isEverything(parseSelector('')));
    assert.ok(!isEverything(parseSelector('a')));
    assert.ok(!nothing().matches({}));
    assert.ok(!isEverything(nothing()));
    const labelset = { foo: 'bar', baz: 'blah' };
    const sets: Labels[] = [{}, { foo: 'bar' }, { baz: 'blah' }, { foo: 'bar', baz: 'blah' }];
    for (const set of sets) assert.ok(selectorFromSet(set).matches(labelset));
    assert.ok(!selectorFromSet({ foo: 'bar', foobar: 'bar' }).matches(labelset));
    assert.ok(isEverything(selectorFromSet(undefined)));
    assert.equal(selectorFromSet({ b: '2', a: '1' }).toString(), 'a=1,b=2');
  });

  test('requiresExactMatch', () => {
    assert.equal(parseSelector('a=1,b in (2),c in (3,4),d!=5').requiresExactMatch('a'), '1');
    assert.equal(parseSelector('a=1,b in (2),c in (3,4),d!=5').requiresExactMatch('b'), '2');
    assert.equal(parseSelector('a=1,b in (2),c in (3,4),d!=5').requiresExactMatch('c'), undefined);
    assert.equal(parseSelector('a=1,b in (2),c in (3,4),d!=5').requiresExactMatch('d'), undefined);
    assert.equal(parseSelector('a==1').requiresExactMatch('a'), '1');
  });
});

describe('requirements and their string form', () => {
  test('upstream TestRequirementConstructor', () => {
    const cases: [string, SelectorOperator, string[], boolean][] = [
      ['x', 'in', [], false],
      ['x', 'notin', [], false],
      ['x', 'in', ['foo'], true],
      ['x', 'notin', ['foo'], true],
      ['x', 'exists', [], true],
      ['x', '!', [], true],
      ['1foo', 'in', ['bar'], true],
      ['1234', 'in', ['bar'], true],
      ['y', 'gt', ['1'], true],
      ['z', 'lt', ['6'], true],
      ['foo', 'gt', ['bar'], false],
      ['barz', 'lt', ['blah'], false],
      ['a'.repeat(254), 'exists', [], false],
      ['x', '=', ['a', 'b'], false],
      ['x', 'exists', ['a'], false],
    ];
    for (const [key, op, values, ok] of cases) {
      if (ok) assert.doesNotThrow(() => newRequirement(key, op, values), `${key} ${op} ${values}`);
      else assert.throws(() => newRequirement(key, op, values), ApiError, `${key} ${op} ${values}`);
    }
  });

  test('requirement errors carry upstream paths', () => {
    assert.throws(() => newRequirement('x', 'in', []), { message: "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty" });
    assert.throws(() => newRequirement('x', '=', ['a', 'b']), {
      message: 'values: Invalid value: []string{"a", "b"}: exact-match compatibility requires one single value',
    });
    assert.throws(() => newRequirement('x', 'bogus' as SelectorOperator, []), {
      message: 'operator: Unsupported value: "bogus": supported values: "in", "notin", "=", "==", "!=", "gt", "lt", "exists", "!"',
    });
  });

  test('upstream TestToString', () => {
    const cases: [[string, SelectorOperator, string[]][], string][] = [
      [[['x', 'in', ['abc', 'def']], ['y', 'notin', ['jkl']], ['z', 'exists', []]], 'x in (abc,def),y notin (jkl),z'],
      [[['x', 'notin', ['abc', 'def']], ['y', '!=', ['jkl']], ['z', '!', []]], 'x notin (abc,def),y!=jkl,!z'],
      [[['x', 'notin', ['abc']], ['y', 'in', ['jkl', 'mno']], ['z', 'notin', ['']]], 'x notin (abc),y in (jkl,mno),z notin ()'],
      [[['x', '=', ['abc']], ['y', '==', ['jkl']], ['z', '!=', ['a']], ['z', 'exists', []]], 'x=abc,y==jkl,z!=a,z'],
      [[['x', 'gt', ['2']], ['y', 'lt', ['8']], ['z', 'exists', []]], 'x>2,y<8,z'],
      [[['x', 'in', ['def', 'abc']]], 'x in (abc,def)'],
    ];
    for (const [reqs, want] of cases) {
      assert.equal(selectorFromRequirements(reqs.map(([k, op, v]) => newRequirement(k, op, v))).toString(), want);
      // The parser yields the same canonical text.
      assert.equal(parseSelector(want).toString(), want);
    }
  });
});

describe('metav1.LabelSelector', () => {
  test('nil selects nothing, empty selects everything', () => {
    assert.ok(!labelSelectorAsSelector(undefined).matches({ a: 'b' }));
    assert.ok(labelSelectorAsSelector({}).matches({ a: 'b' }));
    assert.equal(formatLabelSelector({}), '<none>');
    assert.equal(formatLabelSelector(undefined), '<none>');
  });

  test('matchLabels and matchExpressions combine', () => {
    const sel = labelSelectorAsSelector({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['front', 'back'] },
        { key: 'canary', operator: 'DoesNotExist' },
        { key: 'env', operator: 'NotIn', values: ['dev'] },
        { key: 'team', operator: 'Exists' },
      ],
    });
    assert.equal(sel.toString(), 'app=web,!canary,env notin (dev),team,tier in (back,front)');
    assert.ok(sel.matches({ app: 'web', tier: 'front', team: 'a' }));
    assert.ok(!sel.matches({ app: 'web', tier: 'front', team: 'a', canary: '1' }));
    assert.ok(!sel.matches({ app: 'web', tier: 'front', team: 'a', env: 'dev' }));
    assert.ok(!sel.matches({ app: 'web', tier: 'mid', team: 'a' }));
    assert.equal(formatLabelSelector({ matchLabels: { app: 'web' } }), 'app=web');
  });

  test('invalid selectors', () => {
    assert.throws(() => labelSelectorAsSelector({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }), {
      message: '"Gt" is not a valid label selector operator',
    });
    assert.throws(() => labelSelectorAsSelector({ matchExpressions: [{ key: 'a', operator: 'In' }] }), ApiError);
    assert.equal(formatLabelSelector({ matchLabels: { '-a': 'b' } }), '<error>');
    assert.equal(labelSelectorMatches({ matchLabels: { '-a': 'b' } }, { '-a': 'b' }), false);
    assert.equal(labelSelectorMatches({ matchLabels: { a: 'b' } }, { a: 'b' }), true);
  });
});

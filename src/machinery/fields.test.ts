import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from './errors.js';
import {
  checkSupportedFields,
  escapeFieldValue,
  everythingFields,
  fieldSelectorFromSet,
  oneTermEqualSelector,
  parseFieldSelector,
  transformFieldSelector,
  unescapeFieldValue,
  type Fields,
} from './fields.js';

function errorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ApiError, 'expected an ApiError');
    return e;
  }
  assert.fail('expected an error');
}

describe('parseFieldSelector (upstream fields/selector_test.go)', () => {
  test('good strings round-trip', () => {
    for (const s of ['x=a,y=b,z=c', '', 'x!=a,y=b', 'x=a||y\\=b', 'x=a\\=\\=b']) assert.equal(parseFieldSelector(s).toString(), s, s);
  });

  test('bad strings fail with a 400', () => {
    for (const s of ['x=a||y=b', 'x==a==b', 'x=a,b', 'x in (a)', 'x in (a,b,c)', 'x']) {
      const e = errorOf(() => parseFieldSelector(s));
      assert.equal(e.code, 400, s);
    }
  });

  test('upstream error texts', () => {
    assert.equal(errorOf(() => parseFieldSelector('x=a,b')).message, "invalid selector: 'x=a,b'; can't understand 'b'");
    assert.equal(errorOf(() => parseFieldSelector('x==a==b')).message, 'invalid field selector: unescaped character in value: 61');
    assert.equal(errorOf(() => parseFieldSelector('x=\\a')).message, 'invalid field selector: invalid escape sequence: \\a');
  });

  test('deterministic order', () => {
    assert.equal(parseFieldSelector('x=a,a=x').toString(), parseFieldSelector('a=x,x=a').toString());
  });

  test('terms split on unescaped commas only', () => {
    const cases: [string, [string, string, string][]][] = [
      ['a=avalue', [['a', '=', 'avalue']]],
      ['a=avalue,b=bvalue', [['a', '=', 'avalue'], ['b', '=', 'bvalue']]],
      ['a=avalue,b==bvalue,c!=cvalue', [['a', '=', 'avalue'], ['b', '==', 'bvalue'], ['c', '!=', 'cvalue']]],
      ['a=a,', [['a', '=', 'a']]],
      [',a=a', [['a', '=', 'a']]],
      // Terms are ordered by their source text, as upstream sorts them: "k2=..." sorts before "k=...".
      ['k=\\,,k2=v2', [['k2', '=', 'v2'], ['k', '=', ',']]],
      ['k=\\\\,k2=v2', [['k2', '=', 'v2'], ['k', '=', '\\']]],
      ['k=\\\\\\,,k2=v2', [['k2', '=', 'v2'], ['k', '=', '\\,']]],
      ['함=수,목=록', [['목', '=', '록'], ['함', '=', '수']]],
      ['b==value', [['b', '==', 'value']]],
      ['k=\\=', [['k', '=', '=']]],
    ];
    for (const [text, want] of cases) {
      assert.deepEqual(
        parseFieldSelector(text).requirements.map((r) => [r.field, r.operator, r.value]),
        want,
        text,
      );
    }
  });
});

describe('escaping', () => {
  test('escape and unescape are inverse', () => {
    const cases: [string, string][] = [
      ['', ''],
      ['a', 'a'],
      ['=', '\\='],
      [',', '\\,'],
      ['\\', '\\\\'],
      ['\\=\\,\\', '\\\\\\=\\\\\\,\\\\'],
    ];
    for (const [raw, escaped] of cases) {
      assert.equal(escapeFieldValue(raw), escaped);
      assert.equal(unescapeFieldValue(escaped), raw);
    }
  });

  test('invalid escape sequences', () => {
    for (const v of ['\\', '\\\\\\', '\\a']) {
      assert.match(errorOf(() => unescapeFieldValue(v)).message, /invalid escape sequence/, v);
    }
    assert.equal(errorOf(() => unescapeFieldValue('a,b')).message, 'invalid field selector: unescaped character in value: 44');
  });
});

describe('matching', () => {
  const expectMatch = (sel: string, fs: Fields): void => assert.ok(parseFieldSelector(sel).matches(fs), `${sel} should match`);
  const expectNoMatch = (sel: string, fs: Fields): void => assert.ok(!parseFieldSelector(sel).matches(fs), `${sel} should not match`);

  test('upstream TestSelectorMatches', () => {
    expectMatch('', { x: 'y' });
    expectMatch('x=y', { x: 'y' });
    expectMatch('x=y,z=w', { x: 'y', z: 'w' });
    expectMatch('x!=y,z!=w', { x: 'z', z: 'a' });
    expectMatch('notin=in', { notin: 'in' });
    expectNoMatch('x=y', { x: 'z' });
    expectNoMatch('x=y,z=w', { x: 'w', z: 'w' });
    expectNoMatch('x!=y,z!=w', { x: 'z', z: 'w' });
    const fieldset = { foo: 'bar', baz: 'blah', complex: '=value\\,\\' };
    expectMatch('foo=bar', fieldset);
    expectMatch('baz=blah', fieldset);
    expectMatch('foo=bar,baz=blah', fieldset);
    expectMatch('foo=bar,baz=blah,complex=\\=value\\\\\\,\\\\', fieldset);
    expectNoMatch('foo=blah', fieldset);
    expectNoMatch('baz=bar', fieldset);
    expectNoMatch('foo=bar,foobar=bar,baz=blah', fieldset);
  });

  test('missing fields read as empty', () => {
    expectMatch('spec.nodeName=', {});
    expectMatch('spec.nodeName!=n1', {});
    expectNoMatch('spec.nodeName=n1', {});
    expectNoMatch('constructor=x', {});
    assert.ok(parseFieldSelector('a!=b').matches(undefined));
  });

  test('sets, one term and everything', () => {
    assert.ok(oneTermEqualSelector('x', 'y').matches({ x: 'y' }));
    assert.ok(!oneTermEqualSelector('x', 'y').matches({ x: 'z' }));
    const fieldset = { foo: 'bar', baz: 'blah' };
    const sets: Fields[] = [{}, { foo: 'bar' }, { baz: 'blah' }, { foo: 'bar', baz: 'blah' }];
    for (const s of sets) assert.ok(fieldSelectorFromSet(s).matches(fieldset));
    assert.ok(!fieldSelectorFromSet({ foo: '=blah' }).matches(fieldset));
    assert.ok(!fieldSelectorFromSet({ foo: '=bar', foobar: 'bar', baz: 'blah' }).matches(fieldset));
    assert.ok(everythingFields().matches({ x: 'y' }));
    assert.ok(everythingFields().isEmpty());
    assert.ok(fieldSelectorFromSet(undefined).isEmpty());
    assert.ok(!oneTermEqualSelector('a', 'b').isEmpty());
  });

  test('requiresExactMatch', () => {
    assert.equal(fieldSelectorFromSet({}).requiresExactMatch('test'), undefined);
    assert.equal(parseFieldSelector('a=b').requiresExactMatch('test'), undefined);
    assert.equal(parseFieldSelector('test=b').requiresExactMatch('test'), 'b');
    assert.equal(parseFieldSelector('test=').requiresExactMatch('test'), '');
    assert.equal(parseFieldSelector('test!=b').requiresExactMatch('test'), undefined);
    assert.equal(parseFieldSelector('a=c,test==b').requiresExactMatch('test'), 'b');
  });
});

describe('supported fields', () => {
  test('fieldNames lists each field once', () => {
    assert.deepEqual(parseFieldSelector('status.phase!=Running,status.phase!=Pending,spec.nodeName=n').fieldNames(), ['spec.nodeName', 'status.phase']);
  });

  test('unsupported fields get upstream message', () => {
    const supported = new Set(['spec.nodeName', 'status.phase']);
    assert.doesNotThrow(() => checkSupportedFields(parseFieldSelector('metadata.name=a,metadata.namespace=b,spec.nodeName=n'), supported));
    const e = errorOf(() => checkSupportedFields(parseFieldSelector('spec.bogus=1'), ['status.phase']));
    assert.equal(e.message, 'field label not supported: spec.bogus');
    assert.equal(e.code, 400);
  });

  test('transform rewrites terms', () => {
    const sel = transformFieldSelector(parseFieldSelector('spec.host=a,x!=b'), (field, value) => ({ field: field === 'spec.host' ? 'spec.nodeName' : field, value: value.toUpperCase() }));
    assert.equal(sel.toString(), 'spec.nodeName=A,x!=B');
    assert.ok(sel.matches({ 'spec.nodeName': 'A', x: 'c' }));
  });
});

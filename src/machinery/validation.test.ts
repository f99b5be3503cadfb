import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { fieldErrorMessage, type FieldError } from './errors.js';
import { parseQuantity } from './quantity.js';
import {
  isCIdentifier,
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isDomainPrefixedPath,
  isEnvVarName,
  isFullyQualifiedDomainName,
  isFullyQualifiedName,
  isHTTPHeaderName,
  isInRange,
  isQualifiedName,
  isRelaxedEnvVarName,
  isValidCIDR,
  isValidGroupID,
  isValidIP,
  isValidIPv4Address,
  isValidIPv6Address,
  isValidLabelValue,
  isValidPercent,
  isValidPortName,
  isValidPortNum,
  isValidUserID,
  isWildcardDNS1123Subdomain,
  regexError,
  validateAnnotations,
  validateDNS1123Label,
  validateLabelSelector,
  validateLabels,
  validateNonnegativeField,
  validateNonnegativeQuantity,
  validatePositiveQuantity,
  validateObjectMeta,
  validateObjectMetaUpdate,
  TOTAL_ANNOTATION_SIZE_LIMIT_BYTES,
} from './validation.js';

const r = (c: string, n: number): string => c.repeat(n);

/** Runs a value check over upstream's good and bad tables. */
function checkTable(name: string, fn: (v: string) => string[], good: string[], bad: string[]): void {
  test(name, () => {
    for (const v of good) assert.deepEqual(fn(v), [], `expected ${JSON.stringify(v)} to be valid`);
    for (const v of bad) assert.notEqual(fn(v).length, 0, `expected ${JSON.stringify(v)} to be invalid`);
  });
}

const messages = (errs: FieldError[]): string[] => errs.map(fieldErrorMessage);

describe('value checks (upstream validation_test.go tables)', () => {
  checkTable(
    'isDNS1123Label',
    isDNS1123Label,
    ['a', 'ab', 'abc', 'a1', 'a-1', 'a--1--2--b', '0', '01', '012', '1a', '1-a', '1--a--b--2', r('a', 63)],
    [
      ...['', 'A', 'ABC', 'aBc', 'A1', 'A-1', '1-A', '-', 'a-', '-a', '1-', '-1'],
      ...['_', 'a_', '_a', 'a_b', '1_', '_1', '1_2', '.', 'a.', '.a', 'a.b', '1.', '.1', '1.2'],
      ...[' ', 'a ', ' a', 'a b', '1 ', ' 1', '1 2', r('a', 64)],
    ],
  );

  checkTable(
    'isDNS1123Subdomain',
    isDNS1123Subdomain,
    [
      ...['a', 'ab', 'abc', 'a1', 'a-1', 'a--1--2--b', '0', '01', '012', '1a', '1-a', '1--a--b--2'],
      ...['a.a', 'ab.a', 'abc.a', 'a1.a', 'a-1.a', 'a--1--2--b.a', 'a.1', 'ab.1', 'abc.1', 'a1.1', 'a-1.1'],
      ...['0.a', '01.a', '012.a', '1a.a', '1-a.a', '0.1', '01.1', '012.1', '1a.1', '1-a.1', '1--a--b--2.1'],
      ...['a.b.c.d.e', 'aa.bb.cc.dd.ee', '1.2.3.4.5', '11.22.33.44.55', r('a', 253)],
    ],
    [
      ...['', 'A', 'ABC', 'aBc', 'A1', 'A-1', '1-A', '-', 'a-', '-a', '1-', '-1'],
      ...['_', 'a_', '_a', 'a_b', '1_', '_1', '1_2', '.', 'a.', '.a', 'a..b', '1.', '.1', '1..2'],
      ...[' ', 'a ', ' a', 'a b', '1 ', ' 1', '1 2', 'A.a', 'aB.a', 'ab.A', 'A1.a', 'a1.A', 'A.1', 'aB.1'],
      ...['A.B.C.D.E', 'a.B.c.d.e', 'a@b', 'a,b', 'a;b', 'a:b', 'a%b', 'a?b', 'a$b', r('a', 254)],
    ],
  );

  checkTable(
    'isDNS1035Label',
    isDNS1035Label,
    ['a', 'ab', 'abc', 'a1', 'a-1', 'a--1--2--b', r('a', 63)],
    ['0', '01', '012', '1a', '1-a', '1--a--b--2', '', 'A', 'ABC', 'a-', '-a', '_', 'a_b', 'a.b', ' a', 'a b', r('a', 64)],
  );

  checkTable(
    'isQualifiedName',
    isQualifiedName,
    [
      ...['simple', 'now-with-dashes', '1-starts-with-num', '1234', 'simple/simple', 'now-with-dashes/simple'],
      ...['now-with-dashes/now-with-dashes', 'now.with.dots/simple', 'now-with.dashes-and.dots/simple'],
      ...['1-num.2-num/3-num', '1234/5678', '1.2.3.4/5678', 'Uppercase_Is_OK_123', 'example.com/Uppercase_Is_OK_123'],
      ...['requests.storage-foo', r('a', 63), `${r('a', 253)}/${r('b', 63)}`],
    ],
    [
      ...['nospecialchars%^=@', 'cantendwithadash-', '-cantstartwithadash-', 'only/one/slash', 'Example.com/abc'],
      ...['example_com/abc', 'example.com/', '/simple', r('a', 64), `${r('a', 254)}/abc`],
    ],
  );

  checkTable(
    'isValidLabelValue',
    isValidLabelValue,
    ['simple', 'now-with-dashes', '1-starts-with-num', 'end-with-num-1', '1234', r('a', 63), ''],
    ['nospecialchars%^=@', 'Tama-nui-te-rā.is.Māori.sun', '\\backslashes\\are\\bad', '-starts-with-dash', 'ends-with-dash-', '.starts.with.dot', 'ends.with.dot.', r('a', 64)],
  );

  checkTable(
    'isHTTPHeaderName',
    isHTTPHeaderName,
    ['Accept-Encoding', 'Host', 'If-Modified-Since', 'X-Forwarded-For', 'a', '-a', 'a-', 'a--1--2--b', '--abc-123', 'A', 'A-1', '--123-ABC'],
    ['Host:', 'X-Forwarded-For:', 'X-@Home', '', '_', 'a_', '.', 'a.b', ' ', 'a b', '#a#', '^', ',', ';', '=', '<', '?', '@', '{'],
  );

  checkTable('isValidPercent', isValidPercent, ['0%', '00000%', '1%', '01%', '99%', '100%', '101%'], ['', '0', '100', '0.0%', '99.9%', 'hundred', ' 1%', '1% ', '-0%', '-1%', '+1%']);

  checkTable(
    'isConfigMapKey',
    isConfigMapKey,
    ['a', 'good', 'good-good', 'still.good', 'this.is.also.good', '.so.is.this', 'THIS_IS_GOOD', 'so_is_this_17'],
    ['.', '..', '..bad', 'b*d', 'bad!&bad'],
  );

  checkTable(
    'isWildcardDNS1123Subdomain',
    isWildcardDNS1123Subdomain,
    ['*.example.com', '*.bar.com', '*.foo.bar.com'],
    ['*.*.bar.com', '*.foo.*.com', '*bar.com', 'f*.bar.com', '*'],
  );

  checkTable(
    'isValidPortName',
    isValidPortName,
    ['telnet', 're-mail-ck', 'pop3', 'a', 'a-1', '1-a', 'a-1-b-2-c', '1-a-2-b-3'],
    ['longerthan15characters', '', r('a', 16), '12345', '1-2-3-4', '-begin', 'end-', 'two--hyphens', 'whois++'],
  );

  checkTable('isCIdentifier', isCIdentifier, ['a', 'A', '_', 'my_name', 'MY_NAME', 'MyName', '_1'], ['', '1a', 'a-b', 'a.b', 'a b']);

  checkTable(
    'isEnvVarName',
    isEnvVarName,
    ['A', 'ABC', 'AbC_123', '_123', 'a', 'a.b', 'my.env-name', 'MY_ENV.NAME', '-'],
    ['1', '123', '1abc', 'a b', 'a=b', '.', '..', '..a'],
  );

  checkTable(
    'isRelaxedEnvVarName',
    isRelaxedEnvVarName,
    ['-', ':', '_', '+a', '>a', '<a', 'a.', 'a..', '*a', '%a', '?a', 'a:a', 'aAz', '~a', '|a', '0a', '0 a', "'a", '(a', '@a'],
    ['', '=', 'a=', '1=a', 'a=b', 'a\x00', '\u00e9'],
  );

  test('isValidPortNum, isInRange, user and group IDs', () => {
    for (const p of [1, 2, 1000, 16384, 32768, 65535]) assert.deepEqual(isValidPortNum(p), []);
    for (const p of [0, -1, 65536, 100000, 1.5]) assert.deepEqual(isValidPortNum(p), ['must be between 1 and 65535, inclusive']);
    for (const [v, lo, hi] of [[1, 0, 10], [5, 5, 20], [25, 10, 25]]) assert.deepEqual(isInRange(v, lo, hi), []);
    for (const [v, lo, hi] of [[1, 2, 10], [5, -4, 2], [25, 100, 120]]) assert.equal(isInRange(v, lo, hi).length, 1);
    for (const id of [0, 1, 1000, 65535, 2147483647, 2147483648, 3000000000, 0xffffffff]) {
      assert.deepEqual(isValidUserID(id), []);
      assert.deepEqual(isValidGroupID(id), []);
    }
    for (const id of [-1, -1003, 0x100000000]) {
      assert.deepEqual(isValidUserID(id), ['must be between 0 and 4294967295, inclusive']);
      assert.equal(isValidGroupID(id).length, 1);
    }
  });

  test('exact upstream messages', () => {
    assert.deepEqual(isDNS1123Label('A'), [
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ]);
    assert.deepEqual(isDNS1123Subdomain(r('a', 254)), [
      'must be no more than 253 characters',
    ]);
    assert.deepEqual(isQualifiedName('/a'), ['prefix part must be non-empty']);
    assert.deepEqual(isQualifiedName('a/'), [
      'name part must be non-empty',
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ]);
    assert.deepEqual(isQualifiedName('A.b/c')[0].startsWith('prefix part a lowercase RFC 1123 subdomain'), true);
    assert.deepEqual(isValidPortName('--'), [
      'must contain at least one letter (a-z)',
      'must not contain consecutive hyphens',
      'must not begin or end with a hyphen',
    ]);
    assert.deepEqual(isConfigMapKey('..'), ["must not be '..'"]);
    assert.deepEqual(isConfigMapKey('..b*d'), [
      "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      "must not start with '..'",
    ]);
    assert.equal(regexError('msg', 'fmt'), "msg (regex used for validation is 'fmt')");
  });
});

describe('IP addresses and CIDRs (upstream ip_test.go, legacy rules)', () => {
  const goodIPs = ['1.2.3.4', '0.0.0.0', '255.255.255.255', '1234::abcd', '::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '0:0:0:0:0:0:0:0', '0001:002:03:4::', '1234::ABCD', '1.1.1.01', '::ffff:1.1.1.1'];
  const badIPs = ['', 'aaaaaaa', 'myhost.mydomain', '1.2.3.0/24', '1.2.3.400', '-1.0.0.0', '2001:db8::10005', '1.2.3.4:80', '[2001:db8::1]', '[2001:db8::1]:80', 'example.com:80', '1234::abcd%eth0', '169.254.0.0%eth0', '1:2:3:4:5:6:7:8:9', '1::2::3'];
  test('isValidIP', () => {
    for (const ip of goodIPs) assert.deepEqual(isValidIP(ip), [], ip);
    for (const ip of badIPs) assert.deepEqual(isValidIP(ip), ['must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'], ip);
  });
  test('IPv4 versus IPv6 families', () => {
    assert.deepEqual(isValidIPv4Address('10.0.0.1'), []);
    assert.deepEqual(isValidIPv4Address('::ffff:10.0.0.1'), []);
    assert.deepEqual(isValidIPv4Address('2001:db8::1'), ['must be a valid IPv4 address']);
    assert.deepEqual(isValidIPv6Address('2001:db8::1'), []);
    assert.deepEqual(isValidIPv6Address('10.0.0.1'), ['must be a valid IPv6 address']);
  });
  test('isValidCIDR', () => {
    const good = ['1.0.0.0/8', '0.0.0.0/0', '1.1.1.1/32', '2001:4860:4860::/48', '::/0', '::1/128', '2a00:79e0:2:0::/64', '2001:DB8::/64', '1.1.01.0/24', '::ffff:1.1.1.0/24', '::ffff:1.1.1.0/120', '1.2.3.4/24', '2001:db8::1/64', '192.168.0.0/016'];
    const bad = ['', 'aaaaaaa', '1.2.3.4', '192.168.0.1/healthz', '192.168.0.1/0/99', '192.168.0.0/-16', '192.168.0.0/+16', '10.0.0.0/33', '::/129'];
    for (const c of good) assert.deepEqual(isValidCIDR(c), [], c);
    for (const c of bad) assert.deepEqual(isValidCIDR(c), ['must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'], c);
  });
});

describe('domain names and paths', () => {
  test('isFullyQualifiedDomainName', () => {
    const good = ['a.com', 'k8s.io', 'dev.k8s.io', 'dev.k8s.io.', 'foo.example.com', 'this.is.a.really.long.fqdn', 'bbc.co.uk', '10.0.0.1', 'hyphens-are-good.k8s.io', `${r('a', 63)}.k8s.io`];
    const bad = ['.', '...', '.io', 'com', '.com', 'Dev.k8s.io', '.foo.example.com', '*.example.com', 'underscores_are_bad.k8s.io', 'foo@bar.example.com', 'http://foo.example.com', `${r('a', 64)}.k8s.io`];
    for (const v of good) assert.deepEqual(isFullyQualifiedDomainName('spec.host', v), [], v);
    for (const v of bad) assert.notEqual(isFullyQualifiedDomainName('spec.host', v).length, 0, v);
  });

  test('isFullyQualifiedName', () => {
    const good = ['dev.k8s.io', 'foo.example.com', 'this.is.a.really.long.fqdn', 'bbc.co.uk', '10.0.0.1', 'hyphens-are-good.k8s.io', `${r('a', 246)}.k8s.io`];
    const bad = ['...', 'dev.k8s.io.', '.io', 'Dev.k8s.io', 'k8s.io', '*.example.com', 'underscores_are_bad.k8s.io', 'foo@bar.example.com', 'http://foo.example.com', `${r('a', 247)}.k8s.io`];
    for (const v of good) assert.deepEqual(isFullyQualifiedName('spec.group', v), [], v);
    for (const v of bad) assert.notEqual(isFullyQualifiedName('spec.group', v).length, 0, v);
    assert.deepEqual(messages(isFullyQualifiedName('spec.group', 'k8s.io')), [
      'spec.group: Invalid value: "k8s.io": should be a domain with at least three segments separated by dots',
    ]);
    assert.deepEqual(messages(isFullyQualifiedName('spec.group', '')), ['spec.group: Required value']);
  });

  test('isDomainPrefixedPath', () => {
    const good = ['a/b', 'a/b/c/d', 'a.com/foo', 'k8s.io/foo/bar', 'k8s.io/FOO/BAR', 'bbc.co.uk/path/goes/here', '10.0.0.1/foo', `${r('a', 240)}.k8s.io/a`, `k8s.io/${r('a', 240)}`];
    const bad = ['.', '...', '/b', 'com', '.com', 'a.b.c.d/foo?a=b', 'a.b.c.d/foo#a', 'Dev.k8s.io', '*.example.com', 'example.com/foo{}[]@^`', 'underscores_are_bad.k8s.io/foo', 'foo@bar.example.com/foo', `${r('a', 247)}.k8s.io`];
    for (const v of good) assert.deepEqual(isDomainPrefixedPath('spec.controller', v), [], v);
    for (const v of bad) assert.notEqual(isDomainPrefixedPath('spec.controller', v).length, 0, v);
    assert.deepEqual(messages(isDomainPrefixedPath('spec.controller', 'com')), [
      'spec.controller: Invalid value: "com": must be a domain-prefixed path (such as "acme.io/foo")',
    ]);
  });
});

describe('labels, annotations and selectors', () => {
  test('validateLabels reports key and value problems at the map path', () => {
    assert.deepEqual(validateLabels({ a: 'b', 'example.com/x': '' }, 'metadata.labels'), []);
    const errs = validateLabels({ '-bad': 'ok', good: 'bad value' }, 'metadata.labels');
    assert.deepEqual(
      errs.map((e) => [e.field, e.value]),
      [
        ['metadata.labels', '-bad'],
        ['metadata.labels', 'bad value'],
      ],
    );
  });

  test('validateAnnotations: case-insensitive keys, 256 KiB total', () => {
    const good: Record<string, string>[] = [
      { simple: 'bar' },
      { 'now-with-dashes/simple': 'bar' },
      { '1.2.3.4/5678': 'bar' },
      { UpperCase123: 'bar' },
      { 'Example.com/key': 'bar' },
      { a: r('b', TOTAL_ANNOTATION_SIZE_LIMIT_BYTES - 1) },
      { a: r('b', TOTAL_ANNOTATION_SIZE_LIMIT_BYTES / 2 - 1), c: r('d', TOTAL_ANNOTATION_SIZE_LIMIT_BYTES / 2 - 1) },
    ];
    for (const a of good) assert.deepEqual(validateAnnotations(a, 'metadata.annotations'), []);
    const nameCases: [string, string][] = [
      ['nospecialchars^=@', 'name part must consist of'],
      ['cantendwithadash-', 'name part must consist of'],
      ['only/one/slash', 'a qualified name must consist of'],
      [r('a', 254), 'must be no more than'],
    ];
    for (const [key, expect] of nameCases) {
      const errs = validateAnnotations({ [key]: 'bar' }, 'metadata.annotations');
      assert.equal(errs.length, 1, key);
      assert.ok(errs[0].detail?.includes(expect), `${key}: ${errs[0].detail}`);
    }
    const tooBig = validateAnnotations({ a: r('b', TOTAL_ANNOTATION_SIZE_LIMIT_BYTES) }, 'metadata.annotations');
    assert.deepEqual(messages(tooBig), ['metadata.annotations: Too long: must have at most 262144 bytes']);
    assert.equal(validateAnnotations({ a: r('b', 131072), c: r('d', 131072) }, 'metadata.annotations').length, 1);
  });

  test('validateLabelSelector operators and values', () => {
    const path = 'spec.selector';
    assert.deepEqual(validateLabelSelector(undefined, path), []);
    assert.deepEqual(validateLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] }, path), []);
    const cases: { sel: Parameters<typeof validateLabelSelector>[0]; want: string[] }[] = [
      {
        sel: { matchExpressions: [{ key: 'k', operator: 'In' }] },
        want: ["spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"],
      },
      {
        sel: { matchExpressions: [{ key: 'k', operator: 'Exists', values: ['x'] }] },
        want: ["spec.selector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"],
      },
      {
        sel: { matchExpressions: [{ key: 'k', operator: 'Gt', values: ['1'] }] },
        want: ['spec.selector.matchExpressions[0].operator: Invalid value: "Gt": not a valid selector operator'],
      },
      {
        sel: { matchExpressions: [{ key: 'k', operator: 'NotIn', values: ['ok', 'not ok'] }] },
        want: [
          `spec.selector.matchExpressions[0].values[1]: Invalid value: "not ok": ${isValidLabelValue('not ok')[0]}`,
        ],
      },
      {
        sel: { matchLabels: { 'a/b/c': 'x' } },
        want: [`spec.selector.matchLabels: Invalid value: "a/b/c": ${isQualifiedName('a/b/c')[0]}`],
      },
    ];
    for (const c of cases) assert.deepEqual(messages(validateLabelSelector(c.sel, path)), c.want);
    assert.deepEqual(
      validateLabelSelector({ matchExpressions: [{ key: 'k', operator: 'In', values: ['not ok'] }] }, path, { allowInvalidLabelValueInSelector: true }),
      [],
    );
  });

  test('quantity checks', () => {
    assert.deepEqual(validateNonnegativeQuantity(parseQuantity('0'), 'spec.hard[cpu]'), []);
    assert.deepEqual(messages(validateNonnegativeQuantity(parseQuantity('-100m'), 'spec.hard[cpu]')), [
      'spec.hard[cpu]: Invalid value: "-100m": must be greater than or equal to 0',
    ]);
    assert.deepEqual(validatePositiveQuantity(parseQuantity('1Gi'), 'spec.capacity[storage]'), []);
    assert.deepEqual(messages(validatePositiveQuantity(parseQuantity('0'), 'spec.capacity[storage]')), [
      'spec.capacity[storage]: Invalid value: "0": must be greater than zero',
    ]);
  });

  test('convenience wrappers', () => {
    assert.deepEqual(validateNonnegativeField(0, 'spec.replicas'), []);
    assert.deepEqual(messages(validateNonnegativeField(-1, 'spec.replicas')), ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']);
    assert.deepEqual(validateDNS1123Label('ok', 'spec.containers[0].name'), []);
    assert.equal(messages(validateDNS1123Label('Bad', 'spec.containers[0].name'))[0].startsWith('spec.containers[0].name: Invalid value: "Bad": a lowercase RFC 1123 label'), true);
  });
});

describe('validateObjectMeta', () => {
  const valid: ObjectMeta = { name: 'test', namespace: 'default' };

  test('valid metadata passes', () => {
    assert.deepEqual(validateObjectMeta(valid, { namespaced: true }), []);
    assert.deepEqual(validateObjectMeta({ name: 'node-1' }, { namespaced: false }), []);
  });

  test('name and generateName', () => {
    assert.deepEqual(messages(validateObjectMeta({ namespace: 'default' }, { namespaced: true })), [
      'metadata.name: Required value: name or generateName is required',
    ]);
    // A trailing dash is fine in a generateName, since random characters follow.
    assert.deepEqual(validateObjectMeta({ name: 'foo-abcde', generateName: 'foo-' }, { namespaced: false }), []);
    const custom = (s: string): string[] => (s === 'test' ? [] : ['wrong value']);
    const table: [ObjectMeta, number][] = [
      [{ name: 'test' }, 0],
      [{ name: 'test', generateName: 'test' }, 0],
      [{ name: 'invalid' }, 1],
      [{ name: 'invalid', generateName: 'test' }, 1],
      [{ name: 'invalid', generateName: 'invalid' }, 2],
    ];
    for (const [meta, n] of table) {
      const errs = validateObjectMeta(meta, { namespaced: false, validateName: custom }, 'field');
      assert.equal(errs.length, n, JSON.stringify(meta));
      if (n) assert.ok(fieldErrorMessage(errs[0]).includes('wrong value'));
    }
  });

  test('namespace required, forbidden, and a DNS label', () => {
    assert.deepEqual(messages(validateObjectMeta({ name: 'x' }, { namespaced: true })), ['metadata.namespace: Required value']);
    assert.deepEqual(messages(validateObjectMeta({ name: 'x', namespace: 'ns' }, { namespaced: false })), [
      'metadata.namespace: Forbidden: not allowed on this type',
    ]);
    const dotted = validateObjectMeta({ name: 'x', namespace: 'foo.bar' }, { namespaced: true });
    assert.equal(dotted.length, 1);
    assert.ok(fieldErrorMessage(dotted[0]).includes('Invalid value: "foo.bar"'));
    assert.equal(validateObjectMeta({ name: 'x', namespace: r('A', 64) }, { namespaced: true }).length, 2);
  });

  test('generation must not be negative', () => {
    assert.deepEqual(messages(validateObjectMeta({ ...valid, generation: -1 }, { namespaced: true })), [
      'metadata.generation: Invalid value: -1: must be greater than or equal to 0',
    ]);
  });

  test('owner references', () => {
    const ref = { apiVersion: 'customresourceVersion', kind: 'customresourceKind', name: 'name', uid: '1' };
    const cases: { refs: ObjectMeta['ownerReferences']; want?: string }[] = [
      { refs: [ref] },
      { refs: [{ ...ref, apiVersion: 'v1', kind: 'Pod' }] },
      { refs: [{ ...ref, apiVersion: 'v1', kind: 'Event' }], want: '/v1, Kind=Event is disallowed from being an owner' },
      { refs: [{ ...ref, apiVersion: 'a/b/c' }], want: 'metadata.ownerReferences.apiVersion: Invalid value: "a/b/c": version must not be empty' },
      { refs: [{ ...ref, apiVersion: 'foo/' }], want: 'version must not be empty' },
      { refs: [{ ...ref, uid: '' }], want: 'metadata.ownerReferences.uid: Invalid value: "": must not be empty' },
      {
        refs: [
          { ...ref, uid: '1', controller: false },
          { ...ref, uid: '2', controller: true },
          { ...ref, uid: '3', controller: false },
          { ...ref, uid: '4' },
        ],
      },
      {
        refs: [
          { ...ref, kind: 'customresourceKind1', uid: '1', controller: false },
          { ...ref, kind: 'customresourceKind2', uid: '2', controller: true },
          { ...ref, kind: 'customresourceKind3', uid: '3', controller: true },
        ],
        want: 'Only one reference can have Controller set to true. Found "true" in references for customresourceKind2/name and customresourceKind3/name',
      },
    ];
    for (const c of cases) {
      const errs = messages(validateObjectMeta({ ...valid, ownerReferences: c.refs }, { namespaced: true }));
      if (!c.want) assert.deepEqual(errs, []);
      else {
        assert.equal(errs.length, 1, JSON.stringify(errs));
        assert.ok(errs[0].includes(c.want), errs[0]);
      }
    }
  });

  test('finalizers', () => {
    assert.deepEqual(validateObjectMeta({ ...valid, finalizers: ['kubernetes', 'example.com/x', 'foregroundDeletion'] }, { namespaced: true }), []);
    assert.deepEqual(messages(validateObjectMeta({ ...valid, finalizers: ['orphan', 'foregroundDeletion'] }, { namespaced: true })), [
      'metadata.finalizers: Invalid value: ["orphan","foregroundDeletion"]: finalizer orphan and foregroundDeletion cannot be both set',
    ]);
    assert.deepEqual(messages(validateObjectMeta({ ...valid, finalizers: ['ok', 'example.com/x'] }, { namespaced: true })), [
      'metadata.finalizers[0]: Invalid value: "ok": name is neither a standard finalizer name nor is it fully qualified',
    ]);
    // Custom resources accept any qualified name.
    assert.deepEqual(validateObjectMeta({ ...valid, finalizers: ['ok'] }, { namespaced: true, customResource: true }), []);
    assert.equal(validateObjectMeta({ ...valid, finalizers: ['a/b/c'] }, { namespaced: true, customResource: true })[0].field, 'metadata.finalizers');
  });

  test('managed fields', () => {
    const errs = messages(validateObjectMeta({ ...valid, managedFields: [{ manager: 'bad\tname', operation: 'Patch', fieldsType: 'FieldsV2' }] }, { namespaced: true }));
    assert.deepEqual(errs, [
      'metadata.managedFields[0].operation: Invalid value: "Patch": must be `Apply` or `Update`',
      'metadata.managedFields[0].fieldsType: Invalid value: "FieldsV2": must be `FieldsV1`',
      'metadata.managedFields[0].manager: Invalid value: "bad\\tname": invalid character U+0009 (at position 3)',
    ]);
  });
});

describe('validateObjectMetaUpdate', () => {
  const base: ObjectMeta = { name: 'test', resourceVersion: '1' };
  const update = (n: ObjectMeta, o: ObjectMeta): string[] => messages(validateObjectMetaUpdate(n, o, 'field'));

  test('resourceVersion is required and generation must not decrease', () => {
    assert.deepEqual(update({ name: 'test' }, base), ['field.resourceVersion: Invalid value: "": must be specified for an update']);
    assert.deepEqual(update({ ...base, generation: 4 }, { ...base, generation: 5 }), ['field.generation: Invalid value: 4: must not be decremented']);
    assert.deepEqual(update({ ...base, generation: 2 }, { ...base, generation: 1 }), []);
  });

  test('identity fields are immutable', () => {
    assert.deepEqual(update({ ...base, name: 'other' }, base), ['field.name: Invalid value: "other": field is immutable']);
    assert.deepEqual(update({ ...base, namespace: 'new-ns' }, { ...base, namespace: 'old-ns' }), ['field.namespace: Invalid value: "new-ns": field is immutable']);
    assert.deepEqual(update({ ...base, uid: 'b' }, { ...base, uid: 'a' }), ['field.uid: Invalid value: "b": field is immutable']);
    assert.equal(update(base, { ...base, creationTimestamp: '1970-01-01T00:00:10Z' }).length, 1);
  });

  test('deletion fields cannot be changed by an update', () => {
    const now = '1970-01-01T00:16:40Z';
    const later = '1970-01-01T00:33:20Z';
    const cases: [ObjectMeta, ObjectMeta, string[]][] = [
      [base, base, []],
      [{ ...base, deletionTimestamp: now, deletionGracePeriodSeconds: 30 }, { ...base, deletionTimestamp: now, deletionGracePeriodSeconds: 30 }, []],
      [{ ...base, deletionTimestamp: now }, base, [`field.deletionTimestamp: Invalid value: "${now}": field is immutable`]],
      [base, { ...base, deletionTimestamp: now }, ['field.deletionTimestamp: Invalid value: null: field is immutable']],
      [{ ...base, deletionTimestamp: later }, { ...base, deletionTimestamp: now }, [`field.deletionTimestamp: Invalid value: "${later}": field is immutable`]],
      [{ ...base, deletionGracePeriodSeconds: 30 }, base, ['field.deletionGracePeriodSeconds: Invalid value: 30: field is immutable']],
      [base, { ...base, deletionGracePeriodSeconds: 30 }, ['field.deletionGracePeriodSeconds: Invalid value: null: field is immutable']],
      [{ ...base, deletionGracePeriodSeconds: 40 }, { ...base, deletionGracePeriodSeconds: 30 }, ['field.deletionGracePeriodSeconds: Invalid value: 40: field is immutable']],
    ];
    for (const [n, o, want] of cases) assert.deepEqual(update(n, o), want, JSON.stringify([n, o]));
  });

  test('no new finalizers while being deleted', () => {
    const deleting = { ...base, deletionTimestamp: '1970-01-01T00:00:00Z' };
    assert.deepEqual(update({ ...deleting, finalizers: ['x/a', 'y/b'] }, { ...deleting, finalizers: ['x/a'] }), [
      'field.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"y/b"}',
    ]);
    assert.equal(update({ ...deleting, finalizers: ['x/b'] }, { ...deleting, finalizers: ['x/a'] }).length, 1);
    assert.deepEqual(update({ ...deleting, finalizers: ['x/a'] }, { ...deleting, finalizers: ['x/a', 'y/b'] }), []);
    assert.deepEqual(update({ ...base, finalizers: ['x/a', 'y/b'] }, { ...base, finalizers: ['x/a'] }), []);
  });
});

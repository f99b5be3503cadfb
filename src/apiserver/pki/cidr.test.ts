import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalIp, formatCidr, nthAddress, parseCidr } from './cidr.js';

test('first service IP of the default service CIDR', () => {
  assert.equal(nthAddress(parseCidr('198.19.0.0/16'), 1), '198.19.0.1');
  assert.equal(nthAddress(parseCidr('198.19.5.7/16'), 10), '198.19.0.10');
});

test('IPv6 ranges', () => {
  assert.equal(nthAddress(parseCidr('fd00:10:96::/108'), 1), 'fd00:10:96::1');
  assert.equal(formatCidr(parseCidr('fd00::abcd/64')), 'fd00::/64');
});

test('invalid CIDRs are rejected with the value in the message', () => {
  for (const bad of ['198.19.0.0', '198.19.0.0/33', 'x/8', '', '1.2.3.4/ 8', '::/129']) {
    assert.throws(() => parseCidr(bad), new RegExp(`invalid CIDR address: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`));
  }
});

test('addresses beyond the range are refused', () => {
  assert.throws(() => nthAddress(parseCidr('198.18.0.0/30'), 4), /outside the range/);
});

test('canonical IPs compare equal across spellings', () => {
  assert.equal(canonicalIp('0:0:0:0:0:0:0:1'), '::1');
  assert.equal(canonicalIp('::ffff:198.18.0.1'), '::ffff:c612:1');
  assert.equal(canonicalIp('198.18.0.1'), '198.18.0.1');
});

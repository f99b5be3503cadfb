import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caHash, ensureServerToken, formatToken, parseToken, tokenFile } from './token.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

test('full tokens (k3s format) carry the CA hash, user and password; short tokens only a password', () => {
  const full = formatToken(CA, 'secret');
  assert.match(full, /^K10[0-9a-f]{64}::server:secret$/);
  assert.deepEqual(parseToken(full), { caHash: caHash(CA), username: 'server', password: 'secret' });
  assert.deepEqual(parseToken(`K10${caHash(CA)}::node:p:w`), { caHash: caHash(CA), username: 'node', password: 'p:w' });
  assert.deepEqual(parseToken('  plain-secret\n'), { password: 'plain-secret' });
  assert.throws(() => parseToken('K10abc::server:x'), /64 hex digits/);
  assert.throws(() => parseToken(`K10${caHash(CA)}::server:`), /empty password/);
});

test('the server writes the full token, keeps its password across restarts and refuses a token for another CA', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-token-'));
  try {
    const first = await ensureServerToken(dir, CA, undefined);
    assert.match(first.password, /^[0-9a-f]{32}$/);
    assert.equal((await readFile(tokenFile(dir), 'utf8')).trim(), first.token);
    assert.equal((await readFile(join(dir, 'server', 'node-token'), 'utf8')).trim(), first.token);
    const again = await ensureServerToken(dir, CA, undefined);
    assert.equal(again.password, first.password);
    const given = await ensureServerToken(dir, CA, 'mine');
    assert.equal(given.token, formatToken(CA, 'mine'));
    assert.equal((await ensureServerToken(dir, CA, given.token)).password, 'mine');
    const other = formatToken(CA.replace('MIIB', 'MIIC'), 'mine');
    await assert.rejects(ensureServerToken(dir, CA, other), /does not match this cluster's CA/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeconfig } from './kubeconfig.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('loadKubeconfig', () => {
  test('current context, inline data, relative file references, default namespace, named context', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skiff-kubeconfig-'));
    try {
      await writeFile(join(dir, 'ca.crt'), 'CA-FILE');
      const path = join(dir, 'config');
      await writeFile(
        path,
        `apiVersion: v1
kind: Config
current-context: main
clusters:
- name: c1
  cluster: {server: "https://127.0.0.1:6443", certificate-authority-data: ${b64('CA-DATA')}}
- name: c2
  cluster: {server: "https://127.0.0.1:7443", certificate-authority: ca.crt, insecure-skip-tls-verify: true}
users:
- name: admin
  user: {client-certificate-data: ${b64('CERT')}, client-key-data: ${b64('KEY')}}
- name: bot
  user: {token: secret-token}
contexts:
- name: main
  context: {cluster: c1, user: admin}
- name: other
  context: {cluster: c2, user: bot, namespace: team}
`,
      );
      const main = await loadKubeconfig(path);
      assert.deepEqual(main, {
        server: 'https://127.0.0.1:6443',
        ca: 'CA-DATA',
        cert: 'CERT',
        key: 'KEY',
        token: undefined,
        insecureSkipTlsVerify: false,
        namespace: 'default',
      });
      const other = await loadKubeconfig(path, 'other');
      assert.equal(other.ca, 'CA-FILE', 'relative to the kubeconfig directory');
      assert.equal(other.token, 'secret-token');
      assert.equal(other.namespace, 'team');
      assert.equal(other.insecureSkipTlsVerify, true);
      await assert.rejects(loadKubeconfig(path, 'nope'), /no context named "nope"/);
      await writeFile(path, 'just a string');
      await assert.rejects(loadKubeconfig(path), /not a YAML mapping/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

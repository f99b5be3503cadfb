import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerdConfig, containerdPaths } from '../containerd/supervisor.js';
import { hostsTomlFiles, parseRegistries, registryConfigToml, writeHostsDir } from './registries.js';

const YAML = `
mirrors:
  docker.io:
    endpoint:
      - "https://mirror.test:5000/"
      - "http://127.0.0.1:5001"
  registry.test:
    endpoint: ["https://127.0.0.1:5443"]
configs:
  "127.0.0.1:5443":
    tls:
      ca_file: /etc/ssl/registry-ca.pem
    auth:
      username: alice
      password: secret
  "mirror.test:5000":
    tls:
      insecure_skip_verify: true
      cert_file: /c.pem
      key_file: /k.pem
  "plain.test":
    tls:
      ca_file: /ca.pem
`;

test('registries.yaml -> one hosts.toml per registry: mirrors in order, then the registry; TLS from each endpoint host', () => {
  const cfg = parseRegistries(YAML);
  const files = hostsTomlFiles(cfg);
  assert.deepEqual([...files.keys()].sort(), ['127.0.0.1:5443', 'docker.io', 'mirror.test:5000', 'plain.test', 'registry.test']);
  assert.equal(
    files.get('docker.io'),
    [
      '# Written by skiff from registries.yaml at every agent start; edits are overwritten.',
      'server = "https://registry-1.docker.io"',
      '',
      '[host."https://mirror.test:5000"]',
      '  capabilities = ["pull", "resolve"]',
      '  client = [["/c.pem", "/k.pem"]]',
      '  skip_verify = true',
      '',
      '[host."http://127.0.0.1:5001"]',
      '  capabilities = ["pull", "resolve"]',
      '',
    ].join('\n'),
  );
  assert.match(files.get('registry.test')!, /server = "https:\/\/registry.test"\n\n\[host."https:\/\/127.0.0.1:5443"\]\n  capabilities = \["pull", "resolve"\]\n  ca = "\/etc\/ssl\/registry-ca.pem"\n/);
  // A registry without mirrors is its own [host] (containerd 1.6 ignores a hosts.toml without one).
  assert.match(files.get('127.0.0.1:5443')!, /server = "https:\/\/127.0.0.1:5443"\n\n\[host."https:\/\/127.0.0.1:5443"\]\n  capabilities = \["pull", "resolve"\]\n  ca = "\/etc\/ssl\/registry-ca.pem"\n/);
  assert.equal(
    registryConfigToml(cfg, '/d/certs.d'),
    [
      '[plugins."io.containerd.grpc.v1.cri".registry]',
      '  config_path = "/d/certs.d"',
      '',
      '[plugins."io.containerd.grpc.v1.cri".registry.configs."127.0.0.1:5443".auth]',
      '  username = "alice"',
      '  password = "secret"',
      '',
    ].join('\n'),
  );
});

test('containerd config carries the registry section; the hosts folder is rewritten from scratch', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-registries-'));
  try {
    const paths = containerdPaths(dir);
    assert.match(containerdConfig(paths, 'pause:1', parseRegistries(YAML)), /config_path = ".*\/containerd\/certs.d"[\s\S]*registry.configs."127.0.0.1:5443".auth\]\n  username = "alice"/);
    await mkdir(join(paths.certsDir, 'stale.test'), { recursive: true });
    await writeFile(join(paths.certsDir, 'stale.test', 'hosts.toml'), 'server = "x"');
    await writeHostsDir(parseRegistries(YAML), paths.certsDir);
    assert.deepEqual((await readdir(paths.certsDir)).sort(), ['127.0.0.1:5443', 'docker.io', 'mirror.test:5000', 'plain.test', 'registry.test']);
    assert.match(await readFile(join(paths.certsDir, 'plain.test', 'hosts.toml'), 'utf8'), /ca = "\/ca.pem"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('registries.yaml errors name the file and the field', () => {
  assert.deepEqual(parseRegistries(''), { mirrors: {}, configs: {} });
  assert.throws(() => parseRegistries('mirror: {}', 'r.yaml'), { message: 'r.yaml: unknown field "mirror"' });
  assert.throws(() => parseRegistries('mirrors: {docker.io: {endpoint: ["ftp://x"]}}', 'r.yaml'), { message: 'r.yaml: mirrors."docker.io".endpoint[0]: "ftp://x" is not an http(s) URL' });
  assert.throws(() => parseRegistries('configs: {r: {tls: {insecure_skip_verify: "yes"}}}', 'r.yaml'), /insecure_skip_verify: must be true or false/);
  assert.throws(() => parseRegistries('configs: {r: {tls: {cert_file: /c}}}', 'r.yaml'), /cert_file and key_file go together/);
});

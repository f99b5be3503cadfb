import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { addServerCommand, toServerConfig, type RawServerOptions } from './server.js';
import { defaultDataDir } from './paths.js';

/** Parses `skiff server <args>` through commander without running the server. */
function parseFlags(args: string[]): RawServerOptions {
  const program = new Command('skiff').exitOverride();
  addServerCommand(program);
  const server = program.commands.find((c) => c.name() === 'server');
  assert.ok(server);
  let captured: RawServerOptions | undefined;
  server.action((opts: RawServerOptions) => {
    captured = opts;
  });
  program.parse(['server', ...args], { from: 'user' });
  assert.ok(captured);
  return captured;
}

test('defaults follow k3s', () => {
  const c = toServerConfig(parseFlags([]));
  assert.equal(c.dataDir, defaultDataDir());
  assert.equal(c.bindAddress, '0.0.0.0');
  assert.equal(c.httpsListenPort, 6443);
  assert.equal(c.writeKubeconfig, `${defaultDataDir()}/kubeconfig.yaml`);
  assert.equal(c.writeKubeconfigMode, 0o600);
  assert.equal(c.datastoreEndpoint, '');
  assert.equal(c.clusterCidr, '198.18.0.0/16');
  assert.equal(c.serviceCidr, '198.19.0.0/16');
  assert.deepEqual(c.disableControllers, []);
  assert.equal(c.disableAgent, false);
  assert.equal(c.logLevel, 'info');
  assert.equal(c.token, undefined);
  assert.equal(c.advertiseAddress, undefined);
});

test('every flag is parsed into the typed config', () => {
  const c = toServerConfig(
    parseFlags([
      '--data-dir', '/tmp/skiff-x',
      '--bind-address', '127.0.0.1',
      '--https-listen-port', '7443',
      '--advertise-address', '198.18.0.5',
      '--write-kubeconfig-mode', '644',
      '--datastore-endpoint', 'http://127.0.0.1:2379,127.0.0.1:22379',
      '--token', 'abc',
      '--disable-agent',
      '--cluster-cidr', '198.18.0.0/17',
      '--service-cidr', '198.19.0.0/24',
      '--disable-controllers', 'garbage-collector,ttl',
      '--disable-controllers', 'cronjob',
      '--log-level', 'debug',
      '--egress-selector-mode', 'disabled',
    ]),
  );
  assert.deepEqual(c, {
    dataDir: '/tmp/skiff-x',
    bindAddress: '127.0.0.1',
    httpsListenPort: 7443,
    advertiseAddress: '198.18.0.5',
    writeKubeconfig: '/tmp/skiff-x/kubeconfig.yaml',
    writeKubeconfigMode: 0o644,
    datastoreEndpoint: 'http://127.0.0.1:2379,127.0.0.1:22379',
    token: 'abc',
    disableAgent: true,
    clusterCidr: '198.18.0.0/17',
    serviceCidr: '198.19.0.0/24',
    disableControllers: ['garbage-collector', 'ttl', 'cronjob'],
    logLevel: 'debug',
    egressSelectorMode: 'disabled',
  });
  assert.equal(toServerConfig(parseFlags(['-o', '/tmp/k.yaml'])).writeKubeconfig, '/tmp/k.yaml');
});

test('bad values name the flag', () => {
  const cases: [string[], RegExp][] = [
    [['--https-listen-port', '70000'], /invalid --https-listen-port "70000"/],
    [['--https-listen-port', '-1'], /invalid --https-listen-port "-1"/],
    [['--bind-address', 'localhost'], /invalid --bind-address "localhost": not an IP address/],
    [['--egress-selector-mode', 'tunnel'], /invalid --egress-selector-mode "tunnel": must be one of agent, cluster, pod, disabled/],
    [['--advertise-address', '1.2.3'], /invalid --advertise-address/],
    [['--write-kubeconfig-mode', '0999'], /invalid --write-kubeconfig-mode "0999"/],
    [['--cluster-cidr', '198.18.0.0/40'], /invalid --cluster-cidr/],
    [['--service-cidr', 'nope'], /invalid --service-cidr "nope"/],
    [['--log-level', 'loud'], /invalid --log-level "loud": must be one of error, warn, info, debug/],
    [['--datastore-endpoint', '127.0.0.1:2379'], /invalid --datastore-endpoint "127\.0\.0\.1:2379"/],
    [['--token', ''], /invalid --token/],
  ];
  for (const [args, message] of cases) assert.throws(() => toServerConfig(parseFlags(args)), message, args.join(' '));
});

test('--private-registry and --kubelet-arg reach the local node: registries.yaml path and image GC thresholds', async () => {
  const { toKubeletNodeConfig } = await import('./agent.js');
  const raw = parseFlags(['--private-registry', 'regs.yaml', '--kubelet-arg', 'image-gc-high-threshold=90', '--kubelet-arg', 'minimum-image-ttl-duration=5m']) as RawServerOptions & {
    privateRegistry?: string;
    kubeletArg?: string[];
  };
  const node = toKubeletNodeConfig(raw);
  assert.equal(node.privateRegistry, `${process.cwd()}/regs.yaml`);
  assert.deepEqual(node.imageGC, { highThresholdPercent: 90, lowThresholdPercent: 80, minAgeMs: 300_000 });
  assert.throws(() => toKubeletNodeConfig({ kubeletArg: ['image-gc-low-threshold=95'] }), /must be less than imageGCHighThresholdPercent/);
  assert.throws(() => toKubeletNodeConfig({ kubeletArg: ['max-pods=20'] }), /unknown kubelet flag/);
  assert.equal(toKubeletNodeConfig({ kubeletArg: ['sync-frequency=30s'] }).syncFrequencyMs, 30_000);
  assert.equal(toKubeletNodeConfig({ kubeletArg: ['image-gc-high-threshold=90'] }).syncFrequencyMs, undefined);
});

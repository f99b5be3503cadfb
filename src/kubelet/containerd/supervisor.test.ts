import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAgentPackages, containerdConfig, containerdPaths } from './supervisor.js';
import { bridgeName, cniConflist } from '../network/cni.js';
import { firstNodeCIDR, clusterDNSFor } from '../run.js';

test('missing packages are named with the apt-get command', () => {
  assert.doesNotThrow(() => checkAgentPackages(() => true));
  assert.throws(
    () => checkAgentPackages((p) => !p.startsWith('/usr/lib/cni') && p !== '/usr/sbin/runc'),
    /needs the Debian packages runc, containernetworking-plugins .*install with: apt-get install -y runc containernetworking-plugins/,
  );
});

test('containerd config: own dirs and socket, restrict_oom_score_adj, runc with its own root, CNI dirs', () => {
  const p = containerdPaths('/data/agent');
  assert.equal(p.socket, '/data/agent/containerd/containerd.sock');
  const toml = containerdConfig(p, 'registry.k8s.io/pause:3.10');
  for (const line of [
    'root = "/data/agent/containerd/root"',
    'state = "/data/agent/containerd/state"',
    'address = "/data/agent/containerd/containerd.sock"',
    'restrict_oom_score_adj = true',
    'sandbox_image = "registry.k8s.io/pause:3.10"',
    'snapshotter = "overlayfs"',
    'Root = "/data/agent/containerd/runc"',
    'bin_dir = "/usr/lib/cni"',
    'conf_dir = "/data/agent/cni/net.d"',
  ]) {
    assert.ok(toml.includes(line), line);
  }
});

test('CNI: bridge per data dir, host-local from the pod CIDR, portmap; local node ranges', () => {
  const b = bridgeName('/data/agent');
  assert.ok(b.length <= 15 && b.startsWith('skiff'));
  assert.notEqual(b, bridgeName('/other/agent'));
  const conf = cniConflist({ agentDir: '/data/agent', podCIDR: '198.18.4.0/24', bridge: b }) as { plugins: { type: string; ipam?: { ranges: { subnet: string }[][] } }[] };
  assert.deepEqual(conf.plugins.map((p) => p.type), ['bridge', 'portmap']);
  assert.equal(conf.plugins[0]?.ipam?.ranges[0]?.[0]?.subnet, '198.18.4.0/24');
  assert.equal(firstNodeCIDR('198.18.0.0/16'), '198.18.0.0/24');
  assert.equal(firstNodeCIDR('198.18.7.0/24'), '198.18.7.0/24');
  assert.equal(firstNodeCIDR('198.18.7.0/26'), '198.18.7.0/26');
  assert.equal(clusterDNSFor('198.19.0.0/16'), '198.19.0.10');
});

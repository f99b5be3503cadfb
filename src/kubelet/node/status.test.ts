import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeNodeStatus, initialNode, nodeStatusChanged, type NodeStatusInput } from './status.js';

const GiB = 1024 ** 3;

function input(over: Partial<NodeStatusInput> = {}): NodeStatusInput {
  return {
    id: { name: 'n1', addresses: ['198.18.255.2'], hostname: 'n1', controlPlane: true },
    machine: { cpus: 2, memoryBytes: 8 * GiB, ephemeralStorageBytes: 100 * GiB, machineID: 'm', systemUUID: 's', bootID: 'b', kernelVersion: '6.1.0', osImage: 'Debian GNU/Linux 12 (bookworm)' },
    signals: { memoryAvailableBytes: 4 * GiB, nodefsAvailableBytes: 50 * GiB, nodefsCapacityBytes: 100 * GiB, pidsAvailable: 30000, pidsMax: 32768 },
    runtime: { runtimeReady: true, networkReady: true, version: '1.6.20' },
    images: [{ names: ['docker.io/library/busybox:latest'], sizeBytes: 1_000_000 }],
    kubeletVersion: 'v1.31.0+skiff',
    previous: undefined,
    now: Date.parse('2026-01-01T00:00:00Z'),
    ...over,
  };
}

test('registration: labels and podCIDR', () => {
  const n = initialNode({ name: 'n1', addresses: [], hostname: 'n1', controlPlane: true, podCIDR: '198.18.3.0/24' });
  assert.equal(n.metadata?.labels?.['kubernetes.io/hostname'], 'n1');
  assert.equal(n.metadata?.labels?.['kubernetes.io/os'], 'linux');
  assert.equal(n.metadata?.labels?.['node-role.kubernetes.io/control-plane'], 'true');
  assert.deepEqual(n.spec, { podCIDR: '198.18.3.0/24', podCIDRs: ['198.18.3.0/24'] });
  const worker = initialNode({ name: 'w', addresses: [], hostname: 'w', controlPlane: false });
  assert.equal(worker.metadata?.labels?.['node-role.kubernetes.io/control-plane'], undefined);
});

test('capacity, allocatable minus eviction thresholds, addresses, nodeInfo, conditions', () => {
  const s = computeNodeStatus(input());
  assert.deepEqual(s.capacity, { cpu: '2', 'ephemeral-storage': '104857600Ki', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '8388608Ki', pods: '110' });
  assert.equal(s.allocatable?.memory, '8286208Ki');
  assert.equal(s.allocatable?.['ephemeral-storage'], String(Math.floor(100 * GiB * 0.9)));
  assert.deepEqual(s.addresses, [{ type: 'InternalIP', address: '198.18.255.2' }, { type: 'Hostname', address: 'n1' }]);
  assert.equal(s.nodeInfo?.containerRuntimeVersion, 'containerd://1.6.20');
  assert.equal(s.nodeInfo?.kubeletVersion, 'v1.31.0+skiff');
  const c = Object.fromEntries((s.conditions ?? []).map((x) => [x.type, x]));
  assert.deepEqual([c.MemoryPressure?.reason, c.DiskPressure?.reason, c.PIDPressure?.reason, c.Ready?.reason], ['KubeletHasSufficientMemory', 'KubeletHasNoDiskPressure', 'KubeletHasSufficientPID', 'KubeletReady']);
  assert.equal(c.Ready?.message, 'kubelet is posting ready status');
});

test('pressure and not-ready conditions', () => {
  const s = computeNodeStatus(
    input({
      signals: { memoryAvailableBytes: 50 * 1024 * 1024, nodefsAvailableBytes: 5 * GiB, nodefsCapacityBytes: 100 * GiB, pidsAvailable: 10, pidsMax: 32768 },
      runtime: { runtimeReady: true, networkReady: false, message: 'reason:NetworkPluginNotReady message:cni config uninitialized', version: '1.6.20' },
      pidPressureThreshold: 100,
    }),
  );
  const c = Object.fromEntries((s.conditions ?? []).map((x) => [x.type, x]));
  assert.equal(c.MemoryPressure?.status, 'True');
  assert.equal(c.DiskPressure?.status, 'True');
  assert.equal(c.PIDPressure?.status, 'True');
  assert.equal(c.Ready?.status, 'False');
  assert.equal(c.Ready?.reason, 'KubeletNotReady');
  assert.match(c.Ready?.message ?? '', /^container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady/);
});

test('heartbeat-only differences are not a change; transitions keep their time', () => {
  const first = computeNodeStatus(input());
  const later = computeNodeStatus(input({ previous: first, now: Date.parse('2026-01-01T00:00:10Z') }));
  assert.equal(nodeStatusChanged(first, later), false);
  assert.equal(later.conditions?.[3]?.lastTransitionTime, '2026-01-01T00:00:00Z');
  assert.equal(later.conditions?.[3]?.lastHeartbeatTime, '2026-01-01T00:00:10Z');
  const notReady = computeNodeStatus(input({ previous: first, runtime: { runtimeReady: false, networkReady: false, version: 'x' } }));
  assert.equal(nodeStatusChanged(first, notReady), true);
});

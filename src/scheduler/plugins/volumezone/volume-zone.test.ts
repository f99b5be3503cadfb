import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { CycleState } from '../../framework/cycle-state.js';
import { NodeInfo } from '../../framework/node-info.js';
import { Code, type Status } from '../../framework/status.js';
import { makeNode, makePod } from '../../testing/builders.js';
import { ERR_REASON_VOLUME_ZONE_CONFLICT, VolumeZone } from './volume-zone.js';

const pv = (name: string, labels: Record<string, string>): PersistentVolume => ({ metadata: { name, labels } });
const pvc = (name: string, volumeName: string, storageClassName?: string): PersistentVolumeClaim => ({
  metadata: { name, namespace: 'default' },
  spec: { volumeName, ...(storageClassName ? { storageClassName } : {}) },
});
const pvs = [
  pv('Vol_1', { 'failure-domain.beta.kubernetes.io/zone': 'us-west1-a' }),
  pv('Vol_2', { 'failure-domain.beta.kubernetes.io/region': 'us-west1', 'uselessLabel': 'none' }),
  pv('Vol_3', { 'topology.kubernetes.io/zone': 'us-west1-a' }),
  pv('Vol_4', { 'topology.kubernetes.io/zone': 'us-west1-a__us-west1-b' }),
];
const pvcs = [
  pvc('PVC_1', 'Vol_1'),
  pvc('PVC_2', 'Vol_2'),
  pvc('PVC_3', 'Vol_3'),
  pvc('PVC_4', 'Vol_4'),
  pvc('PVC_WFFC', '', 'wffc'),
  pvc('PVC_Immediate', '', 'immediate'),
];
const classes: StorageClass[] = [
  { metadata: { name: 'wffc' }, provisioner: 'p', volumeBindingMode: 'WaitForFirstConsumer' },
  { metadata: { name: 'immediate' }, provisioner: 'p', volumeBindingMode: 'Immediate' },
];

const podWith = (claim?: string): Pod =>
  makePod({ name: 'p', spec: claim ? { volumes: [{ name: 'v', persistentVolumeClaim: { claimName: claim } }] } : {} });

function run(pod: Pod, nodeLabels: Record<string, string>): { pre?: Status; filter?: Status; skipped?: boolean } {
  const pl = new VolumeZone({
    getPVC: (ns, n) => pvcs.find((c) => c.metadata?.namespace === ns && c.metadata?.name === n),
    getPV: (n) => pvs.find((v) => v.metadata?.name === n),
    getStorageClass: (n) => classes.find((c) => c.metadata?.name === n),
  });
  const state = new CycleState();
  const pre = pl.preFilter(state, pod);
  if (pre?.status?.isSkip()) return { skipped: true };
  if (pre?.status) return { pre: pre.status };
  const s = pl.filter(state, pod, new NodeInfo(makeNode('host1', {}, { labels: nodeLabels })));
  return s ? { filter: s } : {};
}

const conflict = (r: ReturnType<typeof run>): void => {
  assert.equal(r.filter?.code, Code.UnschedulableAndUnresolvable);
  assert.deepEqual(r.filter?.reasons, [ERR_REASON_VOLUME_ZONE_CONFLICT]);
};

describe('VolumeZone (upstream volume_zone_test.go)', () => {
  test('pod without volume is skipped', () => {
    assert.deepEqual(run(podWith(), { 'failure-domain.beta.kubernetes.io/zone': 'us-west1-a' }), { skipped: true });
  });
  test('node without labels fits', () => {
    assert.deepEqual(run(podWith('PVC_1'), {}), {});
  });
  test('beta zone label matched', () => {
    assert.deepEqual(run(podWith('PVC_1'), { 'failure-domain.beta.kubernetes.io/zone': 'us-west1-a', uselessLabel: 'none' }), {});
  });
  test('beta region label matched', () => {
    assert.deepEqual(run(podWith('PVC_2'), { 'failure-domain.beta.kubernetes.io/region': 'us-west1', uselessLabel: 'none' }), {});
  });
  test('beta region label does not match', () => {
    conflict(run(podWith('PVC_2'), { 'failure-domain.beta.kubernetes.io/region': 'no_us-west1', uselessLabel: 'none' }));
  });
  test('beta zone label does not match', () => {
    conflict(run(podWith('PVC_1'), { 'failure-domain.beta.kubernetes.io/zone': 'no_us-west1-a', uselessLabel: 'none' }));
  });
  test('zone label matched, and a PV listing several zones', () => {
    assert.deepEqual(run(podWith('PVC_3'), { 'topology.kubernetes.io/zone': 'us-west1-a' }), {});
    assert.deepEqual(run(podWith('PVC_4'), { 'topology.kubernetes.io/zone': 'us-west1-b' }), {});
    conflict(run(podWith('PVC_4'), { 'topology.kubernetes.io/zone': 'us-west1-c' }));
  });
  test('PV with beta zone label, node with the GA label', () => {
    assert.deepEqual(run(podWith('PVC_1'), { 'topology.kubernetes.io/zone': 'us-west1-a' }), {});
  });
  test('unbound claims: WaitForFirstConsumer skipped, Immediate unresolvable', () => {
    assert.deepEqual(run(podWith('PVC_WFFC'), { 'topology.kubernetes.io/zone': 'us-west1-a' }), { skipped: true });
    const r = run(podWith('PVC_Immediate'), {});
    assert.equal(r.pre?.code, Code.UnschedulableAndUnresolvable);
    assert.deepEqual(r.pre?.reasons, ['PersistentVolume had no name']);
    const missing = run(podWith('nope'), {});
    assert.deepEqual(missing.pre?.reasons, ['persistentvolumeclaim "nope" not found']);
  });
});

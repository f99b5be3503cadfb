// NodeVolumeLimits (CSILimits) with cases after upstream's csi_test.go: attach limits from CSINode or the node's
// allocatable, volumes shared with pods already on the node counted once, unbound claims counted by their class's
// provisioner, other drivers not counted, and a missing claim of the new pod rejected outright.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { CSINode, StorageClass, VolumeAttachment } from 'kubernetes-types/storage/v1.js';
import { CycleState } from '../../framework/cycle-state.js';
import { NodeInfo } from '../../framework/node-info.js';
import { Code, type MaybeStatus } from '../../framework/status.js';
import { makeNode, makePod } from '../../testing/builders.js';
import { ERR_REASON_MAX_VOLUME_COUNT_EXCEEDED, NodeVolumeLimits, csiAttachLimitKey } from './csi.js';

const EBS = 'ebs.csi.aws.com';
const GCE = 'pd.csi.storage.gke.io';

const pv = (name: string, driver: string): PersistentVolume => ({ metadata: { name }, spec: { csi: { driver, volumeHandle: `${name}-handle` }, capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] } });
const pvc = (name: string, volumeName: string, cls?: string): PersistentVolumeClaim => ({
  metadata: { name, namespace: 'test' },
  spec: { ...(volumeName ? { volumeName } : {}), ...(cls ? { storageClassName: cls } : {}) },
});
const pvs = ['csi-ebs.csi.aws.com-0', 'csi-ebs.csi.aws.com-1', 'csi-ebs.csi.aws.com-2', 'csi-ebs.csi.aws.com-3'].map((n) => pv(n, EBS)).concat([pv('gce-0', GCE)]);
const pvcs = [
  pvc('ebs-0', 'csi-ebs.csi.aws.com-0'),
  pvc('ebs-1', 'csi-ebs.csi.aws.com-1'),
  pvc('ebs-2', 'csi-ebs.csi.aws.com-2'),
  pvc('ebs-3', 'csi-ebs.csi.aws.com-3'),
  pvc('gce-0', 'gce-0'),
  pvc('pending-ebs', '', 'ebs-sc'),
  pvc('pending-ebs-2', '', 'ebs-sc'),
];
const classes: StorageClass[] = [{ metadata: { name: 'ebs-sc' }, provisioner: EBS }];

const pod = (name: string, ...claims: string[]): Pod =>
  makePod({ name, namespace: 'test', spec: { nodeName: 'node-1', volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })) } });

const va = (name: string, pvName: string, o: { node?: string; attacher?: string } = {}): VolumeAttachment => ({
  metadata: { name },
  spec: { nodeName: o.node ?? 'node-1', attacher: o.attacher ?? EBS, source: { persistentVolumeName: pvName } },
});

function run(
  newPod: Pod,
  existing: Pod[],
  limits: { csiNode?: Record<string, number>; allocatable?: Record<string, string> },
  attachments: VolumeAttachment[] = [],
): { skipped: boolean; status: MaybeStatus } {
  const csiNode: CSINode | undefined = limits.csiNode
    ? { metadata: { name: 'node-1' }, spec: { drivers: Object.entries(limits.csiNode).map(([name, count]) => ({ name, nodeID: 'node-1', allocatable: { count } })) } }
    : undefined;
  const pl = new NodeVolumeLimits({
    getPVC: (ns, n) => pvcs.find((c) => c.metadata?.namespace === ns && c.metadata?.name === n),
    getPV: (n) => pvs.find((v) => v.metadata?.name === n),
    getStorageClass: (n) => classes.find((c) => c.metadata?.name === n),
    getCSINode: (n) => (n === 'node-1' ? csiNode : undefined),
    volumeAttachmentsOnNode: (n) => attachments.filter((a) => a.spec?.nodeName === n),
  });
  const state = new CycleState();
  const pre = pl.preFilter(state, newPod);
  if (pre?.status?.isSkip()) return { skipped: true, status: undefined };
  const node = makeNode('node-1', { cpu: '4', ...limits.allocatable });
  return { skipped: false, status: pl.filter(state, newPod, new NodeInfo(node, existing)) };
}

const exceeded = (s: MaybeStatus) => {
  assert.equal(s?.code, Code.Unschedulable);
  assert.deepEqual(s?.reasons, [ERR_REASON_MAX_VOLUME_COUNT_EXCEEDED]);
};

describe('NodeVolumeLimits (upstream csi_test.go)', () => {
  test('a pod without claims is skipped', () => {
    assert.equal(run(makePod({ name: 'p' }), [], { csiNode: { [EBS]: 1 } }).skipped, true);
  });

  test('fits when the count stays within the limit, fails beyond it', () => {
    const existing = [pod('old', 'ebs-0', 'ebs-1')];
    assert.equal(run(pod('new', 'ebs-2', 'ebs-3'), existing, { csiNode: { [EBS]: 4 } }).status, undefined);
    exceeded(run(pod('new', 'ebs-2', 'ebs-3'), existing, { csiNode: { [EBS]: 3 } }).status);
  });

  test('a volume already attached for another pod counts once', () => {
    assert.equal(run(pod('new', 'ebs-0', 'ebs-1'), [pod('old', 'ebs-0', 'ebs-1')], { csiNode: { [EBS]: 2 } }).status, undefined);
  });

  test('unbound claims count through their class provisioner', () => {
    exceeded(run(pod('new', 'pending-ebs', 'pending-ebs-2'), [pod('old', 'ebs-0')], { csiNode: { [EBS]: 2 } }).status);
    assert.equal(run(pod('new', 'pending-ebs'), [pod('old', 'ebs-0')], { csiNode: { [EBS]: 2 } }).status, undefined);
  });

  // Upstream's TestCSILimits with VolumeAttachments: attached volumes without a pod on the node still take slots.
  test("the node's VolumeAttachments count, once per volume, only for CSI volumes that exist", () => {
    const two = [va('va-0', 'csi-ebs.csi.aws.com-0'), va('va-1', 'csi-ebs.csi.aws.com-1')];
    assert.equal(run(pod('new', 'ebs-2'), [], { csiNode: { [EBS]: 3 } }, two).status, undefined, 'at the limit');
    exceeded(run(pod('new', 'ebs-2'), [], { csiNode: { [EBS]: 2 } }, two).status);
    // The attachment of a volume a pod on the node already uses is the same volume.
    assert.equal(run(pod('new', 'ebs-2'), [pod('old', 'ebs-0', 'ebs-1')], { csiNode: { [EBS]: 3 } }, two).status, undefined);
    // Another node's attachments, a missing volume, or another driver's limit key do not count.
    assert.equal(run(pod('new', 'ebs-2'), [], { csiNode: { [EBS]: 1 } }, [va('va-x', 'csi-ebs.csi.aws.com-0', { node: 'node-2' })]).status, undefined);
    assert.equal(run(pod('new', 'ebs-2'), [], { csiNode: { [EBS]: 1 } }, [va('va-x', 'no-such-pv')]).status, undefined);
    assert.equal(run(pod('new', 'ebs-2'), [], { csiNode: { [EBS]: 1 } }, [va('va-x', 'gce-0', { attacher: GCE })]).status, undefined);
  });

  test("another driver's volumes do not count against the limit", () => {
    assert.equal(run(pod('new', 'gce-0'), [pod('old', 'ebs-0', 'ebs-1')], { csiNode: { [EBS]: 2 } }).status, undefined);
    exceeded(run(pod('new', 'gce-0'), [], { csiNode: { [GCE]: 0 } }).status);
  });

  test('no limits known: anything fits', () => {
    assert.equal(run(pod('new', 'ebs-0', 'ebs-1', 'ebs-2'), [], {}).status, undefined);
  });

  test("the node's attachable-volumes-csi allocatable is a limit too, and CSINode overrides it", () => {
    exceeded(run(pod('new', 'ebs-0', 'ebs-1'), [], { allocatable: { [`attachable-volumes-csi-${EBS}`]: '1' } }).status);
    assert.equal(run(pod('new', 'ebs-0', 'ebs-1'), [], { allocatable: { [`attachable-volumes-csi-${EBS}`]: '1' }, csiNode: { [EBS]: 2 } }).status, undefined);
  });

  test('a missing claim of the new pod is unschedulable and unresolvable', () => {
    const r = run(pod('new', 'nope'), [], { csiNode: { [EBS]: 2 } });
    assert.equal(r.status?.code, Code.UnschedulableAndUnresolvable);
    assert.equal(r.status?.message(), 'looking up PVC test/nope: persistentvolumeclaim "nope" not found');
    // A missing claim of a pod already on the node is just not counted.
    assert.equal(run(pod('new', 'ebs-0'), [pod('old', 'nope')], { csiNode: { [EBS]: 1 } }).status, undefined);
  });

  test('attach limit keys: long driver names are cut and hashed to 63 characters', () => {
    assert.equal(csiAttachLimitKey(EBS), 'attachable-volumes-csi-ebs.csi.aws.com');
    const long = csiAttachLimitKey('a-very-long-csi-driver-name.storage.example.com');
    assert.equal(long.length, 'attachable-volumes-csi-'.length + 23 + 16);
    assert.ok(long.startsWith('attachable-volumes-csi-a-very-long-csi-drive'));
  });
});

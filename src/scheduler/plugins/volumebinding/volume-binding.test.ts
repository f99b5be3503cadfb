// VolumeBinding with upstream's volume_binding_test.go cases (PreFilter, Filter, scoring by capacity), plus the
// Reserve → PreBind path: the chosen volume is assumed for the pod, PreBind writes its claimRef and waits for the
// PersistentVolume controller's binding; Unreserve gives the volume back.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { CSIDriver, CSIStorageCapacity, StorageClass } from 'kubernetes-types/storage/v1.js';
import { CycleState } from '../../framework/cycle-state.js';
import { NodeInfo } from '../../framework/node-info.js';
import { Code, type Status } from '../../framework/status.js';
import { makeNode, makePod } from '../../testing/builders.js';
import {
  ERR_REASON_BIND_CONFLICT,
  ERR_REASON_NODE_CONFLICT,
  ERR_REASON_NOT_ENOUGH_SPACE,
  ERR_REASON_PV_NOT_EXIST,
  ERR_UNBOUND_IMMEDIATE,
  VolumeBinding,
  type VolumeBindingArgs,
  type VolumeBindingListers,
} from './volume-binding.js';

const IMMEDIATE = 'immediate-sc';
const WFFC = 'wait-sc';
const WFFC_PROVISIONER = 'wait-provisioned-sc';
const classes: StorageClass[] = [
  { metadata: { name: IMMEDIATE }, provisioner: 'p', volumeBindingMode: 'Immediate' },
  { metadata: { name: WFFC }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' },
  { metadata: { name: WFFC_PROVISIONER }, provisioner: 'csi.example.com', volumeBindingMode: 'WaitForFirstConsumer', allowedTopologies: [{ matchLabelExpressions: [{ key: 'zone', values: ['a'] }] }] },
];

let rv = 1;
function pvc(name: string, cls: string, opts: { volumeName?: string; bound?: boolean; size?: string } = {}): PersistentVolumeClaim {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: String(rv++), ...(opts.bound ? { annotations: { 'pv.kubernetes.io/bind-completed': 'yes' } } : {}) },
    spec: { storageClassName: cls, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: opts.size ?? '1Gi' } }, ...(opts.volumeName ? { volumeName: opts.volumeName } : {}) },
    status: { phase: opts.bound ? 'Bound' : 'Pending' },
  };
}
function pv(name: string, cls: string, opts: { node?: string; labels?: Record<string, string>; size?: string; claim?: string } = {}): PersistentVolume {
  return {
    metadata: { name, resourceVersion: String(rv++) },
    spec: {
      storageClassName: cls,
      capacity: { storage: opts.size ?? '1Gi' },
      accessModes: ['ReadWriteOnce'],
      local: { path: `/mnt/${name}` },
      ...(opts.node ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [opts.node] }] }] } } } : {}),
      ...(opts.labels ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: Object.entries(opts.labels).map(([key, v]) => ({ key, operator: 'In', values: [v] })) }] } } } : {}),
      ...(opts.claim ? { claimRef: { namespace: 'default', name: opts.claim, uid: `uid-${opts.claim}` } } : {}),
    },
    status: { phase: opts.claim ? 'Bound' : 'Available' },
  };
}
const node = (name: string, labels: Record<string, string> = {}): Node => makeNode(name, {}, { labels: { 'kubernetes.io/hostname': name, ...labels } });
const podWith = (...claims: string[]): Pod => makePod({ name: 'pod-a', spec: { volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })) } });

class World {
  pvs = new Map<string, PersistentVolume>();
  pvcs = new Map<string, PersistentVolumeClaim>();
  nodes = new Map<string, Node>();
  pvWrites: PersistentVolume[] = [];
  drivers: CSIDriver[] = [];
  capacities: CSIStorageCapacity[] = [];
  constructor(pvs: PersistentVolume[], pvcs: PersistentVolumeClaim[], nodes: Node[] = []) {
    for (const v of pvs) this.pvs.set(v.metadata!.name!, v);
    for (const c of pvcs) this.pvcs.set(`default/${c.metadata!.name!}`, c);
    for (const n of nodes) this.nodes.set(n.metadata!.name!, n);
  }
  listers(): VolumeBindingListers {
    return {
      getPV: (n) => this.pvs.get(n),
      getPVC: (ns, n) => this.pvcs.get(`${ns}/${n}`),
      getStorageClass: (n) => classes.find((c) => c.metadata?.name === n),
      listPVs: () => this.pvs.values(),
      listPVCs: () => this.pvcs.values(),
      getNode: (n) => this.nodes.get(n),
      getCSIDriver: (n) => this.drivers.find((d) => d.metadata?.name === n),
      listCSIStorageCapacities: () => this.capacities,
      updatePV: async (v) => {
        const out = { ...v, metadata: { ...v.metadata, resourceVersion: String(rv++) } };
        this.pvWrites.push(out);
        this.pvs.set(out.metadata.name!, out);
        return out;
      },
      updatePVC: async (c) => {
        const out = { ...c, metadata: { ...c.metadata, resourceVersion: String(rv++) } };
        this.pvcs.set(`default/${out.metadata.name!}`, out);
        return out;
      },
      pollIntervalMs: 2,
    };
  }
}

interface Outcome {
  preFilter?: Status;
  nodeNames?: string[];
  skipped?: boolean;
  filter: Map<string, Status | undefined>;
}

function run(world: World, pod: Pod, nodes: Node[], args: VolumeBindingArgs = {}): { out: Outcome; pl: VolumeBinding; state: CycleState } {
  const pl = new VolumeBinding(args, world.listers());
  const state = new CycleState();
  const infos = nodes.map((n) => new NodeInfo(n));
  const pre = pl.preFilter(state, pod);
  const out: Outcome = { filter: new Map() };
  if (pre?.status?.isSkip()) out.skipped = true;
  else if (pre?.status) out.preFilter = pre.status;
  if (pre?.result?.nodeNames) out.nodeNames = [...pre.result.nodeNames].sort();
  if (!out.preFilter) for (const n of infos) out.filter.set(n.node!.metadata!.name!, pl.filter(state, pod, n));
  return { out, pl, state };
}

const unresolvable = (s: Status | undefined, ...reasons: string[]) => {
  assert.equal(s?.code, Code.UnschedulableAndUnresolvable, s?.message());
  assert.deepEqual(s?.reasons, reasons);
};

describe('VolumeBinding (upstream volume_binding_test.go)', () => {
  test('pod has not pvcs: PreFilter skips', () => {
    const { out } = run(new World([], []), makePod({ name: 'p' }), [node('node-a')]);
    assert.equal(out.skipped, true);
  });

  test('all bound: every node passes', () => {
    const w = new World([pv('pv-a', WFFC, { claim: 'pvc-a' })], [pvc('pvc-a', WFFC, { volumeName: 'pv-a', bound: true })]);
    const { out } = run(w, podWith('pvc-a'), [node('node-a')]);
    assert.equal(out.preFilter, undefined);
    assert.equal(out.nodeNames, undefined);
    assert.equal(out.filter.get('node-a'), undefined);
  });

  test('all bound with local volumes: PreFilter narrows to the volumes\' hostnames', () => {
    const w = new World(
      [pv('pv-a', WFFC, { claim: 'pvc-a', node: 'node-a' }), pv('pv-b', WFFC, { claim: 'pvc-b', node: 'node-a' })],
      [pvc('pvc-a', WFFC, { volumeName: 'pv-a', bound: true }), pvc('pvc-b', WFFC, { volumeName: 'pv-b', bound: true })],
    );
    const { out } = run(w, podWith('pvc-a', 'pvc-b'), [node('node-a'), node('node-b')]);
    assert.deepEqual(out.nodeNames, ['node-a']);
    assert.equal(out.filter.get('node-a'), undefined);
    unresolvable(out.filter.get('node-b'), ERR_REASON_NODE_CONFLICT);
  });

  test('PVC does not exist / part of PVCs do not exist', () => {
    unresolvable(run(new World([], []), podWith('pvc-a'), [node('node-a')]).out.preFilter, 'persistentvolumeclaim "pvc-a" not found');
    const w = new World([pv('pv-a', WFFC, { claim: 'pvc-a' })], [pvc('pvc-a', WFFC, { volumeName: 'pv-a', bound: true })]);
    unresolvable(run(w, podWith('pvc-a', 'pvc-b'), [node('node-a')]).out.preFilter, 'persistentvolumeclaim "pvc-b" not found');
  });

  test('immediate claims not bound', () => {
    const w = new World([], [pvc('pvc-a', IMMEDIATE)]);
    unresolvable(run(w, podWith('pvc-a'), [node('node-a')]).out.preFilter, ERR_UNBOUND_IMMEDIATE);
  });

  test('unbound claims no matches', () => {
    const w = new World([], [pvc('pvc-a', WFFC)]);
    unresolvable(run(w, podWith('pvc-a'), [node('node-a')]).out.filter.get('node-a'), ERR_REASON_BIND_CONFLICT);
  });

  test('bound and unbound unsatisfied: both reasons', () => {
    const w = new World([pv('pv-a', WFFC, { claim: 'pvc-a', labels: { foo: 'bar' } })], [pvc('pvc-a', WFFC, { volumeName: 'pv-a', bound: true }), pvc('pvc-b', WFFC)]);
    const { out } = run(w, podWith('pvc-a', 'pvc-b'), [node('node-a', { foo: 'barbar' })]);
    unresolvable(out.filter.get('node-a'), ERR_REASON_NODE_CONFLICT, ERR_REASON_BIND_CONFLICT);
  });

  test('pv not found', () => {
    const w = new World([], [pvc('pvc-a', WFFC, { volumeName: 'pv-a', bound: true })]);
    const { out } = run(w, podWith('pvc-a'), [node('node-a')]);
    assert.equal(out.preFilter, undefined);
    unresolvable(out.filter.get('node-a'), ERR_REASON_PV_NOT_EXIST);
  });

  test('unbound WaitForFirstConsumer claims match the node whose local volume is free', () => {
    const w = new World([pv('pv-a', WFFC, { node: 'node-a' }), pv('pv-b', WFFC, { node: 'node-b', claim: 'someone-else' })], [pvc('pvc-a', WFFC)]);
    const { out } = run(w, podWith('pvc-a'), [node('node-a'), node('node-b')]);
    assert.equal(out.filter.get('node-a'), undefined);
    unresolvable(out.filter.get('node-b'), ERR_REASON_BIND_CONFLICT);
  });

  test('claims to provision: the class must provision and allow the node\'s topology', () => {
    const w = new World([], [pvc('pvc-a', WFFC_PROVISIONER)]);
    const { out } = run(w, podWith('pvc-a'), [node('node-a', { zone: 'a' }), node('node-b', { zone: 'b' })]);
    assert.equal(out.filter.get('node-a'), undefined);
    unresolvable(out.filter.get('node-b'), ERR_REASON_BIND_CONFLICT);
  });

  // Upstream's storage capacity cases: only a driver that opts in (CSIDriver storageCapacity) is checked; then some
  // CSIStorageCapacity of the claim's class must admit the size (maximumVolumeSize first) and reach the node.
  test('claims to provision with storage capacity tracking', () => {
    const capacity = (o: { size?: string; max?: string; zone?: string | null; cls?: string }): CSIStorageCapacity => ({
      metadata: { name: `cap-${rv++}`, namespace: 'kube-system' },
      storageClassName: o.cls ?? WFFC_PROVISIONER,
      ...(o.size ? { capacity: o.size } : {}),
      ...(o.max ? { maximumVolumeSize: o.max } : {}),
      ...(o.zone === null ? {} : { nodeTopology: { matchLabels: { zone: o.zone ?? 'a' } } }),
    });
    const outcome = (drivers: CSIDriver[], caps: CSIStorageCapacity[]) => {
      const w = new World([], [pvc('pvc-a', WFFC_PROVISIONER, { size: '2Gi' })]);
      w.drivers = drivers;
      w.capacities = caps;
      return run(w, podWith('pvc-a'), [node('node-a', { zone: 'a' })]).out.filter.get('node-a');
    };
    const tracked: CSIDriver = { metadata: { name: 'csi.example.com' }, spec: { storageCapacity: true } };
    assert.equal(outcome([], []), undefined, 'no CSIDriver: nothing to check');
    assert.equal(outcome([{ metadata: { name: 'csi.example.com' }, spec: { storageCapacity: false } }], []), undefined, 'driver does not track capacity');
    unresolvable(outcome([tracked], []), ERR_REASON_NOT_ENOUGH_SPACE);
    assert.equal(outcome([tracked], [capacity({ size: '2Gi' })]), undefined, 'sufficient');
    unresolvable(outcome([tracked], [capacity({ size: '1Gi' })]), ERR_REASON_NOT_ENOUGH_SPACE);
    unresolvable(outcome([tracked], [capacity({ size: '10Gi', max: '1Gi' })]), ERR_REASON_NOT_ENOUGH_SPACE);
    assert.equal(outcome([tracked], [capacity({ size: '1Gi', max: '3Gi' })]), undefined, 'maximumVolumeSize decides');
    unresolvable(outcome([tracked], [capacity({ size: '9Gi', zone: 'b' })]), ERR_REASON_NOT_ENOUGH_SPACE);
    unresolvable(outcome([tracked], [capacity({ size: '9Gi', zone: null })]), ERR_REASON_NOT_ENOUGH_SPACE);
    unresolvable(outcome([tracked], [capacity({ size: '9Gi', cls: 'other' })]), ERR_REASON_NOT_ENOUGH_SPACE);
  });

  test('local volumes with close capacity are preferred (capacity scoring with a shape)', () => {
    const w = new World(
      [pv('pv-a-0', WFFC, { node: 'node-a', size: '200Gi' }), pv('pv-b-0', WFFC, { node: 'node-b', size: '100Gi' })],
      [pvc('pvc-a', WFFC, { size: '50Gi' })],
    );
    const nodes = [node('node-a'), node('node-b'), node('node-c')];
    const { pl, state } = run(w, podWith('pvc-a'), nodes, { shape: [{ utilization: 0, score: 0 }, { utilization: 100, score: 10 }] });
    assert.equal(pl.preScore(state), undefined);
    const scores = nodes.map((n) => pl.score(state, podWith('pvc-a'), new NodeInfo(n)));
    assert.deepEqual(scores, [25, 50, 0]);
    // Without a shape (upstream's feature gate off) there is no scoring.
    const plain = run(w, podWith('pvc-a'), nodes);
    assert.equal(plain.pl.preScore(plain.state)?.isSkip(), true);
  });
});

describe('VolumeBinding Reserve, PreBind and Unreserve', () => {
  test('the chosen volume is assumed, written at PreBind, and PreBind waits for the controller to bind', async () => {
    const w = new World([pv('pv-a', WFFC, { node: 'node-a' })], [pvc('pvc-a', WFFC)], [node('node-a')]);
    const pod = podWith('pvc-a');
    const { pl, state } = run(w, pod, [node('node-a')]);
    assert.equal(pl.reserve(state, pod, 'node-a'), undefined);
    // Another pod's claim no longer finds the volume: it is assumed for the first pod.
    w.pvcs.set('default/pvc-b', pvc('pvc-b', WFFC));
    const state2 = new CycleState();
    const podB = makePod({ name: 'pod-b', spec: { volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'pvc-b' } }] } });
    pl.preFilter(state2, podB);
    unresolvable(pl.filter(state2, podB, new NodeInfo(node('node-a'))), ERR_REASON_BIND_CONFLICT);

    const binding = pl.preBind(state, pod, 'node-a');
    // PreBind wrote the claimRef; now play the PersistentVolume controller.
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(w.pvWrites.length, 1);
    const written = w.pvWrites[0]!;
    assert.equal(written.spec?.claimRef?.name, 'pvc-a');
    assert.equal(written.spec?.claimRef?.uid, 'uid-pvc-a');
    assert.equal(written.metadata?.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
    let settled = false;
    void binding.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(settled, false, 'PreBind waits until the claim is bound');
    const claim = w.pvcs.get('default/pvc-a')!;
    w.pvcs.set('default/pvc-a', { ...claim, metadata: { ...claim.metadata, resourceVersion: String(rv++), annotations: { 'pv.kubernetes.io/bind-completed': 'yes' } }, spec: { ...claim.spec, volumeName: 'pv-a' } });
    assert.equal(await binding, undefined);
  });

  test('Unreserve gives the assumed volume back', () => {
    const w = new World([pv('pv-a', WFFC, { node: 'node-a' })], [pvc('pvc-a', WFFC), pvc('pvc-b', WFFC)], [node('node-a')]);
    const pod = podWith('pvc-a');
    const { pl, state } = run(w, pod, [node('node-a')]);
    pl.reserve(state, pod, 'node-a');
    const podB = podWith('pvc-b');
    const s2 = new CycleState();
    pl.preFilter(s2, podB);
    unresolvable(pl.filter(s2, podB, new NodeInfo(node('node-a'))), ERR_REASON_BIND_CONFLICT);
    pl.unreserve(state, pod, 'node-a');
    const s3 = new CycleState();
    pl.preFilter(s3, podB);
    assert.equal(pl.filter(s3, podB, new NodeInfo(node('node-a'))), undefined);
  });

  test('PreBind fails when the claimRef is reset meanwhile', async () => {
    const w = new World([pv('pv-a', WFFC, { node: 'node-a' })], [pvc('pvc-a', WFFC)], [node('node-a')]);
    const pod = podWith('pvc-a');
    const { pl, state } = run(w, pod, [node('node-a')]);
    pl.reserve(state, pod, 'node-a');
    const binding = pl.preBind(state, pod, 'node-a');
    await new Promise((r) => setTimeout(r, 20));
    const cur = w.pvs.get('pv-a')!;
    w.pvs.set('pv-a', { ...cur, metadata: { ...cur.metadata, resourceVersion: String(rv++) }, spec: { ...cur.spec, claimRef: undefined } });
    const s = await binding;
    assert.equal(s?.code, Code.Error);
    assert.match(s!.message(), /^ClaimRef got reset for pv "pv-a"$/);
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolumeClaim, Pod, Volume } from 'kubernetes-types/core/v1.js';
import { CycleState } from '../../framework/cycle-state.js';
import { NodeInfo } from '../../framework/node-info.js';
import { Code } from '../../framework/status.js';
import { makeNode, makePod } from '../../testing/builders.js';
import { ERR_REASON_DISK_CONFLICT, ERR_REASON_READ_WRITE_ONCE_POD_CONFLICT, VolumeRestrictions } from './volume-restrictions.js';

const withVolumes = (name: string, volumes: Volume[], nodeName?: string): Pod =>
  makePod({ name, spec: { volumes, ...(nodeName ? { nodeName } : {}) } });

function runFilter(pod: Pod, existing: Pod[], pvcs: PersistentVolumeClaim[] = []) {
  const pl = new VolumeRestrictions({ getPVC: (ns, name) => pvcs.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name) });
  const node = new NodeInfo(makeNode('node-1'), existing);
  const state = new CycleState();
  state.allNodes = [node];
  const pre = pl.preFilter(state, pod, [node]);
  if (pre?.status?.isSkip()) return { skipped: true as const };
  if (pre?.status && !pre.status.isSuccess()) return { pre: pre.status };
  return { filter: pl.filter(state, pod, node) };
}

function expectConflict(name: string, existing: Pod, pod: Pod, conflict: boolean): void {
  const got = runFilter(pod, [existing]);
  if (!conflict) {
    assert.ok(!('filter' in got) || got.filter === undefined || got.filter.isSuccess(), `${name}: expected no conflict`);
    return;
  }
  assert.ok('filter' in got && got.filter, `${name}: expected a conflict`);
  assert.equal(got.filter.code, Code.Unschedulable);
  assert.deepEqual(got.filter.reasons, [ERR_REASON_DISK_CONFLICT]);
}

describe('VolumeRestrictions (upstream volume_restrictions_test.go)', () => {
  test('GCE disk conflicts', () => {
    const foo: Volume = { name: 'v', gcePersistentDisk: { pdName: 'foo', fsType: 'ext4' } };
    const bar: Volume = { name: 'v', gcePersistentDisk: { pdName: 'bar', fsType: 'ext4' } };
    const cases: [string, Pod[], boolean][] = [
      ['nothing', [], false],
      ['one state', [withVolumes('e1', [foo])], true],
      ['two state', [withVolumes('e1', [foo]), withVolumes('e2', [bar])], true],
      ['three state', [withVolumes('e1', [bar])], false],
    ];
    for (const [name, existing, conflict] of cases) {
      const got = runFilter(withVolumes('p', [foo]), existing);
      if (conflict) assert.deepEqual('filter' in got && got.filter?.reasons, [ERR_REASON_DISK_CONFLICT], name);
      else assert.ok(!('filter' in got) || !got.filter, name);
    }
  });

  test('GCE disks read only by both pods do not conflict', () => {
    const ro: Volume = { name: 'v', gcePersistentDisk: { pdName: 'foo', readOnly: true } };
    expectConflict('both read-only', withVolumes('e', [ro]), withVolumes('p', [ro]), false);
    expectConflict('one writes', withVolumes('e', [{ name: 'v', gcePersistentDisk: { pdName: 'foo' } }]), withVolumes('p', [ro]), true);
  });

  test('AWS EBS conflicts (read-only does not help)', () => {
    const foo: Volume = { name: 'v', awsElasticBlockStore: { volumeID: 'foo', readOnly: true } };
    const bar: Volume = { name: 'v', awsElasticBlockStore: { volumeID: 'bar' } };
    expectConflict('one state', withVolumes('e', [foo]), withVolumes('p', [foo]), true);
    expectConflict('three state', withVolumes('e', [bar]), withVolumes('p', [foo]), false);
  });

  test('RBD conflicts: overlapping monitors, same pool and image', () => {
    const rbd = (mons: string[], pool: string, image: string, readOnly = false): Volume => ({ name: 'v', rbd: { monitors: mons, pool, image, readOnly } });
    const foo = rbd(['a', 'b'], 'foo', 'bar');
    expectConflict('one state', withVolumes('e', [foo]), withVolumes('p', [foo]), true);
    expectConflict('monitor overlap', withVolumes('e', [rbd(['c', 'b'], 'foo', 'bar')]), withVolumes('p', [foo]), true);
    expectConflict('no monitor overlap', withVolumes('e', [rbd(['c', 'd'], 'foo', 'bar')]), withVolumes('p', [foo]), false);
    expectConflict('other pool', withVolumes('e', [rbd(['a'], 'zoo', 'bar')]), withVolumes('p', [foo]), false);
    expectConflict('both read-only', withVolumes('e', [rbd(['a'], 'foo', 'bar', true)]), withVolumes('p', [rbd(['a'], 'foo', 'bar', true)]), false);
  });

  test('ISCSI conflicts by IQN', () => {
    const iscsi = (iqn: string, readOnly = false): Volume => ({ name: 'v', iscsi: { targetPortal: '127.0.0.1:3260', iqn, lun: 0, readOnly } });
    expectConflict('one state', withVolumes('e', [iscsi('iqn.2016-12.server:storage.target01')]), withVolumes('p', [iscsi('iqn.2016-12.server:storage.target01')]), true);
    expectConflict('other iqn', withVolumes('e', [iscsi('iqn.2017-12.server:storage.target01')]), withVolumes('p', [iscsi('iqn.2016-12.server:storage.target01')]), false);
    expectConflict('both read-only', withVolumes('e', [iscsi('a', true)]), withVolumes('p', [iscsi('a', true)]), false);
  });

  test('pods without restricted disks or claims are skipped', () => {
    assert.deepEqual(runFilter(makePod({ name: 'p' }), []), { skipped: true });
    assert.deepEqual(runFilter(withVolumes('p', [{ name: 'v', emptyDir: {} }]), []), { skipped: true });
  });

  test('ReadWriteOncePod access mode conflicts', () => {
    const pvc = (name: string, modes: string[]): PersistentVolumeClaim => ({
      metadata: { name, namespace: 'default' },
      spec: { accessModes: modes },
    });
    const claim = (c: string): Volume => ({ name: 'v', persistentVolumeClaim: { claimName: c } });
    const pvcs = [pvc('claim-with-rwop-1', ['ReadWriteOncePod']), pvc('claim-with-rwop-2', ['ReadWriteOncePod']), pvc('claim-rwo', ['ReadWriteOnce'])];
    const podRWOP1 = withVolumes('p1', [claim('claim-with-rwop-1')]);

    // nothing running
    assert.deepEqual(runFilter(podRWOP1, [], pvcs), { skipped: true });

    // failed to get PVC
    const missing = runFilter(withVolumes('p', [claim('claim-not-exist')]), [], pvcs);
    assert.ok('pre' in missing);
    assert.equal(missing.pre?.code, Code.UnschedulableAndUnresolvable);
    assert.deepEqual(missing.pre?.reasons, ['persistentvolumeclaim "claim-not-exist" not found']);

    // no access mode conflict: another RWOP claim in use
    assert.deepEqual(runFilter(podRWOP1, [withVolumes('e', [claim('claim-with-rwop-2')], 'node-1')], pvcs), { skipped: true });

    // access mode conflict
    const got = runFilter(podRWOP1, [withVolumes('e', [claim('claim-with-rwop-1')], 'node-1')], pvcs);
    assert.ok('filter' in got && got.filter);
    assert.equal(got.filter.code, Code.Unschedulable);
    assert.deepEqual(got.filter.reasons, [ERR_REASON_READ_WRITE_ONCE_POD_CONFLICT]);

    // ReadWriteOnce claims may be shared: skipped
    assert.deepEqual(runFilter(withVolumes('p', [claim('claim-rwo')]), [withVolumes('e', [claim('claim-rwo')], 'node-1')], pvcs), { skipped: true });
  });
});

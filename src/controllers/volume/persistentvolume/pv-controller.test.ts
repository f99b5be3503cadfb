// The PersistentVolume controller against an in-process API with a FakeClock: binding (smallest fit, access modes,
// class, volumeMode, selector, pre-bound both ways), WaitForFirstConsumer left to the scheduler until it pre-binds,
// external provisioning, reclaim (Retain, Delete without a deleter, external deleter) and lost claims.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Event as CoreEvent, Namespace, PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { eventually } from '../../../../test/e2e/harness.js';
import { createLogger } from '../../../apiserver/log.js';
import { FakeClock, type ResourceClient } from '../../../client/index.js';
import { isNotFound } from '../../../machinery/errors.js';
import { ControllerManager } from '../../manager.js';
import { startInProcessApi, type InProcessApi } from '../../testing/in-process-api.js';
import { PersistentVolumeController, checkVolumeSatisfyClaim } from './pv-controller.js';

const NS = 'pv-test';

describe('checkVolumeSatisfyClaim', () => {
  const pv: PersistentVolume = { metadata: { name: 'v' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'a' } };
  const claim = (spec: PersistentVolumeClaim['spec']): PersistentVolumeClaim => ({ metadata: { name: 'c' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'a', ...spec } });
  test("upstream's reasons, in upstream's order", () => {
    assert.equal(checkVolumeSatisfyClaim(pv, claim({})), undefined);
    assert.equal(checkVolumeSatisfyClaim(pv, claim({ resources: { requests: { storage: '2Gi' } } })), 'requested PV is too small');
    assert.equal(checkVolumeSatisfyClaim(pv, claim({ storageClassName: 'b' })), 'storageClassName does not match');
    assert.equal(checkVolumeSatisfyClaim(pv, claim({ volumeMode: 'Block' })), 'incompatible volumeMode');
    assert.equal(checkVolumeSatisfyClaim(pv, claim({ accessModes: ['ReadWriteMany'] })), 'incompatible accessMode');
    assert.equal(checkVolumeSatisfyClaim({ ...pv, metadata: { name: 'v', deletionTimestamp: '2024-01-01T00:00:00Z' } }, claim({})), 'the volume is marked for deletion "v"');
  });
});

describe('PersistentVolumeController against an in-process API', () => {
  let srv: InProcessApi;
  let manager: ControllerManager;
  let clock: FakeClock;
  let pvs: ResourceClient<PersistentVolume>;
  let pvcs: ResourceClient<PersistentVolumeClaim>;
  let classes: ResourceClient<StorageClass>;
  let events: ResourceClient<CoreEvent>;

  before(async () => {
    srv = await startInProcessApi();
    clock = new FakeClock(Date.now());
    manager = new ControllerManager({
      client: srv.client,
      controllers: [{ name: 'persistentvolume-binder', create: (ctx) => new PersistentVolumeController(ctx) }],
      leaderElection: false,
      clock,
      log: createLogger('error'),
    });
    manager.start();
    pvs = srv.client.resource<PersistentVolume>({ group: '', version: 'v1', resource: 'persistentvolumes' });
    pvcs = srv.client.resource<PersistentVolumeClaim>({ group: '', version: 'v1', resource: 'persistentvolumeclaims' });
    classes = srv.client.resource<StorageClass>({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' });
    events = srv.client.resource<CoreEvent>({ group: '', version: 'v1', resource: 'events' });
    await srv.client.resource<Namespace>({ group: '', version: 'v1', resource: 'namespaces' }).create({ metadata: { name: NS } });
    await classes.create({ metadata: { name: 'wffc' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' });
    await classes.create({ metadata: { name: 'external' }, provisioner: 'csi.example.com', volumeBindingMode: 'Immediate' });
  });
  after(async () => {
    await manager?.stop();
    await srv?.close();
  });

  interface PVOpts {
    size?: string;
    modes?: string[];
    cls?: string;
    labels?: Record<string, string>;
    claimRef?: PersistentVolume['spec'] extends infer S ? (S extends { claimRef?: infer R } ? R : never) : never;
    policy?: string;
    mode?: string;
    annotations?: Record<string, string>;
  }
  const makePV = (name: string, o: PVOpts = {}) =>
    pvs.create({
      metadata: { name, ...(o.labels ? { labels: o.labels } : {}), ...(o.annotations ? { annotations: o.annotations } : {}) },
      spec: {
        capacity: { storage: o.size ?? '1Gi' },
        accessModes: o.modes ?? ['ReadWriteOnce'],
        hostPath: { path: `/tmp/${name}` },
        storageClassName: o.cls ?? '',
        persistentVolumeReclaimPolicy: o.policy ?? 'Retain',
        ...(o.mode ? { volumeMode: o.mode } : {}),
        ...(o.claimRef ? { claimRef: o.claimRef } : {}),
      },
    });
  const makePVC = (name: string, o: { size?: string; modes?: string[]; cls?: string | null; volumeName?: string; selector?: Record<string, string>; mode?: string } = {}) =>
    pvcs.create(
      {
        metadata: { name, namespace: NS },
        spec: {
          accessModes: o.modes ?? ['ReadWriteOnce'],
          resources: { requests: { storage: o.size ?? '1Gi' } },
          ...(o.cls === null ? {} : { storageClassName: o.cls ?? '' }),
          ...(o.volumeName ? { volumeName: o.volumeName } : {}),
          ...(o.selector ? { selector: { matchLabels: o.selector } } : {}),
          ...(o.mode ? { volumeMode: o.mode } : {}),
        },
      },
      { namespace: NS },
    );
  const getPV = (name: string) => pvs.get(name);
  const getPVC = (name: string) => pvcs.get(name, { namespace: NS });
  const phaseOf = async (kind: 'pv' | 'pvc', name: string): Promise<string | undefined> => ((kind === 'pv' ? await getPV(name) : await getPVC(name)).status?.phase);
  const eventFor = async (name: string, reason: string): Promise<CoreEvent | undefined> => {
    const all = [...(await events.list({ namespace: NS })).items, ...(await events.list({ namespace: 'default' })).items];
    return all.find((e) => e.involvedObject.name === name && e.reason === reason);
  };
  const boundTo = async (claim: string, volume: string) => {
    const c = await getPVC(claim);
    return c.spec?.volumeName === volume && c.status?.phase === 'Bound';
  };

  test('a claim binds to the smallest Available volume that fits, both ways, with the annotations and phases', async () => {
    await makePV('small', { size: '500Mi' });
    await makePV('big', { size: '10Gi' });
    await makePV('fit', { size: '2Gi' });
    await makePV('rwx-only', { size: '1Gi', modes: ['ReadWriteMany'] });
    await eventually('volumes Available', async () => (await phaseOf('pv', 'fit')) === 'Available' && (await phaseOf('pv', 'big')) === 'Available');
    await makePVC('c1', { size: '1Gi' });
    await eventually('c1 bound to fit', () => boundTo('c1', 'fit'));
    const pv = await getPV('fit');
    const pvc = await getPVC('c1');
    assert.equal(pv.status?.phase, 'Bound');
    assert.deepEqual(
      { kind: pv.spec?.claimRef?.kind, namespace: pv.spec?.claimRef?.namespace, name: pv.spec?.claimRef?.name, uid: pv.spec?.claimRef?.uid },
      { kind: 'PersistentVolumeClaim', namespace: NS, name: 'c1', uid: pvc.metadata?.uid },
    );
    assert.equal(pv.metadata?.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
    assert.equal(pvc.metadata?.annotations?.['pv.kubernetes.io/bind-completed'], 'yes');
    assert.equal(pvc.metadata?.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
    assert.deepEqual(pvc.status?.capacity, { storage: '2Gi' });
    assert.deepEqual(pvc.status?.accessModes, ['ReadWriteOnce']);
    assert.equal(await phaseOf('pv', 'small'), 'Available');
  });

  test('access modes: the volume with the fewest extra modes wins over a smaller one with more', async () => {
    await makePV('am-many', { size: '1Gi', modes: ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany'] });
    await makePV('am-exact', { size: '3Gi', modes: ['ReadOnlyMany'] });
    await eventually('Available', async () => (await phaseOf('pv', 'am-exact')) === 'Available');
    await makePVC('am', { modes: ['ReadOnlyMany'] });
    await eventually('am bound to am-exact', () => boundTo('am', 'am-exact'));
  });

  test('class, volumeMode and selector must match; a claim with no class and no volume reports FailedBinding', async () => {
    await makePV('sel-blue', { size: '1Gi', labels: { color: 'blue' } });
    await makePV('block', { size: '1Gi', mode: 'Block', labels: { color: 'red' } });
    await eventually('Available', async () => (await phaseOf('pv', 'block')) === 'Available');
    await makePVC('wants-red', { selector: { color: 'red' } });
    await eventually('FailedBinding', async () => {
      const e = await eventFor('wants-red', 'FailedBinding');
      return e?.message === 'no persistent volumes available for this claim and no storage class is set' && e.type === 'Normal';
    });
    assert.equal(await phaseOf('pvc', 'wants-red'), 'Pending');
    await makePVC('wants-red-block', { selector: { color: 'red' }, mode: 'Block' });
    await eventually('block bound', () => boundTo('wants-red-block', 'block'));
    assert.equal(await phaseOf('pv', 'sel-blue'), 'Available');
  });

  test('a volume pre-bound by the user (claimRef without uid) goes to its claim even when another fits better', async () => {
    await makePV('reserved', { size: '5Gi', claimRef: { namespace: NS, name: 'prebound' } });
    await makePV('better', { size: '1Gi' });
    await eventually('reserved Available', async () => (await phaseOf('pv', 'reserved')) === 'Available');
    await makePVC('prebound', { size: '1Gi' });
    await eventually('prebound bound to reserved', () => boundTo('prebound', 'reserved'));
    const pv = await getPV('reserved');
    assert.equal(pv.spec?.claimRef?.uid, (await getPVC('prebound')).metadata?.uid);
    assert.equal(pv.metadata?.annotations?.['pv.kubernetes.io/bound-by-controller'], undefined);
  });

  test('a claim naming a volume too small for it gets VolumeMismatch and stays Pending', async () => {
    await makePV('tiny', { size: '100Mi' });
    await makePVC('too-big', { size: '1Gi', volumeName: 'tiny' });
    await eventually('VolumeMismatch', async () => (await eventFor('too-big', 'VolumeMismatch'))?.message === 'Cannot bind to requested volume "tiny": requested PV is too small');
    assert.equal(await phaseOf('pvc', 'too-big'), 'Pending');
    assert.equal((await getPV('tiny')).spec?.claimRef, undefined);
  });

  test('a claim naming a free volume binds to it without the bound-by-controller annotation on the claim', async () => {
    await makePV('named', { size: '1Gi' });
    await makePVC('names-it', { volumeName: 'named' });
    await eventually('bound', () => boundTo('names-it', 'named'));
    const pvc = await getPVC('names-it');
    assert.equal(pvc.metadata?.annotations?.['pv.kubernetes.io/bound-by-controller'], undefined);
    assert.equal(pvc.metadata?.annotations?.['pv.kubernetes.io/bind-completed'], 'yes');
  });

  test('WaitForFirstConsumer: no binding until the scheduler pre-binds a volume, then the controller completes it', async () => {
    await makePV('local-a', { size: '1Gi', cls: 'wffc' });
    await eventually('local-a Available', async () => (await phaseOf('pv', 'local-a')) === 'Available');
    await makePVC('wffc-claim', { cls: 'wffc' });
    await eventually('WaitForFirstConsumer event', async () => (await eventFor('wffc-claim', 'WaitForFirstConsumer'))?.message === 'waiting for first consumer to be created before binding');
    clock.step(16_000); // a resync does not bind it either
    await eventually('resynced', async () => (await phaseOf('pvc', 'wffc-claim')) === 'Pending');
    assert.equal((await getPVC('wffc-claim')).spec?.volumeName, undefined);
    // What the VolumeBinding plugin's PreBind writes.
    const claim = await getPVC('wffc-claim');
    const pv = await getPV('local-a');
    await pvs.update({
      ...pv,
      metadata: { ...pv.metadata, annotations: { ...pv.metadata?.annotations, 'pv.kubernetes.io/bound-by-controller': 'yes' } },
      spec: { ...pv.spec, claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: NS, name: 'wffc-claim', uid: claim.metadata?.uid } },
    });
    await eventually('wffc-claim bound to local-a', () => boundTo('wffc-claim', 'local-a'));
    assert.equal((await getPVC('wffc-claim')).metadata?.annotations?.['pv.kubernetes.io/bind-completed'], 'yes');
  });

  test('an Immediate claim of an external provisioner is annotated for it and waits', async () => {
    await makePVC('ext', { cls: 'external' });
    await eventually('ExternalProvisioning', async () => {
      const e = await eventFor('ext', 'ExternalProvisioning');
      return e?.message === "Waiting for a volume to be created either by the external provisioner 'csi.example.com' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.";
    });
    const pvc = await getPVC('ext');
    assert.equal(pvc.metadata?.annotations?.['volume.kubernetes.io/storage-provisioner'], 'csi.example.com');
    assert.equal(pvc.metadata?.annotations?.['volume.beta.kubernetes.io/storage-provisioner'], 'csi.example.com');
    assert.equal(pvc.status?.phase, 'Pending');
    // The provisioner's volume, pre-bound to the claim, is bound as any other.
    await makePV('ext-pv', { cls: 'external', claimRef: { namespace: NS, name: 'ext', uid: pvc.metadata?.uid }, annotations: { 'pv.kubernetes.io/provisioned-by': 'csi.example.com' }, policy: 'Delete' });
    await eventually('ext bound', () => boundTo('ext', 'ext-pv'));
  });

  test('reclaim: Retain keeps a Released volume, Delete without a deleter fails it, an external deleter is waited for', async () => {
    await makePV('keep', { size: '1Gi', cls: 'manual-keep' });
    await makePV('drop', { size: '1Gi', cls: 'manual-drop', policy: 'Delete' });
    await makePVC('keep-claim', { cls: 'manual-keep' });
    await makePVC('drop-claim', { cls: 'manual-drop' });
    await eventually('both bound', async () => (await boundTo('keep-claim', 'keep')) && (await boundTo('drop-claim', 'drop')));
    await pvcs.delete('keep-claim', { namespace: NS });
    await pvcs.delete('drop-claim', { namespace: NS });
    await pvcs.delete('ext', { namespace: NS });
    await eventually('keep Released', async () => (await phaseOf('pv', 'keep')) === 'Released');
    await eventually('drop Failed', async () => (await phaseOf('pv', 'drop')) === 'Failed');
    const drop = await getPV('drop');
    assert.equal(drop.status?.message, 'error getting deleter volume plugin for volume "drop": no deletable volume plugin matched');
    await eventually('VolumeFailedDelete', async () => (await eventFor('drop', 'VolumeFailedDelete'))?.type === 'Warning');
    await eventually('ext-pv Released', async () => (await phaseOf('pv', 'ext-pv')) === 'Released');
    clock.step(16_000);
    assert.equal(await phaseOf('pv', 'keep'), 'Released');
    assert.equal((await getPV('keep')).spec?.claimRef?.name, 'keep-claim');
    // Left for the external provisioner to delete: the controller neither deletes nor fails it.
    await eventually('resync seen', async () => (await phaseOf('pv', 'ext-pv')) === 'Released');
  });

  test('a bound claim whose volume is deleted is Lost', async () => {
    await makePV('doomed', { size: '1Gi', cls: 'lost' });
    await makePVC('orphan', { cls: 'lost' });
    await eventually('bound', () => boundTo('orphan', 'doomed'));
    await pvs.delete('doomed');
    await eventually('volume gone', async () => {
      try {
        await getPV('doomed');
        return false;
      } catch (e) {
        return isNotFound(e);
      }
    });
    await eventually('orphan Lost', async () => (await phaseOf('pvc', 'orphan')) === 'Lost');
    const e = await eventFor('orphan', 'ClaimLost');
    assert.equal(e?.message, 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
    assert.equal(e?.type, 'Warning');
  });

  test('a claim created before its volume binds once the volume appears', async () => {
    await makePVC('early', { cls: 'late' });
    await eventually('Pending with a class', async () => (await eventFor('early', 'ProvisioningFailed')) !== undefined);
    assert.equal((await eventFor('early', 'ProvisioningFailed'))?.message, 'storageclass.storage.k8s.io "late" not found');
    await makePV('late-pv', { cls: 'late' });
    await eventually('early bound', () => boundTo('early', 'late-pv'));
  });
});

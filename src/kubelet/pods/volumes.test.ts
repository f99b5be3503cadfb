import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chown, lstat, mkdir, mkdtemp, readdir, readFile, readlink, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigMap, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { validatePayloadPath, writeAtomically } from './atomic-writer.js';
import { fakeObjects } from './fake-objects.js';
import { managedHostsFile } from './hosts.js';
import { PodConfigError } from './objects.js';
import { containerMounts, formatMap, setVolumeOwnership, VolumeManager, VolumeSetupError } from './volumes.js';

let dir: string;
let vm: VolumeManager;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skiff-volumes-'));
  vm = new VolumeManager(join(dir, 'pods'), 'cluster.local');
});

after(async () => {
  await vm.tearDown('u1');
  await rm(dir, { recursive: true, force: true });
});

test('the atomic writer: timestamped dir, ..data symlink, user-visible links, no rewrite when unchanged', async () => {
  const d = join(dir, 'aw');
  const f = (s: string, mode = 0o644) => ({ data: Buffer.from(s), mode });
  assert.equal(await writeAtomically(d, new Map([['a', f('1')], ['sub/b', f('2', 0o600)]])), true);
  const ts1 = await readlink(join(d, '..data'));
  assert.match(ts1, /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+$/);
  assert.equal(await readlink(join(d, 'a')), '..data/a');
  assert.equal(await readlink(join(d, 'sub')), '..data/sub');
  assert.equal(await readFile(join(d, 'sub/b'), 'utf8'), '2');
  assert.equal((await stat(join(d, 'sub/b'))).mode & 0o777, 0o600);
  assert.equal(await writeAtomically(d, new Map([['a', f('1')], ['sub/b', f('2', 0o600)]])), false);
  assert.equal(await readlink(join(d, '..data')), ts1);
  // A change swaps ..data, drops the old payload's names and the old timestamped dir.
  assert.equal(await writeAtomically(d, new Map([['a', f('changed')]])), true);
  assert.notEqual(await readlink(join(d, '..data')), ts1);
  assert.equal(await readFile(join(d, 'a'), 'utf8'), 'changed');
  assert.deepEqual((await readdir(d)).filter((e) => !e.startsWith('..')), ['a']);
  assert.equal((await readdir(d)).filter((e) => e.startsWith('..') && e !== '..data').length, 1);
  assert.equal(validatePayloadPath('../x'), "invalid path: must not contain '..': ../x");
  assert.equal(validatePayloadPath('/x'), 'invalid path: must be relative path: /x');
  await assert.rejects(writeAtomically(d, new Map([['..x', f('1')]])));
});

const cm: ConfigMap = { metadata: { namespace: 'ns', name: 'cfg' }, data: { color: 'blue', size: 'L' } };
const secret: Secret = { metadata: { namespace: 'ns', name: 'creds' }, data: { password: Buffer.from('pw').toString('base64') } };

function pod(volumes: NonNullable<Pod['spec']>['volumes']): Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: 'u1', labels: { b: '2', a: 'x"y' }, annotations: { note: 'hi' } },
    spec: { containers: [{ name: 'c', resources: { limits: { memory: '64Mi' } } }], volumes },
  };
}

test('configMap, secret, downwardAPI and projected volumes: items, paths, modes, optional', async () => {
  const objects = fakeObjects([cm], [secret]);
  const p = pod([
    { name: 'cfg', configMap: { name: 'cfg', items: [{ key: 'color', path: 'deep/colour', mode: 0o400 }], defaultMode: 0o640 } },
    { name: 'all', configMap: { name: 'cfg', defaultMode: 0o640 } },
    { name: 'opt', configMap: { name: 'missing', optional: true } },
    { name: 'sec', secret: { secretName: 'creds' } },
    { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'name', fieldRef: { fieldPath: 'metadata.name' } }, { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } }] } },
    { name: 'proj', projected: { sources: [{ configMap: { name: 'cfg', items: [{ key: 'size', path: 'size' }] } }, { secret: { name: 'creds' } }, { downwardAPI: { items: [{ path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } }] } }] } },
  ]);
  const vols = await vm.setUp(p, { objects, allocatable: {} });
  const path = (n: string) => vols.get(n)!.path;
  assert.equal(path('cfg'), join(dir, 'pods', 'u1', 'volumes', 'kubernetes.io~configmap', 'cfg'));
  assert.equal(await readFile(join(path('cfg'), 'deep/colour'), 'utf8'), 'blue');
  assert.equal((await stat(join(path('cfg'), 'deep/colour'))).mode & 0o777, 0o400);
  assert.deepEqual((await readdir(path('all'))).filter((e) => !e.startsWith('..')).sort(), ['color', 'size']);
  assert.equal((await stat(join(path('all'), 'size'))).mode & 0o777, 0o640);
  assert.deepEqual((await readdir(path('opt'))).filter((e) => !e.startsWith('..')), []);
  assert.equal(await readFile(join(path('sec'), 'password'), 'utf8'), 'pw');
  assert.equal((await stat(join(path('sec'), 'password'))).mode & 0o777, 0o644);
  assert.equal(await readFile(join(path('info'), 'labels'), 'utf8'), 'a="x\\"y"\nb="2"');
  assert.equal(await readFile(join(path('info'), 'name'), 'utf8'), 'p');
  assert.equal(await readFile(join(path('info'), 'mem'), 'utf8'), '64');
  assert.deepEqual((await readdir(path('proj'))).filter((e) => !e.startsWith('..')).sort(), ['ns', 'password', 'size']);
  assert.equal(vols.get('cfg')!.readOnly, true);

  // A changed ConfigMap and changed labels reach the files at the next set-up.
  const changed = fakeObjects([{ ...cm, data: { color: 'red', size: 'L' } }], [secret]);
  const relabelled = { ...p, metadata: { ...p.metadata, labels: { a: 'new' } } };
  await vm.setUp(relabelled, { objects: changed, allocatable: {} });
  assert.equal(await readFile(join(path('cfg'), 'deep/colour'), 'utf8'), 'red');
  assert.equal(await readFile(join(path('info'), 'labels'), 'utf8'), 'a="new"');
  assert.equal(formatMap(undefined), '');
});

test('missing sources fail with upstream FailedMount messages', async () => {
  const objects = fakeObjects([cm], [secret]);
  const fails = async (volumes: NonNullable<Pod['spec']>['volumes'], msg: string) => {
    await assert.rejects(vm.setUp({ ...pod(volumes), metadata: { name: 'q', namespace: 'ns', uid: 'u2' } }, { objects, allocatable: {} }), (err: unknown) => {
      assert.ok(err instanceof VolumeSetupError);
      assert.equal(err.message, msg);
      return true;
    });
  };
  await fails([{ name: 'v', configMap: { name: 'nope' } }], 'MountVolume.SetUp failed for volume "v" : configmap "nope" not found');
  await fails([{ name: 'v', configMap: { name: 'cfg', items: [{ key: 'k', path: 'k' }] } }], 'MountVolume.SetUp failed for volume "v" : configmap references non-existent config key: k');
  await fails([{ name: 'v', secret: { secretName: 'nope' } }], 'MountVolume.SetUp failed for volume "v" : secret "nope" not found');
  await fails([{ name: 'v', hostPath: { path: join(dir, 'absent'), type: 'Directory' } }], `MountVolume.SetUp failed for volume "v" : hostPath type check failed: ${join(dir, 'absent')} is not a directory`);
  await fails(
    [{ name: 'v', persistentVolumeClaim: { claimName: 'data' } }],
    'Unable to attach or mount volumes: unmounted volumes=[v], unattached volumes=[v]: error processing PVC ns/data: failed to fetch PVC from API server: persistentvolumeclaims "data" not found',
  );
  await fails([{ name: 'v', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }], 'MountVolume.SetUp failed for volume "v" : failed to fetch token: the server could not find the requested resource');
  await vm.tearDown('u2');
});

test('hostPath types, a PVC bound to a hostPath PV, emptyDir, mounts with subPath, readOnly, propagation and /etc/hosts', async () => {
  const host = join(dir, 'host');
  const file = join(dir, 'file');
  const pvDir = join(dir, 'pv');
  await writeFile(file, 'x');
  const objects = fakeObjects(
    [],
    [],
    [{ metadata: { namespace: 'ns', name: 'data', uid: 'c1' }, spec: { volumeName: 'pv1' }, status: { phase: 'Bound' } }],
    [{ metadata: { name: 'pv1' }, spec: { hostPath: { path: pvDir, type: 'DirectoryOrCreate' }, claimRef: { namespace: 'ns', name: 'data', uid: 'c1' } } }],
  );
  const p = pod([
    { name: 'h', hostPath: { path: host, type: 'DirectoryOrCreate' } },
    { name: 'f', hostPath: { path: file, type: 'File' } },
    { name: 'made', hostPath: { path: join(dir, 'made'), type: 'FileOrCreate' } },
    { name: 'scratch', emptyDir: {} },
    { name: 'claim', persistentVolumeClaim: { claimName: 'data', readOnly: true } },
  ]);
  const vols = await vm.setUp(p, { objects, allocatable: {} });
  assert.ok((await stat(host)).isDirectory());
  assert.ok((await stat(join(dir, 'made'))).isFile());
  assert.ok((await stat(pvDir)).isDirectory());
  assert.equal(vols.get('claim')!.path, pvDir);
  assert.equal((await stat(vols.get('scratch')!.path)).mode & 0o777, 0o777);

  const hosts = await vm.writeHostsFile({ ...p, spec: { ...p.spec!, subdomain: 'sub', hostAliases: [{ ip: '198.18.9.9', hostnames: ['foo.local', 'bar.local'] }] } }, ['198.18.0.5']);
  const mounts = await containerMounts(
    {
      name: 'c',
      volumeMounts: [
        { name: 'scratch', mountPath: '/data', subPathExpr: 'by-pod/$(POD)' },
        { name: 'h', mountPath: '/h', readOnly: true, mountPropagation: 'HostToContainer' },
        { name: 'claim', mountPath: '/claim' },
      ],
    },
    vols,
    [{ key: 'POD', value: 'p' }],
    hosts,
  );
  assert.deepEqual(mounts, [
    { containerPath: '/data', hostPath: join(vols.get('scratch')!.path, 'by-pod/p'), readonly: false, propagation: 'PROPAGATION_PRIVATE' },
    { containerPath: '/h', hostPath: host, readonly: true, propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
    { containerPath: '/claim', hostPath: pvDir, readonly: true, propagation: 'PROPAGATION_PRIVATE' },
    { containerPath: '/etc/hosts', hostPath: hosts, readonly: false, propagation: 'PROPAGATION_PRIVATE' },
  ]);
  assert.ok((await stat(join(vols.get('scratch')!.path, 'by-pod/p'))).isDirectory());
  assert.equal(
    await readFile(hosts, 'utf8'),
    '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n198.18.0.5\tp.sub.ns.svc.cluster.local\tp\n\n# Entries added by HostAliases.\n198.18.9.9\tfoo.local\tbar.local\n',
  );
  assert.match(managedHostsFile(p, ['198.18.0.5'], 'cluster.local'), /\n198\.18\.0\.5\tp\n$/);
  await assert.rejects(containerMounts({ name: 'c', volumeMounts: [{ name: 'scratch', mountPath: '/x', subPath: '../up' }] }, vols, [], undefined), PodConfigError);
  await assert.rejects(containerMounts({ name: 'c', volumeMounts: [{ name: 'nope', mountPath: '/x' }] }, vols, [], undefined), PodConfigError);

  // Tear-down removes the pod's directory (not the hostPath or PV directories).
  await vm.tearDown('u1');
  await assert.rejects(lstat(join(dir, 'pods', 'u1')));
  assert.ok((await stat(pvDir)).isDirectory());
});

test('a subPath never leaves its volume through a symlink, and is never created outside it', async () => {
  const outside = join(dir, 'outside');
  await mkdir(outside, { recursive: true });
  const base = pod([{ name: 'scratch', emptyDir: {} }]);
  const p: Pod = { ...base, metadata: { ...base.metadata, uid: 'u-sub' } };
  const vols = await vm.setUp(p, { objects: fakeObjects([], [], [], []), allocatable: {} });
  const vol = vols.get('scratch')!.path;
  await symlink(outside, join(vol, 'escape'));
  await symlink('/', join(vol, 'root'));
  await mkdir(join(vol, 'real', 'deep'), { recursive: true });
  await symlink('real', join(vol, 'inside'));
  const mountOf = (subPath: string) => containerMounts({ name: 'c', volumeMounts: [{ name: 'scratch', mountPath: '/x', subPath }] }, vols, [], undefined);
  const rejects = (subPath: string, message: string) => assert.rejects(mountOf(subPath), (err: unknown) => err instanceof PodConfigError && err.message === message);

  await rejects('escape', 'failed to prepare subPath for volumeMount "scratch" of container "c"');
  await rejects('root/etc', 'failed to prepare subPath for volumeMount "scratch" of container "c"');
  // A missing directory below an escaping symlink is not made on the host.
  await rejects('escape/made-by-kubelet', 'failed to create subPath directory for volumeMount "scratch" of container "c"');
  await assert.rejects(lstat(join(outside, 'made-by-kubelet')));
  await rejects('/abs', 'error SubPath `/abs` must not be an absolute path');
  await rejects('a/../b', "unable to provision SubPath `a/../b`: must not contain '..'");
  // A symlink that stays inside the volume is fine: the runtime gets the resolved path.
  assert.equal((await mountOf('inside/deep'))[0]!.hostPath, join(await realpath(vol), 'real', 'deep'));
  assert.equal((await mountOf('inside/new'))[0]!.hostPath, join(await realpath(vol), 'real', 'new'));
  assert.ok((await stat(join(vol, 'real', 'new'))).isDirectory());
  await vm.tearDown('u-sub');
});

test('fsGroup: volume files get the group with its rights, directories setgid; hostPath is left alone', async () => {
  const host = join(dir, 'fs-host');
  await mkdir(host, { recursive: true });
  const objects = fakeObjects([{ metadata: { namespace: 'ns', name: 'cm' }, data: { k: 'v' } } as ConfigMap], [], [], []);
  const base = pod([
    { name: 'scratch', emptyDir: {} },
    { name: 'cm', configMap: { name: 'cm', defaultMode: 0o400 } },
    { name: 'h', hostPath: { path: host } },
  ]);
  const p: Pod = { ...base, metadata: { ...base.metadata, uid: 'u-fs' }, spec: { ...base.spec!, securityContext: { fsGroup: 2345 } } };
  const vols = await vm.setUp(p, { objects, allocatable: {} });
  const scratch = await stat(vols.get('scratch')!.path);
  assert.equal(scratch.gid, 2345);
  assert.equal(scratch.mode & 0o7777, 0o2777);
  const cmDir = vols.get('cm')!.path;
  const file = await stat(join(cmDir, 'k'));
  assert.equal(file.gid, 2345);
  assert.equal(file.mode & 0o777, 0o440);
  assert.equal((await stat(cmDir)).mode & 0o2000, 0o2000);
  assert.equal((await stat(host)).gid, 0);
  // A file the container makes later is not touched again by later syncs; setgid survives them.
  await writeFile(join(vols.get('scratch')!.path, 'later'), 'x', { mode: 0o600 });
  await vm.setUp(p, { objects, allocatable: {} });
  assert.equal((await stat(vols.get('scratch')!.path)).mode & 0o7777, 0o2777);
  assert.equal((await stat(join(vols.get('scratch')!.path, 'later'))).mode & 0o777, 0o600);
  await vm.tearDown('u-fs');
});

test('setVolumeOwnership with OnRootMismatch leaves a matching volume alone and fixes a mismatching one', async () => {
  const vol = join(dir, 'fs-pv');
  await mkdir(join(vol, 'sub'), { recursive: true });
  await writeFile(join(vol, 'sub', 'f'), 'x', { mode: 0o600 });
  await setVolumeOwnership(vol, 3456, false, 'OnRootMismatch');
  assert.equal((await stat(join(vol, 'sub', 'f'))).gid, 3456);
  assert.equal((await stat(join(vol, 'sub', 'f'))).mode & 0o777, 0o660);
  assert.equal((await stat(join(vol, 'sub'))).mode & 0o7777, 0o2770 | 0o755);
  await writeFile(join(vol, 'new'), 'x', { mode: 0o600 });
  await chown(join(vol, 'new'), 0, 0);
  await setVolumeOwnership(vol, 3456, false, 'OnRootMismatch');
  assert.equal((await stat(join(vol, 'new'))).gid, 0, 'the root matched: nothing walked');
  await setVolumeOwnership(vol, 3456, false, 'Always');
  assert.equal((await stat(join(vol, 'new'))).gid, 3456);
});

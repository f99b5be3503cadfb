import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { allowedUnsafeSysctlsFromKubeletArgs, kernelVersion, safeSysctls, sysctlAllowlist, sysctlWithDots, SysctlAllowlist } from './sysctl.js';

const pod = (names: string[], spec: Partial<Pod['spec']> = {}): Pod => ({
  metadata: { name: 'p' },
  spec: { containers: [{ name: 'c' }], securityContext: { sysctls: names.map((name) => ({ name, value: '1' })) }, ...spec },
});

test('safe sysctls: the legacy list always, newer ones by kernel version', () => {
  assert.deepEqual(kernelVersion('6.1.0-18-amd64'), [6, 1]);
  assert.equal(kernelVersion('garbage'), undefined);
  assert.equal(safeSysctls([3, 10]).includes('net.ipv4.ip_local_reserved_ports'), false);
  assert.equal(safeSysctls([4, 14]).includes('net.ipv4.tcp_rmem'), false);
  const recent = safeSysctls([6, 1]);
  for (const s of ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_keepalive_probes', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem']) assert.ok(recent.includes(s), s);
  assert.equal(safeSysctls(undefined).includes('net.ipv4.tcp_wmem'), false);
});

test('a pod with only safe sysctls is admitted; an unsafe one is SysctlForbidden with upstream message', () => {
  const w = sysctlAllowlist([], [6, 1]);
  assert.deepEqual(w.admit(pod([])), { admit: true });
  assert.deepEqual(w.admit(pod(['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range'])), { admit: true });
  assert.deepEqual(w.admit(pod(['net.core.somaxconn'])), { admit: false, reason: 'SysctlForbidden', message: 'forbidden sysctl: "net.core.somaxconn" not allowlisted' });
  assert.deepEqual(w.admit(pod(['net/ipv4/ip_local_port_range'])), { admit: true });
});

test('allowed unsafe sysctls and prefixes; host namespaces refuse their sysctls', () => {
  const w = sysctlAllowlist(['net.core.somaxconn', 'kernel.msg*'], [6, 1]);
  assert.deepEqual(w.admit(pod(['net.core.somaxconn', 'kernel.msgmax'])), { admit: true });
  assert.deepEqual(w.admit(pod(['net.core.somaxconn'], { hostNetwork: true })), {
    admit: false,
    reason: 'SysctlForbidden',
    message: 'forbidden sysctl: "net.core.somaxconn" not allowed with host net enabled',
  });
  assert.deepEqual(w.admit(pod(['kernel.msgmax'], { hostIPC: true })), { admit: false, reason: 'SysctlForbidden', message: 'forbidden sysctl: "kernel.msgmax" not allowed with host ipc enabled' });
  assert.deepEqual(w.admit(pod(['kernel.shm_rmid_forced'], { hostNetwork: true })), { admit: true });
});

test('invalid or not namespaced allowlist entries are refused as upstream', () => {
  assert.throws(() => new SysctlAllowlist(['kernel.hostname']), /the sysctl "kernel.hostname" are not known to be namespaced/);
  assert.throws(() => new SysctlAllowlist(['vm.*']), /the sysctls "vm.\*" are not known to be namespaced/);
  assert.throws(() => new SysctlAllowlist(['Net.Core']), /sysctl "Net.Core" must have at most 253 characters and match regex/);
  assert.equal(sysctlWithDots('net/ipv4/conf/eth0.100/forwarding'), 'net.ipv4.conf.eth0/100.forwarding');
  assert.equal(sysctlWithDots('net.ipv4.conf.eth0/100.forwarding'), 'net.ipv4.conf.eth0/100.forwarding');
});

test('--kubelet-arg allowed-unsafe-sysctls: comma-separated and repeatable', () => {
  assert.deepEqual(allowedUnsafeSysctlsFromKubeletArgs(['allowed-unsafe-sysctls=net.core.somaxconn, kernel.msg*', '--allowed-unsafe-sysctls=net.ipv4.tcp_sack', 'sync-frequency=1m']), [
    'net.core.somaxconn',
    'kernel.msg*',
    'net.ipv4.tcp_sack',
  ]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { containerConfig, containerResources, expandVars, parseResolvConf, podDnsConfig, sandboxConfig, type DnsSettings } from './config.js';
import { resolveEnv } from './env.js';
import type { ObjectSource } from './objects.js';
import { defaultPullPolicy } from './sync.js';

const pod: Pod = {
  metadata: { name: 'web', namespace: 'shop', uid: 'u-1', labels: { app: 'web' } },
  spec: {
    nodeName: 'n1',
    containers: [
      {
        name: 'c',
        image: 'busybox',
        command: ['sh', '-c', 'echo $(GREETING) $$(x)'],
        env: [
          { name: 'GREETING', value: 'hi' },
          { name: 'BOTH', value: '$(GREETING)-$(MISSING)' },
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        ],
        ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 81 }],
        resources: { requests: { cpu: '250m' }, limits: { cpu: '500m', memory: '64Mi' } },
      },
    ],
  },
};

const dns: DnsSettings = { clusterDNS: ['198.19.0.10'], clusterDomain: 'cluster.local', host: { servers: ['198.18.255.1'], searches: ['example.test'], options: ['edns0'] } };

test('resolv.conf parsing and dnsPolicy', () => {
  assert.deepEqual(parseResolvConf('# c\nnameserver 1.2.3.4\nsearch a b\noptions ndots:2 rotate\n'), { servers: ['1.2.3.4'], searches: ['a', 'b'], options: ['ndots:2', 'rotate'] });
  assert.deepEqual(podDnsConfig(pod, dns), {
    servers: ['198.19.0.10'],
    searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'example.test'],
    options: ['ndots:5'],
  });
  assert.deepEqual(podDnsConfig({ ...pod, spec: { ...pod.spec!, dnsPolicy: 'Default' } }, dns), dns.host);
  assert.deepEqual(podDnsConfig({ ...pod, spec: { ...pod.spec!, hostNetwork: true } }, dns), dns.host);
  const none = podDnsConfig({ ...pod, spec: { ...pod.spec!, dnsPolicy: 'None', dnsConfig: { nameservers: ['198.18.0.53'], options: [{ name: 'ndots', value: '1' }] } } }, dns);
  assert.deepEqual(none, { servers: ['198.18.0.53'], searches: [], options: ['ndots:1'] });
});

test('$(VAR) expansion as upstream', () => {
  const env = new Map([['A', 'x']]);
  assert.equal(expandVars('$(A)-$(B)-$$(A)-$', (n) => env.get(n)), 'x-$(B)-$(A)-$');
});

test('sandbox config: metadata, labels, host ports, hostname, DNS', () => {
  const c = sandboxConfig(pod, 2, '/logs', dns);
  assert.deepEqual(c.metadata, { name: 'web', uid: 'u-1', namespace: 'shop', attempt: 2 });
  assert.equal(c.hostname, 'web');
  assert.equal(c.logDirectory, '/logs/shop_web_u-1');
  assert.deepEqual(c.portMappings, [{ protocol: 'TCP', containerPort: 80, hostPort: 8080, hostIp: '' }]);
  assert.equal(c.labels?.app, 'web');
  assert.equal(c.labels?.['io.kubernetes.pod.uid'], 'u-1');
  assert.equal(c.linux?.securityContext?.namespaceOptions?.pid, 'CONTAINER');
});

test('container config: env with fieldRefs and expansion, command expansion, resources, labels, log path', async () => {
  const objects = {} as ObjectSource; // no ConfigMap/Secret references here
  const env = await resolveEnv(pod, pod.spec!.containers[0]!, { objects, podIPs: ['198.18.0.7'], hostIPs: ['127.0.0.1'], allocatable: {}, warn: () => undefined });
  const c = containerConfig(pod, pod.spec!.containers[0]!, { restartCount: 3, init: false, env, mounts: [] });
  assert.deepEqual(c.envs, [
    { key: 'GREETING', value: 'hi' },
    { key: 'BOTH', value: 'hi-$(MISSING)' },
    { key: 'POD', value: 'web' },
    { key: 'IP', value: '198.18.0.7' },
  ]);
  assert.deepEqual(c.command, ['sh', '-c', 'echo hi $(x)']);
  assert.equal(c.logPath, 'c/3.log');
  assert.equal(c.metadata.attempt, 3);
  assert.equal(c.annotations?.['io.kubernetes.container.restartCount'], '3');
  assert.equal(c.labels?.['io.kubernetes.container.name'], 'c');
  assert.deepEqual(c.linux?.resources, { cpuShares: 256, cpuPeriod: 100000, cpuQuota: 50000, memoryLimitInBytes: 64 * 1024 * 1024 });
  assert.deepEqual(containerResources({ name: 'x' }), { cpuShares: 2 });
});

test('default image pull policy', () => {
  assert.equal(defaultPullPolicy('busybox'), 'Always');
  assert.equal(defaultPullPolicy('busybox:latest'), 'Always');
  assert.equal(defaultPullPolicy('registry.local:5000/busybox'), 'Always');
  assert.equal(defaultPullPolicy('registry.local:5000/busybox:1.36'), 'IfNotPresent');
  assert.equal(defaultPullPolicy('busybox@sha256:abc'), 'IfNotPresent');
});

test('security context: runAsUser/runAsGroup (container over pod), supplementalGroups with the fsGroup', () => {
  const p: Pod = { ...pod, spec: { ...pod.spec!, securityContext: { runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000], fsGroup: 2000 } } };
  const c = containerConfig(p, { name: 'c', securityContext: { runAsUser: 1001 } }, { restartCount: 0, init: false, env: [] });
  assert.deepEqual(c.linux?.securityContext?.runAsUser, { value: 1001 });
  assert.deepEqual(c.linux?.securityContext?.runAsGroup, { value: 3000 });
  assert.deepEqual(c.linux?.securityContext?.supplementalGroups, [4000, 2000]);
  assert.deepEqual(sandboxConfig(p, 0, '/logs', dns).linux?.securityContext?.supplementalGroups, [4000, 2000]);
});

// Table-driven checks of the non-pod printers against upstream's printers_test.go expectations.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { TablePrinter } from '../types.js';
import { servicePrinter, nodePrinter, eventPrinter, endpointsPrinter, persistentVolumePrinter, persistentVolumeClaimPrinter, resourceQuotaPrinter, configMapPrinter, secretPrinter } from './core.js';
import { deploymentPrinter, jobPrinter, cronJobPrinter, horizontalPodAutoscalerPrinter, statefulSetPrinter, daemonSetPrinter, replicaSetPrinter, controllerRevisionPrinter, podDisruptionBudgetPrinter } from './workloads.js';
import { ingressPrinter, roleBindingPrinter, storageClassPrinter, endpointSlicePrinter, certificateSigningRequestPrinter, validatingAdmissionPolicyBindingPrinter, csiDriverPrinter, ingressClassPrinter, networkPolicyPrinter } from './cluster.js';

const NOW = new Date('2024-06-01T12:00:00Z');
const ago = (ms: number): string => new Date(NOW.getTime() - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const S = 1000;
const M = 60 * S;
const H = 60 * M;

function obj(apiVersion: string, kind: string, name: string, body: Record<string, unknown>, meta: Record<string, unknown> = {}): KubeObject {
  return { apiVersion, kind, metadata: { name, creationTimestamp: ago(5 * M), ...meta }, ...body };
}

function check(printer: TablePrinter, cases: [KubeObject, unknown[]][]): void {
  for (const [o, want] of cases) {
    test(o.metadata.name ?? '', () => {
      const cells = printer.cells(o, NOW);
      assert.equal(cells.length, printer.columns.length, 'one cell per column');
      assert.deepEqual(cells, want);
    });
  }
}

describe('services', () => {
  const svc = (name: string, spec: Record<string, unknown>, status: Record<string, unknown> = {}) =>
    obj('v1', 'Service', name, { spec, status });
  check(servicePrinter, [
    [svc('cip', { type: 'ClusterIP', clusterIP: '10.9.8.7', clusterIPs: ['10.9.8.7'], ports: [{ protocol: 'TCP', port: 2233 }], selector: { app: 'a', b: 'c' } }),
      ['cip', 'ClusterIP', '10.9.8.7', '<none>', '2233/TCP', '5m', 'app=a,b=c']],
    [svc('np', { type: 'NodePort', clusterIP: '10.9.8.7', ports: [{ protocol: 'TCP', port: 8888, nodePort: 9999 }] }),
      ['np', 'NodePort', '10.9.8.7', '<none>', '8888:9999/TCP', '5m', '<none>']],
    [svc('lb', { type: 'LoadBalancer', clusterIPs: ['10.9.8.7'], ports: [{ protocol: 'TCP', port: 8888, nodePort: 9999 }, { protocol: 'UDP', port: 53 }], externalIPs: ['80.11.12.10'] },
      { loadBalancer: { ingress: [{ ip: '3.4.5.6' }, { ip: '2.3.4.5' }, { hostname: 'lb.example.com' }] } }),
      ['lb', 'LoadBalancer', '10.9.8.7', '2.3.4.5,3.4.5.6,lb.example.com,80.11.12.10', '8888:9999/TCP,53/UDP', '5m', '<none>']],
    [svc('pending', { type: 'LoadBalancer', clusterIPs: ['10.9.8.7'], ports: [{ protocol: 'TCP', port: 80 }] }),
      ['pending', 'LoadBalancer', '10.9.8.7', '<pending>', '80/TCP', '5m', '<none>']],
    [svc('ext', { type: 'ExternalName', externalName: 'my.database.example.com' }),
      ['ext', 'ExternalName', '<none>', 'my.database.example.com', '<none>', '5m', '<none>']],
    [svc('headless', { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], externalIPs: ['1.2.3.4', '5.6.7.8'] }),
      ['headless', 'ClusterIP', 'None', '1.2.3.4,5.6.7.8', '<none>', '5m', '<none>']],
  ]);
});

describe('nodes', () => {
  const node = (name: string, spec: Record<string, unknown>, status: Record<string, unknown>, labels: Record<string, string> = {}) =>
    obj('v1', 'Node', name, { spec, status }, { labels });
  const info = { kubeletVersion: 'v1.31.0', osImage: 'Debian GNU/Linux 12', kernelVersion: '6.1.0', containerRuntimeVersion: 'containerd://1.7' };
  check(nodePrinter, [
    [node('ready', {}, { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: info, addresses: [{ type: 'InternalIP', address: '10.1.1.1' }, { type: 'ExternalIP', address: '1.1.1.1' }] },
      { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/worker': '', 'kubernetes.io/role': 'node' }),
      ['ready', 'Ready', 'control-plane,node,worker', '5m', 'v1.31.0', '10.1.1.1', '1.1.1.1', 'Debian GNU/Linux 12', '6.1.0', 'containerd://1.7']],
    [node('notready', { unschedulable: true }, { conditions: [{ type: 'Ready', status: 'False' }] }),
      ['notready', 'NotReady,SchedulingDisabled', '<none>', '5m', '', '<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']],
    [node('unknown', {}, { conditions: [{ type: 'MemoryPressure', status: 'False' }] }),
      ['unknown', 'Unknown', '<none>', '5m', '', '<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']],
  ]);
});

describe('events (core and events.k8s.io)', () => {
  check(eventPrinter, [
    [obj('v1', 'Event', 'e1', {
      involvedObject: { kind: 'Pod', name: 'web-1', fieldPath: 'spec.containers{web}' },
      reason: 'Pulled', message: ' Container image pulled \n', type: 'Normal', source: { component: 'kubelet', host: 'node1' },
      firstTimestamp: ago(3 * H), lastTimestamp: ago(10 * S), count: 4,
    }), ['10s', 'Normal', 'Pulled', 'pod/web-1', 'spec.containers{web}', 'kubelet, node1', 'Container image pulled', '3h', 4, 'e1']],
    [obj('v1', 'Event', 'e2', {
      involvedObject: { kind: 'Node' }, reason: 'Starting', type: 'Normal', eventTime: ago(70 * S) + '', reportingController: 'kube-proxy', reportingInstance: 'node1',
    }), ['70s', 'Normal', 'Starting', 'node', '', 'kube-proxy, node1', '', '70s', 1, 'e2']],
    [obj('events.k8s.io/v1', 'Event', 'e3', {
      regarding: { kind: 'Deployment', name: 'web' }, reason: 'ScalingReplicaSet', note: 'Scaled up', type: 'Normal',
      eventTime: ago(20 * M), series: { count: 7, lastObservedTime: ago(2 * M) }, reportingController: 'deployment-controller',
    }), ['2m', 'Normal', 'ScalingReplicaSet', 'deployment/web', '', 'deployment-controller', 'Scaled up', '20m', 7, 'e3']],
    [obj('v1', 'Event', 'e4', { involvedObject: {} }), ['<unknown>', '', '', '', '', '', '', '<unknown>', 1, 'e4']],
  ]);
});

describe('endpoints', () => {
  check(endpointsPrinter, [
    [obj('v1', 'Endpoints', 'none', {}), ['none', '<none>', '5m']],
    [obj('v1', 'Endpoints', 'many', {
      subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: 'fd00::1' }], ports: [{ port: 80 }, { port: 443 }] }],
    }), ['many', '10.0.0.1:80,10.0.0.2:80,[fd00::1]:80 + 3 more...', '5m']],
    [obj('v1', 'Endpoints', 'headless', { subsets: [{ addresses: [{ ip: '10.0.0.1' }] }] }), ['headless', '10.0.0.1', '5m']],
  ]);
});

describe('storage', () => {
  check(persistentVolumePrinter, [
    [obj('v1', 'PersistentVolume', 'pv1', {
      spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteMany', 'ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', claimRef: { namespace: 'ns', name: 'data' }, storageClassName: 'fast' },
      status: { phase: 'Bound' },
    }), ['pv1', '5Gi', 'RWO,RWX', 'Retain', 'Bound', 'ns/data', 'fast', '<unset>', '', '5m', '<unset>']],
    [obj('v1', 'PersistentVolume', 'pv2', { spec: {}, status: { phase: 'Available' } }, { deletionTimestamp: ago(S), annotations: { 'volume.beta.kubernetes.io/storage-class': 'beta' } }),
      ['pv2', '0', '', '', 'Terminating', '', 'beta', '<unset>', '', '5m', '<unset>']],
  ]);
  check(persistentVolumeClaimPrinter, [
    [obj('v1', 'PersistentVolumeClaim', 'bound', {
      spec: { volumeName: 'pv1', storageClassName: 'fast', volumeMode: 'Filesystem' },
      status: { phase: 'Bound', capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'] },
    }), ['bound', 'Bound', 'pv1', '5Gi', 'RWO', 'fast', '<unset>', '5m', 'Filesystem']],
    [obj('v1', 'PersistentVolumeClaim', 'pending', { spec: { resources: { requests: { storage: '1Gi' } } }, status: { phase: 'Pending' } }),
      ['pending', 'Pending', '', '', '', '', '<unset>', '5m', '<unset>']],
  ]);
  check(storageClassPrinter, [
    [obj('storage.k8s.io/v1', 'StorageClass', 'standard', { provisioner: 'rancher.io/local-path' }, { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }),
      ['standard (default)', 'rancher.io/local-path', 'Delete', 'Immediate', false, '5m']],
    [obj('storage.k8s.io/v1', 'StorageClass', 'slow', { provisioner: 'x', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true }),
      ['slow', 'x', 'Retain', 'WaitForFirstConsumer', true, '5m']],
  ]);
  check(csiDriverPrinter, [
    [obj('storage.k8s.io/v1', 'CSIDriver', 'csi.example.com', { spec: { tokenRequests: [{ audience: 'a' }, { audience: 'b' }], volumeLifecycleModes: ['Persistent', 'Ephemeral'] } }),
      ['csi.example.com', true, false, false, 'a,b', false, 'Persistent,Ephemeral', '5m']],
    [obj('storage.k8s.io/v1', 'CSIDriver', 'plain', { spec: { attachRequired: false } }), ['plain', false, false, false, '<unset>', false, '<none>', '5m']],
  ]);
});

describe('config', () => {
  check(configMapPrinter, [[obj('v1', 'ConfigMap', 'cm', { data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }), ['cm', 3, '5m']]]);
  check(secretPrinter, [[obj('v1', 'Secret', 's', { type: 'Opaque', data: { a: 'MQ==' } }), ['s', 'Opaque', 1, '5m']]]);
  check(resourceQuotaPrinter, [
    [obj('v1', 'ResourceQuota', 'rq', {
      status: { hard: { 'limits.cpu': '2', pods: '10', 'requests.memory': '1Gi', 'limits.memory': '2Gi' }, used: { pods: '3', 'limits.cpu': '500m' } },
    }), ['rq', 'pods: 3/10, requests.memory: 0/1Gi', 'limits.cpu: 500m/2, limits.memory: 0/2Gi', '5m']],
  ]);
});

describe('workloads', () => {
  const template = { spec: { containers: [{ name: 'web', image: 'nginx:1.25' }, { name: 'side', image: 'busybox' }] } };
  check(deploymentPrinter, [
    [obj('apps/v1', 'Deployment', 'web', {
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }] }, template },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    }), ['web', '2/3', 3, 2, '5m', 'web,side', 'nginx:1.25,busybox', 'app=web,tier in (a,b)']],
    [obj('apps/v1', 'Deployment', 'fresh', { spec: { template: { spec: { containers: [] } } } }), ['fresh', '0/1', 0, 0, '5m', '', '', '']],
  ]);
  check(replicaSetPrinter, [
    [obj('apps/v1', 'ReplicaSet', 'rs', { spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template }, status: { replicas: 2, readyReplicas: 1 } }),
      ['rs', 2, 2, 1, '5m', 'web,side', 'nginx:1.25,busybox', 'app=web']],
  ]);
  check(statefulSetPrinter, [
    [obj('apps/v1', 'StatefulSet', 'db', { spec: { replicas: 3, template }, status: { readyReplicas: 1 } }), ['db', '1/3', '5m', 'web,side', 'nginx:1.25,busybox']],
  ]);
  check(daemonSetPrinter, [
    [obj('apps/v1', 'DaemonSet', 'ds', {
      spec: { selector: { matchLabels: { app: 'ds' } }, template: { spec: { nodeSelector: { 'kubernetes.io/os': 'linux' }, containers: [{ name: 'c', image: 'i' }] } } },
      status: { desiredNumberScheduled: 3, currentNumberScheduled: 2, numberReady: 1, updatedNumberScheduled: 2, numberAvailable: 1 },
    }), ['ds', 3, 2, 1, 2, 1, 'kubernetes.io/os=linux', '5m', 'c', 'i', 'app=ds']],
  ]);
  check(controllerRevisionPrinter, [
    [obj('apps/v1', 'ControllerRevision', 'ds-abc', { revision: 2 }, { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'ds', uid: 'u', controller: true }] }),
      ['ds-abc', 'daemonset.apps/ds', 2, '5m']],
    [obj('apps/v1', 'ControllerRevision', 'orphan', { revision: 1 }), ['orphan', '<none>', 1, '5m']],
  ]);
  check(podDisruptionBudgetPrinter, [
    [obj('policy/v1', 'PodDisruptionBudget', 'pdb1', { spec: { minAvailable: 2 }, status: { disruptionsAllowed: 1 } }), ['pdb1', '2', 'N/A', 1, '5m']],
    [obj('policy/v1', 'PodDisruptionBudget', 'pdb2', { spec: { maxUnavailable: '10%' } }), ['pdb2', 'N/A', '10%', 0, '5m']],
  ]);
});

describe('jobs and cronjobs', () => {
  const tpl = { spec: { containers: [{ name: 'fake-job-container1', image: 'fake-job-image1' }] } };
  check(jobPrinter, [
    [obj('batch/v1', 'Job', 'job1', {
      spec: { completions: 2, template: tpl, selector: { matchLabels: { 'job-label': 'job-lable-value' } } },
      status: { succeeded: 1, startTime: ago(H), completionTime: ago(H - 10 * S) },
    }), ['job1', 'Running', '1/2', '10s', '5m', 'fake-job-container1', 'fake-job-image1', 'job-label=job-lable-value']],
    [obj('batch/v1', 'Job', 'job2', { spec: { parallelism: 2, template: tpl }, status: { startTime: ago(3 * M + 2 * S) } }),
      ['job2', 'Running', '0/1 of 2', '3m2s', '5m', 'fake-job-container1', 'fake-job-image1', '<none>']],
    [obj('batch/v1', 'Job', 'job3', { spec: { template: tpl }, status: { conditions: [{ type: 'Complete', status: 'True' }], succeeded: 1 } }),
      ['job3', 'Complete', '1/1', '', '5m', 'fake-job-container1', 'fake-job-image1', '<none>']],
    [obj('batch/v1', 'Job', 'job4', { spec: { template: tpl }, status: { conditions: [{ type: 'Failed', status: 'True' }] } }),
      ['job4', 'Failed', '0/1', '', '5m', 'fake-job-container1', 'fake-job-image1', '<none>']],
    [obj('batch/v1', 'Job', 'job5', { spec: { template: tpl }, status: { conditions: [{ type: 'Suspended', status: 'True' }] } }, { deletionTimestamp: ago(S) }),
      ['job5', 'Terminating', '0/1', '', '5m', 'fake-job-container1', 'fake-job-image1', '<none>']],
    [obj('batch/v1', 'Job', 'job6', { spec: { template: tpl }, status: { conditions: [{ type: 'Suspended', status: 'True' }] } }),
      ['job6', 'Suspended', '0/1', '', '5m', 'fake-job-container1', 'fake-job-image1', '<none>']],
    [obj('batch/v1', 'Job', 'job7', { spec: { template: tpl }, status: { conditions: [{ type: 'FailureTarget', status: 'True' }] } }),
      ['job7', 'FailureTarget', '0/1', '', '5m', 'fake-job-container1', 'fake-job-image1', '<none>']],
  ]);
  check(cronJobPrinter, [
    [obj('batch/v1', 'CronJob', 'cj1', {
      spec: { schedule: '0/5 * * * ?', suspend: false, jobTemplate: { spec: { template: tpl } } },
      status: { lastScheduleTime: ago(30 * S), active: [{ name: 'a' }] },
    }), ['cj1', '0/5 * * * ?', '<none>', 'False', 1, '30s', '5m', 'fake-job-container1', 'fake-job-image1', '<none>']],
    [obj('batch/v1', 'CronJob', 'cj2', { spec: { schedule: '@daily', timeZone: 'Europe/Paris', jobTemplate: { spec: { template: tpl } } } }),
      ['cj2', '@daily', 'Europe/Paris', '<unset>', 0, '<none>', '5m', 'fake-job-container1', 'fake-job-image1', '<none>']],
  ]);
});

describe('horizontal pod autoscalers', () => {
  const hpa = (name: string, spec: Record<string, unknown>, status: Record<string, unknown> = {}, apiVersion = 'autoscaling/v2') =>
    obj(apiVersion, 'HorizontalPodAutoscaler', name, { spec: { scaleTargetRef: { kind: 'ReplicationController', name: 'some-rc' }, maxReplicas: 10, ...spec }, status: { currentReplicas: 4, ...status } });
  check(horizontalPodAutoscalerPrinter, [
    [hpa('none', {}), ['none', 'ReplicationController/some-rc', '<none>', '<unset>', 10, 4, '5m']],
    [hpa('ext-avg', { minReplicas: 2, metrics: [{ type: 'External', external: { metric: { name: 'q' }, target: { type: 'AverageValue', averageValue: '100m' } } }] }),
      ['ext-avg', 'ReplicationController/some-rc', '<unknown>/100m (avg)', '2', 10, 4, '5m']],
    [hpa('pods', { metrics: [{ type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '100m' } } }] },
      { currentMetrics: [{ type: 'Pods', pods: { metric: { name: 'qps' }, current: { averageValue: '50m' } } }] }),
      ['pods', 'ReplicationController/some-rc', '50m/100m', '<unset>', 10, 4, '5m']],
    [hpa('cpu', { metrics: [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '1Gi' } } },
      { type: 'ContainerResource', containerResource: { name: 'cpu', container: 'c', target: { type: 'Utilization' } } },
    ] }, { currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 50 } } }] }),
      ['cpu', 'ReplicationController/some-rc', 'cpu: 50%/80%, memory: <unknown>/1Gi + 1 more...', '<unset>', 10, 4, '5m']],
    [hpa('v1', { targetCPUUtilizationPercentage: 70, minReplicas: 1 }, { currentCPUUtilizationPercentage: 12 }, 'autoscaling/v1'),
      ['v1', 'ReplicationController/some-rc', 'cpu: 12%/70%', '1', 10, 4, '5m']],
  ]);
});

describe('networking, rbac, discovery, certificates, admission', () => {
  check(ingressPrinter, [
    [obj('networking.k8s.io/v1', 'Ingress', 'ing', {
      spec: { ingressClassName: 'nginx', rules: [{ host: 'a.com' }, { host: 'b.com' }, {}, { host: 'c.com' }, { host: 'd.com' }], tls: [{ hosts: ['a.com'] }] },
      status: { loadBalancer: { ingress: [{ ip: '2.3.4.5' }, { ip: '1.2.3.4' }] } },
    }), // upstream counts every rule, hostless ones included, in "+ N more"
      ['ing', 'nginx', 'a.com,b.com,c.com + 2 more...', '1.2.3.4,2.3.4.5', '80, 443', '5m']],
    [obj('networking.k8s.io/v1', 'Ingress', 'bare', { spec: {} }), ['bare', '<none>', '*', '', '80', '5m']],
    [obj('networking.k8s.io/v1', 'Ingress', 'three', { spec: { rules: [{ host: 'a.com' }, {}, { host: 'b.com' }, { host: 'c.com' }] } }),
      ['three', '<none>', 'a.com,b.com,c.com', '', '80', '5m']],
  ]);
  check(ingressClassPrinter, [
    [obj('networking.k8s.io/v1', 'IngressClass', 'ic', { spec: { controller: 'example.com/c', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'p' } } }),
      ['ic', 'example.com/c', 'IngressParameters.k8s.example.com/p', '5m']],
  ]);
  check(networkPolicyPrinter, [
    [obj('networking.k8s.io/v1', 'NetworkPolicy', 'all', { spec: { podSelector: {} } }), ['all', '<none>', '5m']],
    [obj('networking.k8s.io/v1', 'NetworkPolicy', 'sel', { spec: { podSelector: { matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] } } }), ['sel', '!x', '5m']],
  ]);
  check(roleBindingPrinter, [
    [obj('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rb', {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' },
      subjects: [{ kind: 'User', name: 'u1' }, { kind: 'User', name: 'u2' }, { kind: 'Group', name: 'g' }, { kind: 'ServiceAccount', namespace: 'ns', name: 'sa' }],
    }), ['rb', 'Role/r', '5m', 'u1, u2', 'g', 'ns/sa']],
  ]);
  check(endpointSlicePrinter, [
    [obj('discovery.k8s.io/v1', 'EndpointSlice', 'es', {
      addressType: 'IPv4', ports: [{ port: 80 }, { name: 'http' }, {}, { port: 9 }],
      endpoints: [{ addresses: ['10.1.2.3', '10.1.2.4'] }, { addresses: ['10.1.2.5'] }],
    }), ['es', 'IPv4', '80,http,* + 1 more...', '10.1.2.3,10.1.2.4,10.1.2.5', '5m']],
    [obj('discovery.k8s.io/v1', 'EndpointSlice', 'empty', { addressType: 'IPv6' }), ['empty', 'IPv6', '<unset>', '<unset>', '5m']],
  ]);
  check(certificateSigningRequestPrinter, [
    [obj('certificates.k8s.io/v1', 'CertificateSigningRequest', 'csr1', {
      spec: { signerName: 'kubernetes.io/kube-apiserver-client', username: 'alice', expirationSeconds: 86400 },
      status: { conditions: [{ type: 'Approved', status: 'True' }], certificate: 'Zm9v' },
    }), ['csr1', '5m', 'kubernetes.io/kube-apiserver-client', 'alice', '24h', 'Approved,Issued']],
    [obj('certificates.k8s.io/v1', 'CertificateSigningRequest', 'csr2', {
      spec: { username: 'bob' }, status: { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Denied', status: 'True' }, { type: 'Failed', status: 'True' }] },
    }), ['csr2', '5m', '<none>', 'bob', '<none>', 'Denied,Failed']],
  ]);
  check(validatingAdmissionPolicyBindingPrinter, [
    [obj('admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicyBinding', 'b1', { spec: { policyName: 'p', paramRef: { name: 'cfg', namespace: 'ns' } } }), ['b1', 'p', 'ns/cfg', '5m']],
    [obj('admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicyBinding', 'b2', { spec: { policyName: 'p', paramRef: { name: 'cfg' } } }), ['b2', 'p', '*/cfg', '5m']],
    [obj('admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicyBinding', 'b3', { spec: { policyName: 'p', paramRef: { selector: { matchLabels: { a: 'b' } } } } }),
      ['b3', 'p', '&LabelSelector{MatchLabels:map[string]string{a: b,},MatchExpressions:[]LabelSelectorRequirement{},}', '5m']],
    [obj('admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicyBinding', 'b4', { spec: { policyName: 'p' } }), ['b4', 'p', '<unset>', '5m']],
  ]);
});

describe('column definitions', () => {
  const shape = (p: TablePrinter) => p.columns.map((c) => `${c.name}:${c.type}:${c.priority}`).join(' ');
  test('deployments', () =>
    assert.equal(shape(deploymentPrinter), 'Name:string:0 Ready:string:0 Up-to-date:string:0 Available:string:0 Age:string:0 Containers:string:1 Images:string:1 Selector:string:1'));
  test('services', () =>
    assert.equal(shape(servicePrinter), 'Name:string:0 Type:string:0 Cluster-IP:string:0 External-IP:string:0 Port(s):string:0 Age:string:0 Selector:string:1'));
  test('nodes', () =>
    assert.equal(shape(nodePrinter), 'Name:string:0 Status:string:0 Roles:string:0 Age:string:0 Version:string:0 Internal-IP:string:1 External-IP:string:1 OS-Image:string:1 Kernel-Version:string:1 Container-Runtime:string:1'));
  test('jobs', () =>
    assert.equal(shape(jobPrinter), 'Name:string:0 Status:string:0 Completions:string:0 Duration:string:0 Age:string:0 Containers:string:1 Images:string:1 Selector:string:1'));
  test('events: Name is a wide column with format name', () => {
    assert.equal(shape(eventPrinter), 'Last Seen:string:0 Type:string:0 Reason:string:0 Object:string:0 Subobject:string:1 Source:string:1 Message:string:0 First Seen:string:1 Count:string:1 Name:string:1');
    assert.equal(eventPrinter.columns[9].format, 'name');
  });
  test('descriptions come from the API docs', () => {
    assert.match(servicePrinter.columns[1].description, /^type determines how the Service is exposed/);
    assert.match(deploymentPrinter.columns[2].description, /^Total number of non-terminated pods targeted by this deployment that have the desired template spec/);
  });
});

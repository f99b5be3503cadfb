import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { Strategy, podQOSClass } from './strategy.js';

type Json = Record<string, unknown>;

function pod(spec: Json, extra: Json = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec, ...extra };
}
/** A pod as a client sends it, defaulted as the store does before validating. */
function defaulted(spec: Json): KubeObject {
  const p = pod(structuredClone(spec));
  Strategy.defaults!(p);
  return p;
}
const basic = (): Json => ({ containers: [{ name: 'c', image: 'nginx:1.25' }] });
const brief = (errs: FieldError[]): string[] => errs.map((e) => `${e.type} ${e.field}`);
const spec = (p: KubeObject): Json => p.spec as Json;
const container = (p: KubeObject, i = 0): Json => (spec(p).containers as Json[])[i];

describe('pods: defaults', () => {
  test('fills the pod spec defaults upstream fills', () => {
    const p = defaulted({ containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }] }] });
    const s = spec(p);
    assert.equal(s.restartPolicy, 'Always');
    assert.equal(s.dnsPolicy, 'ClusterFirst');
    assert.equal(s.terminationGracePeriodSeconds, 30);
    assert.equal(s.schedulerName, 'default-scheduler');
    assert.deepEqual(s.securityContext, {});
    assert.equal(s.enableServiceLinks, true);
    const c = container(p);
    assert.equal(c.terminationMessagePath, '/dev/termination-log');
    assert.equal(c.terminationMessagePolicy, 'File');
    assert.equal(c.imagePullPolicy, 'Always');
    assert.deepEqual(c.ports, [{ containerPort: 80, protocol: 'TCP' }]);
  });

  test('imagePullPolicy follows the tag', () => {
    const policy = (image: string): unknown => container(defaulted({ containers: [{ name: 'c', image }] })).imagePullPolicy;
    assert.equal(policy('nginx'), 'Always');
    assert.equal(policy('nginx:latest'), 'Always');
    assert.equal(policy('nginx:1.25'), 'IfNotPresent');
    assert.equal(policy('localhost:5000/nginx'), 'Always');
    assert.equal(policy('localhost:5000/nginx:v1'), 'IfNotPresent');
    assert.equal(policy('nginx@sha256:' + 'a'.repeat(64)), 'IfNotPresent');
    const explicit = defaulted({ containers: [{ name: 'c', image: 'nginx', imagePullPolicy: 'Never' }] });
    assert.equal(container(explicit).imagePullPolicy, 'Never');
  });

  test('probes, http handlers, env field refs and volumes get their defaults', () => {
    const p = defaulted({
      containers: [
        {
          name: 'c',
          image: 'nginx:1',
          livenessProbe: { httpGet: { port: 80 } },
          env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
        },
      ],
      volumes: [{ name: 'scratch' }, { name: 's', secret: { secretName: 'x' } }],
    });
    assert.deepEqual(container(p).livenessProbe, {
      httpGet: { port: 80, path: '/', scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    assert.deepEqual((container(p).env as Json[])[0], { name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name', apiVersion: 'v1' } } });
    assert.deepEqual(spec(p).volumes, [{ name: 'scratch', emptyDir: {} }, { name: 's', secret: { secretName: 'x', defaultMode: 420 } }]);
  });

  test('requests default to limits only where unset', () => {
    const p = defaulted({ containers: [{ name: 'c', image: 'x:1', resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m' } } }] });
    assert.deepEqual((container(p).resources as Json).requests, { cpu: '500m', memory: '1Gi' });
  });

  test('hostNetwork pods get hostPort = containerPort', () => {
    const p = defaulted({ hostNetwork: true, containers: [{ name: 'c', image: 'x:1', ports: [{ containerPort: 8080 }] }] });
    assert.equal((container(p).ports as Json[])[0].hostPort, 8080);
  });
});

describe('pods: create', () => {
  test('status is Pending with the QoS class', () => {
    const p = defaulted(basic());
    Strategy.prepareForCreate!(p);
    assert.deepEqual(p.status, { phase: 'Pending', qosClass: 'BestEffort' });
    const gated = defaulted({ ...basic(), schedulingGates: [{ name: 'example.com/gate' }] });
    Strategy.prepareForCreate!(gated);
    assert.equal(((gated.status as Json).conditions as Json[])[0].reason, 'SchedulingGated');
  });

  test('QoS classes follow upstream', () => {
    const withResources = (resources: Json): Json => ({ containers: [{ name: 'c', image: 'x', resources }] });
    assert.equal(podQOSClass(withResources({})), 'BestEffort');
    assert.equal(podQOSClass(withResources({ requests: { cpu: '100m' } })), 'Burstable');
    assert.equal(podQOSClass(withResources({ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } })), 'Guaranteed');
    assert.equal(podQOSClass(withResources({ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1000m', memory: '1024Mi' } })), 'Guaranteed');
    assert.equal(podQOSClass(withResources({ limits: { cpu: '1' }, requests: { cpu: '1' } })), 'Burstable');
  });
});

describe('pods: validation', () => {
  test('a defaulted minimal pod is valid', () => {
    assert.deepEqual(Strategy.validate(defaulted(basic())), []);
  });

  test('a richer valid pod passes', () => {
    const p = defaulted({
      initContainers: [{ name: 'init', image: 'busybox:1', command: ['true'] }],
      containers: [
        {
          name: 'web',
          image: 'nginx:1',
          ports: [{ name: 'http', containerPort: 80, hostPort: 8080 }],
          env: [{ name: 'A', value: 'b' }, { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
          envFrom: [{ configMapRef: { name: 'cfg' } }],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
          resources: { requests: { cpu: '100m' }, limits: { cpu: '200m', memory: '64Mi' } },
          readinessProbe: { tcpSocket: { port: 'http' } },
          lifecycle: { preStop: { exec: { command: ['sleep', '1'] } } },
        },
      ],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'pvc' } }],
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] }],
          },
        },
      },
      nodeSelector: { disk: 'ssd' },
    });
    assert.deepEqual(Strategy.validate(p), []);
  });

  const cases: [string, Json, string[]][] = [
    ['no containers', { containers: [] }, ['FieldValueRequired spec.containers']],
    [
      'duplicate names across containers and init containers',
      { containers: [{ name: 'a', image: 'x:1' }, { name: 'a', image: 'x:1' }], initContainers: [{ name: 'a', image: 'x:1' }] },
      ['FieldValueDuplicate spec.containers[1].name', 'FieldValueDuplicate spec.initContainers[0].name'],
    ],
    ['missing image', { containers: [{ name: 'a' }] }, ['FieldValueRequired spec.containers[0].image']],
    ['bad container name', { containers: [{ name: 'A_b', image: 'x:1' }] }, ['FieldValueInvalid spec.containers[0].name']],
    [
      'bad ports',
      { containers: [{ name: 'a', image: 'x:1', ports: [{ containerPort: 70000 }, { containerPort: 80, protocol: 'HTTP' }] }] },
      ['FieldValueInvalid spec.containers[0].ports[0].containerPort', 'FieldValueNotSupported spec.containers[0].ports[1].protocol'],
    ],
    [
      'bad env names and sources',
      { containers: [{ name: 'a', image: 'x:1', env: [{ name: '1A' }, { name: 'B', value: 'v', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }] },
      ['FieldValueInvalid spec.containers[0].env[0].name', 'FieldValueInvalid spec.containers[0].env[1].valueFrom'],
    ],
    [
      'duplicate volumes, two sources, mount of a missing volume',
      {
        volumes: [{ name: 'v', emptyDir: {} }, { name: 'v', emptyDir: {} }, { name: 'w', emptyDir: {}, hostPath: { path: '/x' } }],
        containers: [{ name: 'a', image: 'x:1', volumeMounts: [{ name: 'nope', mountPath: '/m' }] }],
      },
      ['FieldValueDuplicate spec.volumes[1].name', 'FieldValueForbidden spec.volumes[2].emptyDir', 'FieldValueNotFound spec.containers[0].volumeMounts[0].name'],
    ],
    [
      'requests above limits',
      { containers: [{ name: 'a', image: 'x:1', resources: { limits: { cpu: '1' }, requests: { cpu: '2' } } }] },
      ['FieldValueInvalid spec.containers[0].resources.requests'],
    ],
    ['restartPolicy', { ...basic(), restartPolicy: 'Sometimes' }, ['FieldValueNotSupported spec.restartPolicy']],
    ['dnsPolicy', { ...basic(), dnsPolicy: 'Bogus' }, ['FieldValueNotSupported spec.dnsPolicy']],
    [
      'toleration without key must be Exists',
      { ...basic(), tolerations: [{ operator: 'Equal', value: 'x' }] },
      ['FieldValueInvalid spec.tolerations[0].operator'],
    ],
    [
      'liveness successThreshold must be 1',
      { containers: [{ name: 'a', image: 'x:1', livenessProbe: { exec: { command: ['true'] }, successThreshold: 2 } }] },
      ['FieldValueInvalid spec.containers[0].livenessProbe.successThreshold'],
    ],
    [
      'probe without handler',
      { containers: [{ name: 'a', image: 'x:1', readinessProbe: {} }] },
      ['FieldValueRequired spec.containers[0].readinessProbe'],
    ],
    [
      'affinity without terms',
      { ...basic(), affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } } },
      ['FieldValueRequired spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms'],
    ],
    [
      'node field selectors take one metadata.name value (as the DaemonSet controller writes them)',
      {
        ...basic(),
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] },
                { matchFields: [{ key: 'metadata.uid', operator: 'Exists' }] },
              ],
            },
          },
        },
      },
      [
        'FieldValueInvalid spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[1].matchFields[0].operator',
        'FieldValueInvalid spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[1].matchFields[0].key',
      ],
    ],
    ['activeDeadlineSeconds', { ...basic(), activeDeadlineSeconds: 0 }, ['FieldValueInvalid spec.activeDeadlineSeconds']],
    ['image whitespace', { containers: [{ name: 'a', image: ' x:1' }] }, ['FieldValueInvalid spec.containers[0].image']],
  ];
  for (const [name, s, expected] of cases) {
    test(name, () => assert.deepEqual(brief(Strategy.validate(defaulted(s))), expected));
  }

  test('messages match upstream', () => {
    const [restart] = Strategy.validate(defaulted({ ...basic(), restartPolicy: 'Sometimes' }));
    assert.equal(restart.detail, 'supported values: "Always", "OnFailure", "Never"');
    const [req] = Strategy.validate(defaulted({ containers: [{ name: 'a', image: 'x:1', resources: { limits: { cpu: '1' }, requests: { cpu: '2' } } }] }));
    assert.equal(req.value, '2');
    assert.equal(req.detail, 'must be less than or equal to cpu limit of 1');
  });
});

describe('pods: update', () => {
  const old = (): KubeObject => defaulted({ ...basic(), tolerations: [{ key: 'a', operator: 'Exists', effect: 'NoSchedule' }] });
  const update = (mutate: (s: Json) => void): FieldError[] => {
    const next = structuredClone(old());
    mutate(spec(next));
    return Strategy.validateUpdate!(next, old());
  };

  test('image, activeDeadlineSeconds decrease and toleration additions are allowed', () => {
    assert.deepEqual(
      update((s) => {
        (s.containers as Json[])[0].image = 'nginx:1.26';
        (s.tolerations as Json[]).push({ key: 'b', operator: 'Exists' });
      }),
      [],
    );
  });

  test('other spec changes are forbidden with upstream message', () => {
    const errs = update((s) => {
      (s.containers as Json[])[0].ports = [{ containerPort: 80, protocol: 'TCP' }];
    });
    assert.deepEqual(brief(errs), ['FieldValueForbidden spec']);
    assert.match(errs[0].detail ?? '', /^pod updates may not change fields other than `spec.containers\[\*\].image`,`spec.initContainers\[\*\].image`,`spec.activeDeadlineSeconds`,/);
  });

  test('adding containers, changing tolerations, raising activeDeadlineSeconds', () => {
    assert.deepEqual(brief(update((s) => (s.containers as Json[]).push({ name: 'b', image: 'x' }))), ['FieldValueForbidden spec.containers']);
    assert.deepEqual(brief(update((s) => ((s.tolerations as Json[])[0].effect = 'NoExecute'))), ['FieldValueForbidden spec.tolerations']);
    const withDeadline = structuredClone(old());
    spec(withDeadline).activeDeadlineSeconds = 10;
    const raised = structuredClone(withDeadline);
    spec(raised).activeDeadlineSeconds = 20;
    assert.deepEqual(brief(Strategy.validateUpdate!(raised, withDeadline)), ['FieldValueInvalid spec.activeDeadlineSeconds']);
  });

  test('negative grace period may become 1, nothing else', () => {
    const negative = structuredClone(old());
    spec(negative).terminationGracePeriodSeconds = -1;
    const one = structuredClone(negative);
    spec(one).terminationGracePeriodSeconds = 1;
    assert.deepEqual(Strategy.validateUpdate!(one, negative), []);
    const two = structuredClone(negative);
    spec(two).terminationGracePeriodSeconds = 2;
    assert.deepEqual(brief(Strategy.validateUpdate!(two, negative)), ['FieldValueForbidden spec']);
  });

  test('scheduling gates may only be removed', () => {
    const gated = structuredClone(old());
    spec(gated).schedulingGates = [{ name: 'g1' }];
    const removed = structuredClone(gated);
    spec(removed).schedulingGates = [];
    assert.deepEqual(Strategy.validateUpdate!(removed, gated), []);
    const added = structuredClone(gated);
    spec(added).schedulingGates = [{ name: 'g1' }, { name: 'g2' }];
    assert.deepEqual(brief(Strategy.validateUpdate!(added, gated)), ['FieldValueForbidden spec.schedulingGates[1].name']);
  });

  test('status: terminated containers of a Never pod stay terminated; qosClass is immutable', () => {
    const never = defaulted({ ...basic(), restartPolicy: 'Never' });
    never.status = { qosClass: 'BestEffort', containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 0 } } }] };
    const next = structuredClone(never);
    next.status = { qosClass: 'Burstable', containerStatuses: [{ name: 'c', state: { running: {} } }] };
    assert.deepEqual(brief(Strategy.validateStatusUpdate!(next, never)), [
      'FieldValueInvalid status.qosClass',
      'FieldValueForbidden status.containerStatuses[0].state',
    ]);
  });
});

describe('pods: field selectors', () => {
  test('upstream pod fields', () => {
    const p = defaulted({ ...basic(), nodeName: 'n1', serviceAccountName: 'sa' });
    p.status = { phase: 'Running', podIPs: [{ ip: '127.0.0.5' }] };
    assert.deepEqual(Strategy.selectableFields!(p), {
      'spec.nodeName': 'n1',
      'spec.restartPolicy': 'Always',
      'spec.schedulerName': 'default-scheduler',
      'spec.serviceAccountName': 'sa',
      'spec.hostNetwork': 'false',
      'status.phase': 'Running',
      'status.podIP': '127.0.0.5',
      'status.nominatedNodeName': '',
    });
  });
});

describe('pods: ephemeralcontainers subresource', () => {
  const withEphemeral = (ephemeral: Json[]): KubeObject => {
    const p = defaulted({ ...basic(), ephemeralContainers: ephemeral });
    p.metadata = { ...p.metadata, labels: { a: 'b' }, resourceVersion: '5' };
    return p;
  };
  test('only spec.ephemeralContainers changes, and new ones are defaulted', () => {
    const old = withEphemeral([]);
    const next = withEphemeral([{ name: 'dbg', image: 'busybox', targetContainerName: 'c' }]);
    next.metadata = { ...next.metadata, labels: { sneaky: 'yes' } };
    (spec(next).containers as Json[])[0].image = 'other';
    Strategy.prepareForSubresourceUpdate!('ephemeralcontainers', next, old);
    assert.deepEqual(next.metadata.labels, { a: 'b' });
    assert.equal(container(next).image, 'nginx:1.25');
    const ec = (spec(next).ephemeralContainers as Json[])[0];
    assert.equal(ec.terminationMessagePath, '/dev/termination-log');
    assert.deepEqual(Strategy.validateSubresourceUpdate!('ephemeralcontainers', next, old), []);
  });
  test('existing ephemeral containers may not be changed or removed', () => {
    const old = withEphemeral([{ name: 'dbg', image: 'busybox' }]);
    const changed = withEphemeral([{ name: 'dbg', image: 'busybox:2' }]);
    assert.deepEqual(
      Strategy.validateSubresourceUpdate!('ephemeralcontainers', changed, old).map((e) => e.detail),
      ['existing ephemeral containers "dbg" may not be changed\n'],
    );
    const removed = withEphemeral([]);
    assert.deepEqual(brief(Strategy.validateSubresourceUpdate!('ephemeralcontainers', removed, old)), ['FieldValueForbidden spec.ephemeralContainers']);
  });
  test('the pod update path may not add them', () => {
    const old = withEphemeral([]);
    const next = withEphemeral([{ name: 'dbg', image: 'busybox' }]);
    assert.ok(brief(Strategy.validateUpdate!(next, old)).includes('FieldValueForbidden spec'));
  });
});

// Pod READY/STATUS/RESTARTS cases from upstream's printers_test.go (TestPrintPod, TestPrintPodWithRestartableInitContainer,
// TestPrintPodwide, TestPrintPodConditions), expressed against the v1 shapes the API server stores.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, ContainerStatus, PodStatus, PodSpec } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../../api/object.js';
import { podPrinter } from './pods.js';

const NOW = new Date('2024-06-01T12:00:00Z');
const ago = (ms: number): string => new Date(NOW.getTime() - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const S = 1000;
const D = 24 * 3600 * S;

const containers = (n: number) => Array.from({ length: n }, () => ({ name: '' }));
const running = { running: {} };
const restartedAgo = (ms: number) => ({ terminated: { exitCode: 0, finishedAt: ago(ms) } });
const always = (name: string) => ({ name, restartPolicy: 'Always' });

function pod(name: string, spec: Partial<PodSpec>, status: PodStatus, deleting = false): KubeObject {
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...(deleting ? { deletionTimestamp: ago(10 * S) } : {}) },
    spec: { containers: [], ...spec },
    status,
  };
  return p as unknown as KubeObject;
}

const cs = (s: Partial<ContainerStatus>): ContainerStatus => ({ name: '', image: '', imageID: '', ready: false, restartCount: 0, ...s });

interface Case {
  pod: KubeObject;
  cells: unknown[];
  completed?: 'Succeeded' | 'Failed';
}

const cases: Case[] = [
  {
    pod: pod('test1', { containers: containers(2) }, {
      phase: 'podPhase',
      containerStatuses: [cs({ ready: true, restartCount: 3, state: running }), cs({ restartCount: 3 })],
    }),
    cells: ['test1', '1/2', 'podPhase', '6'],
  },
  {
    pod: pod('test2', { containers: containers(2) }, {
      phase: 'podPhase',
      containerStatuses: [
        cs({ ready: true, restartCount: 3, state: running }),
        cs({ restartCount: 3, state: { waiting: { reason: 'ContainerWaitingReason' } } }),
      ],
    }),
    cells: ['test2', '1/2', 'ContainerWaitingReason', '6'],
  },
  {
    // the first container's reason wins (statuses are walked backwards)
    pod: pod('test3', { containers: containers(2) }, {
      phase: 'podPhase',
      containerStatuses: [
        cs({ restartCount: 3, state: { waiting: { reason: 'ContainerWaitingReason' } } }),
        cs({ restartCount: 3, state: { terminated: { exitCode: 0, reason: 'ContainerTerminatedReason' } } }),
      ],
    }),
    cells: ['test3', '0/2', 'ContainerWaitingReason', '6'],
  },
  {
    pod: pod('test4', { containers: containers(2) }, {
      phase: 'podPhase',
      containerStatuses: [cs({ ready: true, restartCount: 3, state: running }), cs({ ready: true, restartCount: 3 })],
    }),
    cells: ['test4', '1/2', 'podPhase', '6'],
  },
  {
    pod: pod('test5', { containers: containers(2) }, {
      reason: 'podReason',
      phase: 'podPhase',
      containerStatuses: [cs({ ready: true, restartCount: 3, state: running }), cs({ ready: true, restartCount: 3 })],
    }),
    cells: ['test5', '1/2', 'podReason', '6'],
  },
  {
    pod: pod('test6', { containers: containers(2) }, {
      phase: 'Running',
      containerStatuses: [
        cs({ ready: true, restartCount: 3, state: { terminated: { reason: 'Completed', exitCode: 0 } } }),
        cs({ ready: true, restartCount: 3, state: running }),
      ],
    }),
    cells: ['test6', '1/2', 'NotReady', '6'],
  },
  {
    pod: pod('test6b', { containers: containers(2) }, {
      phase: 'Running',
      containerStatuses: [
        cs({ ready: true, restartCount: 3, state: { terminated: { reason: 'Completed', exitCode: 0 } } }),
        cs({ ready: true, restartCount: 3, state: running }),
      ],
      conditions: [{ type: 'Ready', status: 'True' }],
    }),
    cells: ['test6b', '1/2', 'Running', '6'],
  },
  {
    pod: pod('test7', { initContainers: containers(1), containers: containers(1) }, {
      phase: 'podPhase',
      initContainerStatuses: [cs({ restartCount: 3, state: running, lastState: restartedAgo(10 * S) })],
      containerStatuses: [cs({ state: { waiting: {} } })],
    }),
    cells: ['test7', '0/1', 'Init:0/1', '3 (10s ago)'],
  },
  {
    pod: pod('test8', { initContainers: containers(2), containers: containers(1) }, {
      phase: 'podPhase',
      initContainerStatuses: [
        cs({ restartCount: 3, state: running, lastState: restartedAgo(10 * S) }),
        cs({ state: { waiting: {} } }),
      ],
      containerStatuses: [cs({ state: { waiting: {} } })],
    }),
    cells: ['test8', '0/1', 'Init:0/2', '3 (10s ago)'],
  },
  {
    pod: pod('test9', { initContainers: containers(2), containers: containers(1) }, {
      phase: 'podPhase',
      initContainerStatuses: [
        cs({ state: { terminated: { exitCode: 0 } } }),
        cs({ restartCount: 3, state: running, lastState: restartedAgo(10 * S) }),
      ],
      containerStatuses: [cs({ state: { waiting: {} } })],
    }),
    cells: ['test9', '0/1', 'Init:1/2', '3 (10s ago)'],
  },
  {
    pod: pod('test10', { initContainers: containers(2), containers: containers(1) }, {
      phase: 'podPhase',
      initContainerStatuses: [
        cs({ restartCount: 2, state: { terminated: { exitCode: 0 } }, lastState: restartedAgo(120 * S) }),
        cs({ restartCount: 3, state: running, lastState: restartedAgo(10 * S) }),
      ],
      containerStatuses: [cs({ state: { waiting: {} } })],
    }),
    cells: ['test10', '0/1', 'Init:1/2', '5 (10s ago)'],
  },
  {
    // init restarts no longer count once the pod is past initialization
    pod: pod('test11', { initContainers: containers(1), containers: containers(1) }, {
      phase: 'Running',
      initContainerStatuses: [cs({ restartCount: 2, state: { terminated: { exitCode: 0 } }, lastState: restartedAgo(120 * S) })],
      containerStatuses: [cs({ restartCount: 4, state: running, lastState: restartedAgo(20 * S) })],
    }),
    cells: ['test11', '0/1', 'Running', '4 (20s ago)'],
  },
  {
    pod: pod('test12', { containers: containers(1) }, {
      phase: 'Running',
      containerStatuses: [cs({ ready: true, restartCount: 3, state: running, lastState: restartedAgo(5 * D) })],
    }),
    cells: ['test12', '1/1', 'Running', '3 (5d ago)'],
  },
  {
    pod: pod('test13', { containers: containers(2) }, {
      phase: 'Running',
      containerStatuses: [
        cs({ ready: true, state: running }),
        cs({ ready: true, restartCount: 3, state: running, lastState: restartedAgo(10 * D) }),
      ],
    }),
    cells: ['test13', '2/2', 'Running', '3 (10d ago)'],
  },
  {
    pod: pod('test14', { containers: containers(2) }, {
      phase: 'Running',
      containerStatuses: [
        cs({ ready: true, restartCount: 6, state: running, lastState: restartedAgo(5 * D) }),
        cs({ ready: true, restartCount: 3, state: running, lastState: restartedAgo(20 * D) }),
      ],
    }),
    cells: ['test14', '2/2', 'Running', '9 (5d ago)'],
  },
  {
    pod: pod('test15', { containers: containers(2) }, {
      phase: 'podPhase',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }],
    }),
    cells: ['test15', '0/2', 'SchedulingGated', '0'],
  },
  {
    pod: pod('test16', { containers: containers(1) }, {
      phase: 'Succeeded',
      containerStatuses: [cs({ state: { terminated: { reason: 'Completed', exitCode: 0 } } })],
    }),
    cells: ['test16', '0/1', 'Completed', '0'],
    completed: 'Succeeded',
  },
  {
    pod: pod('test17', { containers: containers(1) }, {
      phase: 'Failed',
      containerStatuses: [cs({ state: { terminated: { reason: 'Error', exitCode: 1 } } })],
    }),
    cells: ['test17', '0/1', 'Error', '0'],
    completed: 'Failed',
  },
  {
    // terminal pods keep their status while being deleted
    pod: pod('test18', { containers: containers(1) }, {
      phase: 'Succeeded',
      containerStatuses: [cs({ state: { terminated: { reason: 'Completed', exitCode: 0 } } })],
    }, true),
    cells: ['test18', '0/1', 'Completed', '0'],
    completed: 'Succeeded',
  },
  {
    pod: pod('test19', { containers: containers(1) }, { phase: 'Running', containerStatuses: [cs({ state: running })] }, true),
    cells: ['test19', '0/1', 'Terminating', '0'],
  },
  {
    pod: pod('test20', { containers: containers(1) }, { phase: 'Pending' }, true),
    cells: ['test20', '0/1', 'Terminating', '0'],
  },
  {
    pod: pod('nodelost', { containers: containers(1) }, { phase: 'Running', reason: 'NodeLost' }, true),
    cells: ['nodelost', '0/1', 'Unknown', '0'],
  },
  {
    pod: pod('initerror', { initContainers: containers(1), containers: containers(1) }, {
      phase: 'Pending',
      initContainerStatuses: [cs({ state: { terminated: { exitCode: 1, reason: 'Error' } } })],
    }),
    cells: ['initerror', '0/1', 'Init:Error', '0'],
  },
  {
    pod: pod('initexit', { initContainers: containers(1), containers: containers(1) }, {
      phase: 'Pending',
      initContainerStatuses: [cs({ state: { terminated: { exitCode: 2 } } })],
    }),
    cells: ['initexit', '0/1', 'Init:ExitCode:2', '0'],
  },
  {
    pod: pod('initsignal', { initContainers: containers(1), containers: containers(1) }, {
      phase: 'Pending',
      initContainerStatuses: [cs({ state: { terminated: { exitCode: 137, signal: 9 } } })],
    }),
    cells: ['initsignal', '0/1', 'Init:Signal:9', '0'],
  },
  {
    pod: pod('initcrash', { initContainers: containers(1), containers: containers(1) }, {
      phase: 'Pending',
      initContainerStatuses: [cs({ restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: restartedAgo(30 * S) })],
    }),
    cells: ['initcrash', '0/1', 'Init:CrashLoopBackOff', '2 (30s ago)'],
  },
  {
    pod: pod('podinit', { initContainers: containers(1), containers: containers(1) }, {
      phase: 'Pending',
      initContainerStatuses: [cs({ state: { terminated: { exitCode: 0, reason: 'Completed' } } })],
      containerStatuses: [cs({ state: { waiting: { reason: 'PodInitializing' } } })],
    }),
    cells: ['podinit', '0/1', 'PodInitializing', '0'],
  },
  {
    pod: pod('crashloop', { containers: containers(1) }, {
      phase: 'Running',
      containerStatuses: [cs({ restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: restartedAgo(3 * 60 * S + 2 * S) })],
    }),
    cells: ['crashloop', '0/1', 'CrashLoopBackOff', '5 (3m2s ago)'],
  },
  {
    pod: pod('exitsignal', { containers: containers(1) }, {
      phase: 'Running',
      containerStatuses: [cs({ state: { terminated: { exitCode: 143, signal: 15 } } })],
    }),
    cells: ['exitsignal', '0/1', 'Signal:15', '0'],
  },
  {
    pod: pod('exitcode', { containers: containers(1) }, {
      phase: 'Running',
      containerStatuses: [cs({ state: { terminated: { exitCode: 3 } } })],
    }),
    cells: ['exitcode', '0/1', 'ExitCode:3', '0'],
  },
  // restartable (sidecar) init containers
  {
    pod: pod('sidecar1', { initContainers: [always('r1'), always('r2')], containers: containers(1) }, {
      phase: 'Pending',
      initContainerStatuses: [
        cs({ name: 'r1', restartCount: 3, state: running, started: false, lastState: restartedAgo(10 * S) }),
        cs({ name: 'r2', state: { waiting: {} }, started: false }),
      ],
      containerStatuses: [cs({ state: { waiting: {} } })],
      conditions: [{ type: 'Initialized', status: 'False' }],
    }),
    cells: ['sidecar1', '0/3', 'Init:0/2', '3 (10s ago)'],
  },
  {
    pod: pod('sidecar2', { initContainers: [always('r1'), always('r2')], containers: containers(1) }, {
      phase: 'Pending',
      initContainerStatuses: [
        cs({ name: 'r1', restartCount: 3, state: running, started: true, lastState: restartedAgo(10 * S) }),
        cs({ name: 'r2', state: running, started: false }),
      ],
      containerStatuses: [cs({ state: { waiting: {} } })],
      conditions: [{ type: 'Initialized', status: 'False' }],
    }),
    cells: ['sidecar2', '0/3', 'Init:1/2', '3 (10s ago)'],
  },
  {
    pod: pod('sidecar3', { initContainers: [always('r1'), always('r2')], containers: containers(1) }, {
      phase: 'Running',
      initContainerStatuses: [
        cs({ name: 'r1', restartCount: 3, state: running, started: true, lastState: restartedAgo(10 * S) }),
        cs({ name: 'r2', state: running, started: true }),
      ],
      containerStatuses: [cs({ ready: true, restartCount: 4, state: running, lastState: restartedAgo(20 * S) })],
      conditions: [{ type: 'Initialized', status: 'True' }],
    }),
    cells: ['sidecar3', '1/3', 'Running', '7 (10s ago)'],
  },
  {
    pod: pod('sidecar4', { initContainers: [always('r1'), always('r2')], containers: containers(1) }, {
      phase: 'Succeeded',
      initContainerStatuses: [
        cs({ name: 'r1', restartCount: 3, state: { terminated: { reason: 'Error', exitCode: 137 } }, started: false, lastState: restartedAgo(10 * S) }),
        cs({ name: 'r2', state: { terminated: { reason: 'Error', exitCode: 137 } }, started: false }),
      ],
      containerStatuses: [cs({ restartCount: 4, state: { terminated: { reason: 'Completed', exitCode: 0 } }, lastState: restartedAgo(20 * S) })],
      conditions: [{ type: 'Initialized', status: 'True' }],
    }),
    cells: ['sidecar4', '0/3', 'Completed', '7 (10s ago)'],
    completed: 'Succeeded',
  },
  {
    // statuses for containers the spec does not have
    pod: pod('sidecar5', {
      initContainers: [{ name: 'init1', image: 'initimage' }, { ...always('sidecar1'), image: 'sidecarimage' }],
      containers: [{ name: 'container1', image: 'containerimage' }],
    }, {
      phase: 'Running',
      initContainerStatuses: [cs({ name: 'initinvalid' }), cs({ name: 'init1' }), cs({ name: 'sidecar1' })],
      containerStatuses: [cs({ name: 'containerinvalid' }), cs({ name: 'container1' })],
    }),
    cells: ['sidecar5', '0/2', 'Init:0/2', '0'],
  },
];

describe('pod printer: READY, STATUS, RESTARTS', () => {
  for (const c of cases) {
    test(String(c.cells[0]), () => {
      const cells = podPrinter.cells(c.pod, NOW);
      assert.deepEqual(cells.slice(0, 4), c.cells);
      assert.equal(cells[4], '<unknown>', 'no creationTimestamp prints <unknown>');
      const conditions = podPrinter.conditions?.(c.pod);
      if (c.completed === undefined) assert.equal(conditions, undefined);
      else assert.deepEqual(conditions?.map((x) => [x.type, x.status, x.reason]), [['Completed', 'True', c.completed]]);
    });
  }
});

describe('pod printer: wide columns', () => {
  test('IP, node, nominated node and readiness gates', () => {
    const p = pod('test1', {
      containers: containers(2),
      nodeName: 'test1',
      readinessGates: [{ conditionType: 'condition1' }, { conditionType: 'condition2' }, { conditionType: 'condition3' }],
    }, {
      conditions: [
        { type: 'condition1', status: 'False' },
        { type: 'condition2', status: 'True' },
      ],
      phase: 'podPhase',
      podIPs: [{ ip: '1.1.1.1' }, { ip: '2001:db8::' }],
      containerStatuses: [cs({ ready: true, restartCount: 3, state: running }), cs({ restartCount: 3 })],
      nominatedNodeName: 'node1',
    });
    assert.deepEqual(podPrinter.cells(p, NOW), ['test1', '1/2', 'podPhase', '6', '<unknown>', '1.1.1.1', 'test1', 'node1', '1/3']);
  });
  test('<none> when unscheduled', () => {
    const p = pod('test2', { containers: containers(2) }, { phase: 'podPhase' });
    assert.deepEqual(podPrinter.cells(p, NOW).slice(5), ['<none>', '<none>', '<none>', '<none>']);
  });
  test('age from creationTimestamp', () => {
    const p = pod('aged', { containers: containers(1) }, { phase: 'Running' });
    p.metadata.creationTimestamp = ago(3 * 60 * S + 2 * S);
    assert.equal(podPrinter.cells(p, NOW)[4], '3m2s');
  });
});

describe('pod printer: columns', () => {
  test('names, types, priorities as upstream', () => {
    assert.deepEqual(
      podPrinter.columns.map((c) => [c.name, c.type, c.format, c.priority]),
      [
        ['Name', 'string', 'name', 0],
        ['Ready', 'string', '', 0],
        ['Status', 'string', '', 0],
        ['Restarts', 'string', '', 0],
        ['Age', 'string', '', 0],
        ['IP', 'string', '', 1],
        ['Node', 'string', '', 1],
        ['Nominated Node', 'string', '', 1],
        ['Readiness Gates', 'string', '', 1],
      ],
    );
    assert.match(podPrinter.columns[0].description, /^Name must be unique within a namespace/);
    assert.match(podPrinter.columns[4].description, /^CreationTimestamp is a timestamp/);
  });
});

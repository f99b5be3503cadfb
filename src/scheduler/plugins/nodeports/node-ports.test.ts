import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerPort } from 'kubernetes-types/core/v1.js';
import { CycleState } from '../../framework/cycle-state.js';
import { NodeInfo } from '../../framework/node-info.js';
import { Code } from '../../framework/status.js';
import { makeNode, makePod } from '../../testing/builders.js';
import { ERR_REASON_NODE_PORTS, NodePorts } from './node-ports.js';

/** "PROTO/IP/PORT" as upstream's newPod helper takes them. */
const portPod = (...specs: string[]) => {
  const ports: ContainerPort[] = specs.map((s) => {
    const [protocol, hostIP, port] = s.split('/');
    return { protocol: protocol!, hostIP: hostIP!, hostPort: Number(port), containerPort: Number(port) };
  });
  const pod = makePod();
  pod.spec!.containers = [{ name: 'c', ports }];
  return pod;
};

describe('NodePorts (upstream TestNodePorts)', () => {
  const cases: { name: string; pod: string[]; existing: string[]; fits: boolean }[] = [
    { name: 'nothing running', pod: [], existing: [], fits: true },
    { name: 'other port', pod: ['UDP/127.0.0.1/8080'], existing: ['UDP/127.0.0.1/9090'], fits: true },
    { name: 'same udp port', pod: ['UDP/127.0.0.1/8080'], existing: ['UDP/127.0.0.1/8080'], fits: false },
    { name: 'same tcp port', pod: ['TCP/127.0.0.1/8080'], existing: ['TCP/127.0.0.1/8080'], fits: false },
    { name: 'different host ip', pod: ['TCP/127.0.0.1/8080'], existing: ['TCP/127.0.0.2/8080'], fits: true },
    { name: 'different protocol', pod: ['UDP/127.0.0.1/8080'], existing: ['TCP/127.0.0.1/8080'], fits: true },
    { name: 'second udp port conflict', pod: ['UDP/127.0.0.1/8000', 'UDP/127.0.0.1/8080'], existing: ['UDP/127.0.0.1/8080'], fits: false },
    { name: 'first tcp port conflict', pod: ['TCP/127.0.0.1/8001', 'UDP/127.0.0.1/8080'], existing: ['TCP/127.0.0.1/8001', 'UDP/127.0.0.1/8081'], fits: false },
    { name: 'first tcp port conflict due to 0.0.0.0 hostIP', pod: ['TCP/0.0.0.0/8001'], existing: ['TCP/127.0.0.1/8001'], fits: false },
    { name: 'TCP hostPort conflict due to 0.0.0.0 hostIP', pod: ['TCP/127.0.0.3/8001', 'TCP/0.0.0.0/8001'], existing: ['TCP/127.0.0.1/8001'], fits: false },
    { name: 'second tcp port conflict to 0.0.0.0 hostIP', pod: ['TCP/127.0.0.1/8001'], existing: ['TCP/0.0.0.0/8001'], fits: false },
    { name: 'second different protocol', pod: ['UDP/127.0.0.1/8001'], existing: ['TCP/0.0.0.0/8001'], fits: true },
    { name: 'UDP hostPort conflict due to 0.0.0.0 hostIP', pod: ['UDP/127.0.0.1/8001'], existing: ['TCP/0.0.0.0/8001', 'UDP/0.0.0.0/8001'], fits: false },
    { name: 'empty protocol and host IP mean TCP on all addresses', pod: ['/127.0.0.1/8001'], existing: ['TCP//8001'], fits: false },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const plugin = new NodePorts();
      const state = new CycleState();
      const pod = portPod(...c.pod);
      const pre = plugin.preFilter(state, pod);
      assert.equal(pre.status?.code ?? Code.Success, c.pod.length ? Code.Success : Code.Skip);
      const info = new NodeInfo(makeNode('node'), [portPod(...c.existing)]);
      const s = plugin.filter(state, pod, info);
      if (c.fits) assert.equal(s, undefined);
      else assert.deepEqual([s?.code, s?.reasons], [Code.Unschedulable, [ERR_REASON_NODE_PORTS]]);
    });
  }

  test('ports are released when the pod leaves the node', () => {
    const existing = portPod('TCP/127.0.0.1/8080');
    const info = new NodeInfo(makeNode('node'), [existing]);
    const pod = portPod('TCP/127.0.0.1/8080');
    assert.ok(new NodePorts().filter(new CycleState(), pod, info));
    assert.ok(info.removePod(existing));
    assert.equal(new NodePorts().filter(new CycleState(), pod, info), undefined);
  });
});

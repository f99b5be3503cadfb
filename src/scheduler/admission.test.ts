import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admissionCheck } from './admission.js';
import { NodeInfo } from './framework/node-info.js';
import { makeNode, makePod } from './testing/builders.js';

test('AdmissionCheck: every shortage first, then node affinity, node name, host ports; only the first unless all are asked for', () => {
  const node = makeNode('n1', { cpu: '1', memory: '1Gi', pods: '10' }, { labels: { zone: 'a' } });
  const holder = makePod({ spec: { nodeName: 'n1', containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 8080 }], resources: { requests: { cpu: '500m' } } }] } });
  const info = new NodeInfo(node, [holder]);
  const pod = makePod({
    spec: {
      nodeName: 'n2',
      nodeSelector: { zone: 'b' },
      containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 8080 }], resources: { requests: { cpu: '600m', memory: '2Gi' } } }],
    },
  });
  const all = admissionCheck(pod, info, true);
  assert.deepEqual(
    all.map((r) => (r.insufficientResource ? `${r.insufficientResource.resourceName} ${r.insufficientResource.requested}/${r.insufficientResource.used}/${r.insufficientResource.capacity}` : r.name)),
    ['cpu 600/500/1000', 'memory 2147483648/0/1073741824', 'NodeAffinity', 'NodeName', 'NodePorts'],
  );
  assert.equal(admissionCheck(pod, info, false).length, 2, 'the resource shortages together');
  const fits = makePod({ spec: { nodeName: 'n1', containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 8081 }] }] } });
  assert.deepEqual(admissionCheck(fits, info, true), []);
  const wrongName = makePod({ spec: { nodeName: 'n2', containers: [{ name: 'c' }] } });
  assert.deepEqual(admissionCheck(wrongName, info, false), [{ name: 'NodeName', reason: "node(s) didn't match the requested node name" }]);
});

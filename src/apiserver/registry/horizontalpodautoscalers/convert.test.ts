import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HorizontalPodAutoscaler as V1HPA } from 'kubernetes-types/autoscaling/v1.js';
import type { HorizontalPodAutoscaler as V2HPA } from 'kubernetes-types/autoscaling/v2.js';
import { BEHAVIOR_ANNOTATION, CONDITIONS_ANNOTATION, METRIC_SPECS_ANNOTATION, METRIC_STATUSES_ANNOTATION, hpaV1ToV2, hpaV2ToV1 } from './convert.js';

const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };

const fullV2: V2HPA = {
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'web', namespace: 'ns', annotations: { keep: 'me' } },
  spec: {
    scaleTargetRef: ref,
    minReplicas: 2,
    maxReplicas: 10,
    // The CPU utilization target travels in v1's own field and comes back last, as upstream orders it.
    metrics: [
      { type: 'Pods', pods: { metric: { name: 'qps', selector: { matchLabels: { a: 'b' } } }, target: { type: 'AverageValue', averageValue: '100' } } },
      { type: 'Object', object: { describedObject: { kind: 'Ingress', name: 'main', apiVersion: 'networking.k8s.io/v1' }, metric: { name: 'rps' }, target: { type: 'Value', value: '2k' } } },
      { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'AverageValue', averageValue: '30' } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } },
      { type: 'ContainerResource', containerResource: { name: 'cpu', container: 'app', target: { type: 'Utilization', averageUtilization: 60 } } },
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
    ],
    behavior: {
      scaleDown: { stabilizationWindowSeconds: 120, selectPolicy: 'Min', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
    },
  },
  status: {
    observedGeneration: 3,
    lastScaleTime: '2024-01-01T00:00:00Z',
    currentReplicas: 3,
    desiredReplicas: 4,
    currentMetrics: [
      { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 65, averageValue: '650m' } } },
      { type: 'Pods', pods: { metric: { name: 'qps' }, current: { averageValue: '90' } } },
    ],
    conditions: [{ type: 'AbleToScale', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z', reason: 'ReadyForNewScale', message: 'ok' }],
  },
};

describe('autoscaling v1 <-> v2 conversion', () => {
  test('v2 -> v1 keeps the CPU target in v1 fields and the rest in annotations', () => {
    const v1 = hpaV2ToV1(fullV2);
    assert.equal(v1.apiVersion, 'autoscaling/v1');
    assert.deepEqual(v1.spec, { scaleTargetRef: ref, minReplicas: 2, maxReplicas: 10, targetCPUUtilizationPercentage: 70 });
    assert.deepEqual(v1.status, {
      observedGeneration: 3,
      lastScaleTime: '2024-01-01T00:00:00Z',
      currentReplicas: 3,
      desiredReplicas: 4,
      currentCPUUtilizationPercentage: 65,
    });
    const ann = v1.metadata!.annotations!;
    assert.equal(ann.keep, 'me');
    const metrics = JSON.parse(ann[METRIC_SPECS_ANNOTATION]);
    assert.equal(metrics.length, 5);
    assert.deepEqual(metrics[0], { type: 'Pods', pods: { metricName: 'qps', targetAverageValue: '100', selector: { matchLabels: { a: 'b' } } } });
    assert.deepEqual(metrics[3], { type: 'Resource', resource: { name: 'memory', targetAverageValue: '500Mi' } });
    assert.deepEqual(JSON.parse(ann[METRIC_STATUSES_ANNOTATION])[0], { type: 'Resource', resource: { name: 'cpu', currentAverageUtilization: 65, currentAverageValue: '650m' } });
    assert.deepEqual(JSON.parse(ann[CONDITIONS_ANNOTATION]), fullV2.status!.conditions);
    assert.deepEqual(JSON.parse(ann[BEHAVIOR_ANNOTATION]), fullV2.spec!.behavior);
  });

  test('v2 -> v1 -> v2 round-trips every field', () => {
    assert.deepEqual(hpaV1ToV2(hpaV2ToV1(fullV2)), fullV2);
  });

  test('v2 -> v1 -> v2 moves a leading CPU target to the end, as upstream does', () => {
    const cpuFirst: V2HPA = { ...fullV2, spec: { ...fullV2.spec!, metrics: [fullV2.spec!.metrics![5], fullV2.spec!.metrics![0]] } };
    assert.deepEqual(hpaV1ToV2(hpaV2ToV1(cpuFirst)).spec!.metrics, [fullV2.spec!.metrics![0], fullV2.spec!.metrics![5]]);
  });

  test('plain v1 -> v2 -> v1 round-trips; only the raw current metrics gain an annotation, as upstream', () => {
    const v1: V1HPA = {
      apiVersion: 'autoscaling/v1',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', namespace: 'ns' },
      spec: { scaleTargetRef: ref, minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 50 },
      status: { currentReplicas: 1, desiredReplicas: 1, currentCPUUtilizationPercentage: 20 },
    };
    const v2 = hpaV1ToV2(v1);
    assert.deepEqual(v2.spec!.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
    assert.deepEqual(v2.status!.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 20 } } }]);
    assert.equal(v2.metadata!.annotations, undefined);
    const back = hpaV2ToV1(v2);
    assert.deepEqual(back.spec, v1.spec);
    assert.deepEqual(back.status, v1.status);
    assert.deepEqual(Object.keys(back.metadata!.annotations!), [METRIC_STATUSES_ANNOTATION]);
    assert.deepEqual(hpaV1ToV2(back), v2);
    const noStatus: V1HPA = { ...v1, status: undefined };
    delete noStatus.status;
    assert.deepEqual(hpaV2ToV1(hpaV1ToV2(noStatus)), noStatus);
  });

  test('v1 annotations are consumed, not kept, on the way to v2', () => {
    const v2 = hpaV1ToV2(hpaV2ToV1(fullV2));
    assert.deepEqual(v2.metadata!.annotations, { keep: 'me' });
  });

  test('stale round-trip annotations on v2 are replaced, never duplicated', () => {
    const stale: V2HPA = { ...fullV2, metadata: { name: 'web', annotations: { [METRIC_SPECS_ANNOTATION]: '[]', [BEHAVIOR_ANNOTATION]: '{}' } }, spec: { scaleTargetRef: ref, maxReplicas: 1 } };
    delete stale.status;
    assert.equal(hpaV2ToV1(stale).metadata!.annotations, undefined);
  });

  test('malformed annotations are reported, not crashed on silently', () => {
    const bad: V1HPA = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x', annotations: { [METRIC_SPECS_ANNOTATION]: '{nope' } }, spec: { scaleTargetRef: ref, maxReplicas: 1 } };
    assert.throws(() => hpaV1ToV2(bad), /invalid autoscaling.alpha.kubernetes.io\/metrics annotation/);
  });

  test('conversion does not modify its input', () => {
    const copy = structuredClone(fullV2);
    hpaV2ToV1(fullV2);
    assert.deepEqual(fullV2, copy);
  });
});

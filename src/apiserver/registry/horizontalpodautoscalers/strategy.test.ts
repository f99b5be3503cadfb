import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import { Strategy } from './strategy.js';

const hpa = (spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'h', namespace: 'ns' },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5, ...spec },
});
const defaulted = (spec: Record<string, unknown>): KubeObject => {
  const o = hpa(spec);
  Strategy.defaults!(o);
  return o;
};
const summary = (errs: { type: string; field: string; detail?: string }[]) => errs.map((e) => `${e.type} ${e.field}: ${e.detail ?? ''}`);
const cpuTarget = (t: Record<string, unknown>) => ({ type: 'Resource', resource: { name: 'cpu', target: t } });

describe('horizontalpodautoscalers strategy', () => {
  test('defaults minReplicas and the 80% CPU metric', () => {
    const o = defaulted({});
    assert.deepEqual(o.spec, {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      maxReplicas: 5,
      minReplicas: 1,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
    });
    assert.deepEqual(Strategy.validate(o), []);
  });

  test('fills behavior rules like upstream, leaving scale-down stabilization unset', () => {
    const o = defaulted({ behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } });
    assert.deepEqual((o.spec as { behavior: unknown }).behavior, {
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Max',
        policies: [
          { type: 'Pods', value: 4, periodSeconds: 15 },
          { type: 'Percent', value: 100, periodSeconds: 15 },
        ],
      },
      scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    });
    const empty = defaulted({ behavior: {} });
    assert.equal((empty.spec as { behavior: { scaleDown: Record<string, unknown> } }).behavior.scaleDown.stabilizationWindowSeconds, undefined);
  });

  test('replica bounds and scale target (upstream cases)', () => {
    assert.deepEqual(summary(Strategy.validate(defaulted({ minReplicas: -1 }))), ['FieldValueInvalid spec.minReplicas: must be greater than or equal to 1']);
    assert.deepEqual(summary(Strategy.validate(defaulted({ maxReplicas: 0, minReplicas: 1 }))), [
      'FieldValueInvalid spec.maxReplicas: must be greater than 0',
      'FieldValueInvalid spec.maxReplicas: must be greater than or equal to `minReplicas`',
    ]);
    assert.deepEqual(summary(Strategy.validate(defaulted({ scaleTargetRef: { name: 'x' } }))), ['FieldValueRequired spec.scaleTargetRef.kind: ']);
    assert.deepEqual(summary(Strategy.validate(defaulted({ scaleTargetRef: { kind: 'Deployment', name: 'a/b' } }))), [
      "FieldValueInvalid spec.scaleTargetRef.name: may not contain '/'",
    ]);
  });

  test('metric sources (upstream cases)', () => {
    const v = (metrics: unknown[]) => summary(Strategy.validate(defaulted({ metrics })));
    assert.deepEqual(v([cpuTarget({ type: 'Utilization', averageUtilization: 70 }), { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '100' } } }]), []);
    assert.deepEqual(v([cpuTarget({ type: 'Utilization', averageUtilization: -10 })]), ['FieldValueInvalid spec.metrics[0].resource.target.averageUtilization: must be greater than 0']);
    assert.deepEqual(v([cpuTarget({ type: 'Utilization' })]), [
      'FieldValueRequired spec.metrics[0].resource.target.averageUtilization: must set either a target raw value or a target utilization',
    ]);
    assert.deepEqual(v([cpuTarget({ type: 'Utilization', averageUtilization: 70, averageValue: '100m' })]), [
      'FieldValueForbidden spec.metrics[0].resource.target.averageValue: may not set both a target raw value and a target utilization',
    ]);
    assert.deepEqual(v([{ type: 'Resource', resource: { target: { type: 'Utilization', averageUtilization: 70 } } }]), [
      'FieldValueRequired spec.metrics[0].resource.name: must specify a resource name',
    ]);
    assert.deepEqual(v([{ type: 'Pods', pods: { metric: {}, target: { type: 'AverageValue', averageValue: '-1' } } }]), [
      'FieldValueRequired spec.metrics[0].pods.metric.name: must specify a metric name',
      'FieldValueInvalid spec.metrics[0].pods.target.averageValue: must be positive',
    ]);
    assert.deepEqual(v([{ type: 'Object', object: { describedObject: { kind: 'Ingress', name: 'i' }, metric: { name: 'rps' }, target: { type: 'Value' } } }]), [
      'FieldValueRequired spec.metrics[0].object.target.averageValue: must set either a target value or averageValue',
    ]);
    assert.deepEqual(v([{ type: 'External', external: { metric: { name: 'q' }, target: { type: 'Value', value: '1', averageValue: '2' } } }]), [
      'FieldValueForbidden spec.metrics[0].external.target.value: may not set both a target value for metric and a per-pod target',
    ]);
    assert.deepEqual(v([{ type: 'Pods', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 5 } } }]), [
      'FieldValueRequired spec.metrics[0].pods: must populate information for the given metric source',
    ]);
    assert.deepEqual(
      v([{ type: 'Pods', pods: { metric: { name: 'q' }, target: { type: 'AverageValue', averageValue: '1' } }, resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 5 } } }]),
      ['FieldValueForbidden spec.metrics[0].resource: must populate the given metric source only'],
    );
    const unsupported = 'FieldValueNotSupported spec.metrics[0].type: supported values: "ContainerResource", "External", "Object", "Pods", "Resource"';
    assert.deepEqual(v([{ type: 'Bogus' }]), [unsupported, unsupported]);
    assert.deepEqual(v([{}]), ['FieldValueRequired spec.metrics[0].type: must specify a metric source type', unsupported, unsupported]);
    assert.deepEqual(v([{ type: 'ContainerResource', containerResource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 5 } } }]), [
      'FieldValueRequired spec.metrics[0].containerResource.container: must specify a container',
    ]);
    assert.deepEqual(v([cpuTarget({ type: 'Bad', averageUtilization: 5 })]), [
      'FieldValueInvalid spec.metrics[0].resource.target.type: must be either Utilization, Value, or AverageValue',
    ]);
  });

  test('behavior rules (upstream cases)', () => {
    const v = (behavior: unknown) => summary(Strategy.validate(defaulted({ behavior })));
    assert.deepEqual(v({ scaleUp: { stabilizationWindowSeconds: 3601, policies: [{ type: 'Pods', value: 1, periodSeconds: 1 }] } }), [
      'FieldValueInvalid spec.behavior.scaleUp.stabilizationWindowSeconds: must be less than or equal to 3600',
    ]);
    assert.deepEqual(v({ scaleDown: { stabilizationWindowSeconds: -1, selectPolicy: 'Avg', policies: [{ type: 'Bad', value: 0, periodSeconds: 1801 }] } }), [
      'FieldValueInvalid spec.behavior.scaleDown.stabilizationWindowSeconds: must be greater than or equal to zero',
      'FieldValueNotSupported spec.behavior.scaleDown.selectPolicy: supported values: "Disabled", "Max", "Min"',
      'FieldValueNotSupported spec.behavior.scaleDown.policies[0].type: supported values: "Percent", "Pods"',
      'FieldValueInvalid spec.behavior.scaleDown.policies[0].value: must be greater than zero',
      'FieldValueInvalid spec.behavior.scaleDown.policies[0].periodSeconds: must be less than or equal to 1800',
    ]);
    assert.deepEqual(v({ scaleUp: { policies: [] } }), ['FieldValueRequired spec.behavior.scaleUp.policies: must specify at least one Policy']);
  });

  test('status replicas must be non-negative', () => {
    const o = defaulted({});
    o.status = { currentReplicas: -1, desiredReplicas: 2 };
    assert.deepEqual(summary(Strategy.validateStatusUpdate!(o, o)), ['FieldValueInvalid status.currentReplicas: must be greater than or equal to 0']);
  });
});

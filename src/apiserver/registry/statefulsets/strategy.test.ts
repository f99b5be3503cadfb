import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { Strategy } from './strategy.js';

type Json = Record<string, unknown>;
const brief = (errs: FieldError[]): string[] => errs.map((e) => `${e.type} ${e.field}`);

function sts(spec: Json = {}): KubeObject {
  const o: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: 'default' },
    spec: {
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'postgres:16' }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      ...spec,
    },
  };
  Strategy.defaults!(o);
  return o;
}
const spec = (o: KubeObject): Json => o.spec as Json;

describe('statefulsets', () => {
  test('defaults', () => {
    const s = spec(sts());
    assert.equal(s.podManagementPolicy, 'OrderedReady');
    assert.deepEqual(s.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
    assert.deepEqual(s.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
    assert.equal(s.replicas, 1);
    assert.equal(s.revisionHistoryLimit, 10);
    const claim = (s.volumeClaimTemplates as Json[])[0];
    assert.equal((claim.spec as Json).volumeMode, 'Filesystem');
    assert.deepEqual(claim.status, { phase: 'Pending' });
    assert.deepEqual(spec(sts({ updateStrategy: { type: 'OnDelete' } })).updateStrategy, { type: 'OnDelete' });
  });

  test('valid', () => assert.deepEqual(Strategy.validate(sts()), []));

  test('names are DNS labels; the template pod spec is left to pod creation, its labels are checked', () => {
    assert.deepEqual(Strategy.validateName!('db'), []);
    assert.equal(Strategy.validateName!('db.v1').length, 1);
    const o = sts();
    ((spec(o).template as Json).spec as Json).containers = [];
    assert.deepEqual(Strategy.validate(o), []);
    ((spec(o).template as Json).metadata as Json).labels = { app: 'db', 'bad key': 'x' };
    assert.deepEqual(brief(Strategy.validate(o)), ['FieldValueInvalid spec.template.labels']);
  });

  test('invalid fields', () => {
    assert.deepEqual(brief(Strategy.validate(sts({ podManagementPolicy: 'Whatever' }))), ['FieldValueInvalid spec.podManagementPolicy']);
    assert.deepEqual(
      brief(Strategy.validate(sts({ updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } } }))),
      ['FieldValueInvalid spec.updateStrategy.rollingUpdate'],
    );
    assert.deepEqual(
      brief(Strategy.validate(sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: -1 } } }))),
      ['FieldValueInvalid spec.updateStrategy.rollingUpdate.partition'],
    );
    assert.deepEqual(
      brief(Strategy.validate(sts({ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Keep', whenScaled: 'Retain' } }))),
      ['FieldValueNotSupported spec.persistentVolumeClaimRetentionPolicy.whenDeleted'],
    );
    assert.deepEqual(brief(Strategy.validate(sts({ selector: {} }))), ['FieldValueInvalid spec.selector']);
  });

  test('only some spec fields may change, with upstream message', () => {
    const old = sts();
    const scaled = sts({ replicas: 3, updateStrategy: { type: 'OnDelete' }, minReadySeconds: 5 });
    assert.deepEqual(Strategy.validateUpdate!(scaled, old), []);
    const renamed = sts({ serviceName: 'other' });
    const errs = Strategy.validateUpdate!(renamed, old);
    assert.deepEqual(brief(errs), ['FieldValueForbidden spec']);
    assert.equal(
      errs[0].detail,
      "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    );
  });
});

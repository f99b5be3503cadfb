import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../api/object.js';
import type { FieldError } from '../../../machinery/errors.js';
import { Strategy } from './strategy.js';

const brief = (errs: FieldError[]): string[] => errs.map((e) => `${e.type} ${e.field}`);
function endpoints(subsets: unknown[]): KubeObject {
  const o: KubeObject = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default' }, subsets };
  Strategy.defaults!(o);
  return o;
}

describe('endpoints', () => {
  test('ports default to TCP; loopback pod addresses are accepted', () => {
    const o = endpoints([{ addresses: [{ ip: '127.0.0.5', nodeName: 'n1' }], ports: [{ port: 80 }] }]);
    assert.deepEqual(o.subsets, [{ addresses: [{ ip: '127.0.0.5', nodeName: 'n1' }], ports: [{ port: 80, protocol: 'TCP' }] }]);
    assert.deepEqual(Strategy.validate(o), []);
  });
  test('invalid subsets', () => {
    assert.deepEqual(brief(Strategy.validate(endpoints([{ ports: [{ port: 80 }] }]))), ['FieldValueRequired subsets[0]']);
    assert.deepEqual(brief(Strategy.validate(endpoints([{ addresses: [{ ip: 'nope' }] }]))), ['FieldValueInvalid subsets[0].addresses[0].ip']);
    assert.deepEqual(brief(Strategy.validate(endpoints([{ addresses: [{ ip: '169.254.1.1' }] }]))), ['FieldValueInvalid subsets[0].addresses[0].ip']);
    assert.deepEqual(brief(Strategy.validate(endpoints([{ addresses: [{ ip: '127.0.0.2' }], ports: [{ port: 80 }, { port: 81, name: 'b' }] }]))), [
      'FieldValueRequired subsets[0].ports[0].name',
    ]);
  });
});

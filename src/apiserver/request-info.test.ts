import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { parseRequestInfo, isLongRunning, requestInfoOf, requestSlot, searchParamsOf, setRequestInfo } from './request-info.js';

function pick(method: string, url: string) {
  const i = parseRequestInfo(method, url);
  return {
    res: i.isResourceRequest,
    verb: i.verb,
    group: i.apiGroup,
    version: i.apiVersion,
    ns: i.namespace,
    resource: i.resource,
    sub: i.subresource,
    name: i.name,
  };
}

describe('parseRequestInfo', () => {
  const cases: [string, string, ReturnType<typeof pick>][] = [
    ['GET', '/api/v1/namespaces/default/pods', { res: true, verb: 'list', group: '', version: 'v1', ns: 'default', resource: 'pods', sub: '', name: '' }],
    ['GET', '/api/v1/namespaces/default/pods?watch=true&resourceVersion=5', { res: true, verb: 'watch', group: '', version: 'v1', ns: 'default', resource: 'pods', sub: '', name: '' }],
    ['GET', '/api/v1/watch/namespaces/default/pods', { res: true, verb: 'watch', group: '', version: 'v1', ns: 'default', resource: 'pods', sub: '', name: '' }],
    ['GET', '/api/v1/namespaces/default/pods/web-0', { res: true, verb: 'get', group: '', version: 'v1', ns: 'default', resource: 'pods', sub: '', name: 'web-0' }],
    ['GET', '/api/v1/namespaces/default/pods/web-0/log?follow=true', { res: true, verb: 'get', group: '', version: 'v1', ns: 'default', resource: 'pods', sub: 'log', name: 'web-0' }],
    ['POST', '/apis/apps/v1/namespaces/ns1/deployments', { res: true, verb: 'create', group: 'apps', version: 'v1', ns: 'ns1', resource: 'deployments', sub: '', name: '' }],
    ['PUT', '/apis/apps/v1/namespaces/ns1/deployments/d/status', { res: true, verb: 'update', group: 'apps', version: 'v1', ns: 'ns1', resource: 'deployments', sub: 'status', name: 'd' }],
    ['PATCH', '/apis/apps/v1/namespaces/ns1/deployments/d/scale', { res: true, verb: 'patch', group: 'apps', version: 'v1', ns: 'ns1', resource: 'deployments', sub: 'scale', name: 'd' }],
    ['DELETE', '/api/v1/namespaces/default/configmaps', { res: true, verb: 'deletecollection', group: '', version: 'v1', ns: 'default', resource: 'configmaps', sub: '', name: '' }],
    ['DELETE', '/api/v1/namespaces/default/configmaps/c', { res: true, verb: 'delete', group: '', version: 'v1', ns: 'default', resource: 'configmaps', sub: '', name: 'c' }],
    // Namespaces are cluster-scoped objects whose name sits where a namespace would.
    ['GET', '/api/v1/namespaces', { res: true, verb: 'list', group: '', version: 'v1', ns: '', resource: 'namespaces', sub: '', name: '' }],
    ['GET', '/api/v1/namespaces/kube-system', { res: true, verb: 'get', group: '', version: 'v1', ns: 'kube-system', resource: 'namespaces', sub: '', name: 'kube-system' }],
    ['PUT', '/api/v1/namespaces/x/finalize', { res: true, verb: 'update', group: '', version: 'v1', ns: 'x', resource: 'namespaces', sub: 'finalize', name: 'x' }],
    ['GET', '/api/v1/nodes/n1/status', { res: true, verb: 'get', group: '', version: 'v1', ns: '', resource: 'nodes', sub: 'status', name: 'n1' }],
    ['GET', '/api/v1/pods', { res: true, verb: 'list', group: '', version: 'v1', ns: '', resource: 'pods', sub: '', name: '' }],
    ['GET', '/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dweb-0&watch=1', { res: true, verb: 'watch', group: '', version: 'v1', ns: 'default', resource: 'pods', sub: '', name: 'web-0' }],
  ];
  for (const [method, url, want] of cases) {
    test(`${method} ${url}`, () => assert.deepEqual(pick(method, url), want));
  }

  test('non-resource paths keep the lower-cased method as verb', () => {
    for (const url of ['/version', '/healthz', '/livez/ping', '/api', '/apis', '/apis/apps', '/openapi/v3', '/metrics']) {
      const i = parseRequestInfo('GET', url);
      assert.equal(i.isResourceRequest, false, url);
      assert.equal(i.verb, 'get', url);
      assert.equal(i.path, url);
    }
    assert.equal(parseRequestInfo('POST', '/version').verb, 'post');
  });

  test('group-version discovery documents are not resource requests but keep group and version', () => {
    const i = parseRequestInfo('GET', '/apis/apps/v1');
    assert.equal(i.isResourceRequest, false);
    assert.equal(i.apiGroup, 'apps');
    assert.equal(i.apiVersion, 'v1');
  });

  test('a malformed escape is a non-resource request instead of an exception', () => {
    const i = parseRequestInfo('GET', '/api/v1/namespaces/%E0%A4%A/pods');
    assert.equal(i.isResourceRequest, false);
  });

  test('long-running requests', () => {
    assert.equal(isLongRunning(parseRequestInfo('GET', '/api/v1/pods?watch=true')), true);
    assert.equal(isLongRunning(parseRequestInfo('POST', '/api/v1/namespaces/d/pods/p/exec')), true);
    assert.equal(isLongRunning(parseRequestInfo('GET', '/api/v1/pods')), false);
    assert.equal(isLongRunning(parseRequestInfo('GET', '/livez')), false);
  });
});

test('empty segments are dropped and only escaped segments are decoded; the query is read for collections only', () => {
  const a = parseRequestInfo('GET', '//api//v1/namespaces/a%2Db//pods/web%200/?watch=1');
  assert.deepEqual([a.verb, a.namespace, a.resource, a.name, a.parts], ['get', 'a-b', 'pods', 'web 0', ['pods', 'web 0']]);
  assert.equal(a.path, '//api//v1/namespaces/a%2Db//pods/web%200/');
  const w = parseRequestInfo('GET', '/api/v1/namespaces/a/pods?fieldSelector=metadata.name%3Dx&watch=true');
  assert.deepEqual([w.verb, w.name, w.fieldSelector], ['watch', 'x', 'metadata.name=x']);
  const bad = parseRequestInfo('GET', '/api/v1/namespaces/%zz/pods');
  assert.deepEqual([bad.isResourceRequest, bad.verb, bad.resource], [false, 'get', '']);
  const post = parseRequestInfo('POST', '/api/v1/namespaces/a/pods?fieldManager=m');
  assert.deepEqual([post.verb, post.resource, post.fieldSelector], ['create', 'pods', undefined]);
});

test('searchParamsOf reads the query as new URL(target, base).searchParams does', () => {
  const targets = [
    '/api/v1/pods',
    '/api/v1/pods?',
    '/api/v1/pods?watch=true&resourceVersion=0',
    '/api/v1/namespaces/a/pods?fieldSelector=spec.nodeName%3Dn1&labelSelector=a+in+(x,%20y)',
    '/api/v1/pods?labelSelector=a b&x="q"&y=<z>&z=é&w=%zz&v=%E0%A4%A',
    '/api/v1/pods?a=1#frag?b=2',
    '/api/v1/pods#x?y=1',
    '//api//v1/pods?a=1&a=2&=x&b',
    '/openapi/v3/apis/apps/v1?hash=ABC&timeout=32s',
  ];
  for (const t of targets) {
    assert.deepEqual([...searchParamsOf(t)], [...new URL(t, 'https://skiff.invalid').searchParams], t);
  }
});

test('per-request slots: each request carries its own value, invisible to keys and JSON, one slot apart from another', () => {
  const a = new IncomingMessage(new Socket());
  const b = new IncomingMessage(new Socket());
  a.method = 'GET';
  a.url = '/api/v1/namespaces/ns/pods/x';
  const keysBefore = Object.keys(a);
  const info = parseRequestInfo('POST', '/api/v1/namespaces/ns/pods');
  setRequestInfo(b, info);
  assert.equal(requestInfoOf(b), info);
  // Without a set, the request's own method and URL are parsed once and kept.
  const parsed = requestInfoOf(a);
  assert.equal(parsed.name, 'x');
  assert.equal(requestInfoOf(a), parsed);
  assert.deepEqual(Object.keys(a), keysBefore);
  const one = requestSlot<string>('one');
  const two = requestSlot<string>('one');
  one.set(a, 'first');
  assert.equal(one.get(a), 'first');
  assert.equal(two.get(a), undefined);
  assert.equal(one.get(b), undefined);
  two.set(a, 'second');
  assert.equal(one.get(a), 'first');
  assert.equal(requestInfoOf(a), parsed);
});

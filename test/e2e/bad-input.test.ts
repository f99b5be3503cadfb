// Bad input against the real `skiff server`: each malformed request gets upstream's status code and metav1.Status
// (reason, code, message text), and the server keeps answering /readyz and ordinary requests afterwards.
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request as httpsRequest } from 'node:https';
import { kubeconfigCredentials, startTestServer, type KubeconfigCredentials, type TestServer } from './harness.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

interface StatusBody {
  kind?: string;
  apiVersion?: string;
  status?: string;
  reason?: string;
  code?: number;
  message?: string;
  details?: { name?: string; group?: string; kind?: string; causes?: { reason?: string; message?: string; field?: string }[] };
}

describe('bad input (sqlite)', () => {
  let srv: TestServer;
  let creds: KubeconfigCredentials;

  function call(
    method: string,
    path: string,
    opts: { body?: string | Buffer; contentType?: string; anonymous?: boolean; headers?: Record<string, string>; keepAlive?: boolean } = {},
  ): Promise<Reply> {
    // A server may answer before it read the whole body; on a kept-alive connection it drains the rest instead of
    // closing, so the client can finish writing and read the answer.
    const agent = opts.keepAlive ? new Agent({ keepAlive: true, maxSockets: 1 }) : false;
    return new Promise<Reply>((resolve, reject) => {
      const headers: Record<string, string | number> = { Accept: 'application/json', ...opts.headers };
      if (opts.body !== undefined) {
        headers['Content-Type'] = opts.contentType ?? 'application/json';
        if (!headers['Transfer-Encoding']) headers['Content-Length'] = Buffer.byteLength(opts.body);
      } else if (opts.contentType) {
        headers['Content-Type'] = opts.contentType;
      }
      const req = httpsRequest(
        `${srv.url}${path}`,
        {
          method,
          headers,
          ca: creds.ca,
          ...(opts.anonymous ? {} : { cert: creds.cert, key: creds.key }),
          agent,
          timeout: 10_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(opts.body);
    }).finally(() => {
      if (agent) agent.destroy();
    });
  }

  /** Asserts a Failure Status with the given code, reason and exact message; returns it for further checks. */
  function assertStatus(reply: Reply, code: number, reason: string, message: string | RegExp): StatusBody {
    assert.equal(reply.status, code, reply.text);
    assert.match(String(reply.headers['content-type']), /^application\/json/);
    const s = JSON.parse(reply.text) as StatusBody;
    assert.equal(s.kind, 'Status');
    assert.equal(s.apiVersion, 'v1');
    assert.equal(s.status, 'Failure');
    assert.equal(s.reason, reason);
    assert.equal(s.code, code);
    if (typeof message === 'string') assert.equal(s.message, message);
    else assert.match(s.message ?? '', message);
    return s;
  }

  const configmaps = '/api/v1/namespaces/default/configmaps';
  const deployments = '/apis/apps/v1/namespaces/default/deployments';
  const json = (v: unknown) => JSON.stringify(v);
  const deployment = (name: string, spec: Record<string, unknown> = {}) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      ...spec,
    },
  });

  before(async () => {
    srv = await startTestServer();
    creds = await kubeconfigCredentials(srv.kubeconfig);
    const seed = await call('POST', configmaps, { body: json({ metadata: { name: 'seed' }, data: { a: '1' } }) });
    assert.equal(seed.status, 201, seed.text);
  });
  after(async () => {
    await srv?.stop();
  });
  // Whatever a test sent, the server is still healthy and serves ordinary requests.
  afterEach(async () => {
    if (!srv) return;
    const ready = await call('GET', '/readyz');
    assert.equal(ready.status, 200, srv.logs());
    assert.equal(ready.text, 'ok');
    const seed = await call('GET', `${configmaps}/seed`);
    assert.equal(seed.status, 200, seed.text);
    assert.deepEqual(JSON.parse(seed.text).data, { a: '1' });
  });

  test('malformed JSON is 400 with Go json error text and a summary of the body', async () => {
    const truncated = '{"apiVersion":"v1","kind":';
    assertStatus(
      await call('POST', configmaps, { body: truncated }),
      400,
      'BadRequest',
      `the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: unexpected end of JSON input (${truncated})`,
    );
    // Longer bodies are cut to 30 bytes in the summary.
    const garbled = '{"kind": "ConfigMap", oops: true, "metadata": {}}';
    assertStatus(
      await call('POST', configmaps, { body: garbled }),
      400,
      'BadRequest',
      `the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: invalid character 'o' looking for beginning of object key string (${garbled.slice(0, 30)} ...)`,
    );
    // Nesting deeper than Go's scanner allows is refused without exhausting the server's stack.
    const deep = `{"a":${'['.repeat(200_000)}`;
    assertStatus(
      await call('POST', configmaps, { body: deep }),
      400,
      'BadRequest',
      `the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: invalid character '[' exceeded max depth (${deep.slice(0, 30)} ...)`,
    );
    assertStatus(
      await call('POST', configmaps, { body: '' }),
      400,
      'BadRequest',
      `the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: unexpected end of JSON input (<empty>)`,
    );
  });

  test('malformed YAML is 400 with go-yaml wording and a hex summary', async () => {
    const body = 'kind: ConfigMap\nmetadata: name: x\n';
    assertStatus(
      await call('POST', configmaps, { body, contentType: 'application/yaml' }),
      400,
      'BadRequest',
      `the object provided is unrecognized (must be of type ConfigMap): yaml: line 2: mapping values are not allowed in this context (${Buffer.from(body).subarray(0, 30).toString('hex')} ...)`,
    );
    // Well-formed YAML is accepted on the same endpoint.
    const ok = await call('POST', configmaps, { body: 'metadata:\n  name: from-yaml\ndata:\n  k: v\n', contentType: 'application/yaml' });
    assert.equal(ok.status, 201, ok.text);
  });

  test('a JSON array or a number as body is 400', async () => {
    const typeMeta = 'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }';
    assertStatus(
      await call('POST', configmaps, { body: '[1,2]' }),
      400,
      'BadRequest',
      `the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: json: cannot unmarshal array into Go value of type ${typeMeta} (5b312c325d)`,
    );
    assertStatus(
      await call('POST', configmaps, { body: '42' }),
      400,
      'BadRequest',
      `the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: json: cannot unmarshal number into Go value of type ${typeMeta} (3432)`,
    );
  });

  test('a kind in the body other than the URL names is 400', async () => {
    assertStatus(
      await call('POST', configmaps, { body: json({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'k1' } }) }),
      400,
      'BadRequest',
      'Secret in version "v1" cannot be handled as a ConfigMap: converting (v1.Secret) to (core.ConfigMap): unknown conversion',
    );
    // A kind that does not exist at all (wrong case) is reported as unregistered.
    assertStatus(
      await call('POST', configmaps, { body: json({ apiVersion: 'v1', kind: 'configmap', metadata: { name: 'k2' } }) }),
      400,
      'BadRequest',
      'configmap in version "v1" cannot be handled as a ConfigMap: no kind "configmap" is registered for version "v1" in scheme "pkg/api/legacyscheme/scheme.go:30"',
    );
  });

  test('a wrong apiVersion is 400', async () => {
    assertStatus(
      await call('POST', configmaps, { body: json({ apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'v1' } }) }),
      400,
      'BadRequest',
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: no kind "ConfigMap" is registered for version "apps/v1" in scheme "pkg/api/legacyscheme/scheme.go:30"',
    );
    // Another served version of the same kind decodes, then fails the endpoint's version check.
    const hpa = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h' } };
    assertStatus(
      await call('POST', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers', { body: json(hpa) }),
      400,
      'BadRequest',
      'the API version in the data (autoscaling/v1) does not match the expected API version (autoscaling/v2)',
    );
  });

  test('a namespace in the body other than the URL names is 400', async () => {
    const s = assertStatus(
      await call('POST', configmaps, { body: json({ metadata: { name: 'ns1', namespace: 'kube-system' } }) }),
      400,
      'BadRequest',
      'the namespace of the provided object does not match the namespace sent on the request',
    );
    assert.equal(s.details, undefined);
  });

  test('an invalid name is 422 Invalid with a metadata.name cause', async () => {
    const detail =
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const s = assertStatus(
      await call('POST', configmaps, { body: json({ metadata: { name: 'Bad_Name' } }) }),
      422,
      'Invalid',
      `ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ${detail}`,
    );
    assert.equal(s.details?.name, 'Bad_Name');
    assert.equal(s.details?.kind, 'ConfigMap');
    assert.deepEqual(s.details?.causes, [{ reason: 'FieldValueInvalid', message: `Invalid value: "Bad_Name": ${detail}`, field: 'metadata.name' }]);
  });

  test('a field of the wrong type is 400 from the decoder, with Go type names', async () => {
    assertStatus(
      await call('POST', deployments, { body: json(deployment('three', { replicas: 'three' })) }),
      400,
      'BadRequest',
      'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32',
    );
    const d = deployment('ports');
    (d.spec.template as { spec: { containers: Record<string, unknown>[] } }).spec.containers[0].ports = { containerPort: 80 };
    assertStatus(
      await call('POST', deployments, { body: json(d) }),
      400,
      'BadRequest',
      'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal object into Go struct field Container.spec.template.spec.containers.ports of type []v1.ContainerPort',
    );
    assertStatus(
      await call('POST', configmaps, { body: json({ metadata: { name: 'labels', labels: { a: 5 } } }) }),
      400,
      'BadRequest',
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string',
    );
    assert.equal((await call('GET', `${deployments}/three`)).status, 404);
  });

  test('unknown fields: Strict is 400, Warn creates with a Warning header', async () => {
    assertStatus(
      await call('POST', `${deployments}?fieldValidation=Strict`, { body: json(deployment('strict', { foo: 1 })) }),
      400,
      'BadRequest',
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo"',
    );
    const warned = await call('POST', `${deployments}?fieldValidation=Warn`, { body: json(deployment('warned', { foo: 1 })) });
    assert.equal(warned.status, 201, warned.text);
    assert.equal(warned.headers.warning, '299 - "unknown field \\"spec.foo\\""');
    assert.equal(JSON.parse(warned.text).spec.foo, undefined);
  });

  test('a body over 3 MiB is 413, declared or streamed', async () => {
    const big = json({ metadata: { name: 'big' }, data: { blob: 'x'.repeat(3 * 1024 * 1024) } });
    assertStatus(await call('POST', configmaps, { body: big, keepAlive: true }), 413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    // Without Content-Length the limit applies to what arrives.
    assertStatus(
      await call('POST', configmaps, { body: big, keepAlive: true, headers: { 'Transfer-Encoding': 'chunked' } }),
      413,
      'RequestEntityTooLarge',
      'Request entity too large: limit is 3145728',
    );
    assert.equal((await call('GET', `${configmaps}/big`)).status, 404);
  });

  test('an unknown media type is 415; a protobuf body without a Kubernetes envelope is 400', async () => {
    assertStatus(
      await call('POST', configmaps, { body: Buffer.from('a=b'), contentType: 'application/x-www-form-urlencoded' }),
      415,
      'UnsupportedMediaType',
      'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf',
    );
    assertStatus(
      await call('POST', configmaps, { body: Buffer.from('{"kind":"ConfigMap"}'), contentType: 'application/vnd.kubernetes.protobuf' }),
      400,
      'BadRequest',
      /^the object provided is unrecognized \(must be of type ConfigMap\): provided data does not appear to be a protobuf message/,
    );
    assertStatus(
      await call('POST', configmaps, { body: Buffer.from([0x6b, 0x38, 0x73, 0x00]), contentType: 'application/vnd.kubernetes.protobuf' }),
      400,
      'BadRequest',
      /Object 'Kind' is missing/,
    );
  });

  test('unknown paths are 404 NotFound', async () => {
    for (const path of ['/api/v2', '/apis/nope/v1/things', '/api/v1/namespaces/default/nothings']) {
      const s = assertStatus(await call('GET', path), 404, 'NotFound', 'the server could not find the requested resource');
      assert.deepEqual(s.details, {}, path);
    }
  });

  test('unsupported verbs are 405, an unknown patch type is 415', async () => {
    const s = assertStatus(
      await call('POST', `${configmaps}/seed`, { body: json({ metadata: { name: 'seed' } }) }),
      405,
      'MethodNotAllowed',
      'the server does not allow this method on the requested resource',
    );
    assert.deepEqual(s.details, {});
    assertStatus(
      await call('PATCH', `${configmaps}/seed`, { body: json({ data: { a: '2' } }), contentType: 'text/plain' }),
      415,
      'UnsupportedMediaType',
      '415: Unsupported Media Type',
    );
  });

  test('bad patches: syntax errors are 400, a patch result of the wrong type or with unknown fields (Strict) is 422', async () => {
    const seed = `${configmaps}/seed`;
    assertStatus(
      await call('PATCH', seed, { body: 'not json', contentType: 'application/json-patch+json' }),
      400,
      'BadRequest',
      "invalid character 'o' in literal null (expecting 'u')",
    );
    assertStatus(await call('PATCH', seed, { body: '{"data":', contentType: 'application/merge-patch+json' }), 400, 'BadRequest', 'Invalid JSON Patch');
    assertStatus(
      await call('PATCH', `${seed}?fieldManager=t`, { body: '[1, 2]', contentType: 'application/apply-patch+yaml' }),
      400,
      'BadRequest',
      'error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}',
    );
    const typed = assertStatus(
      await call('PATCH', seed, { body: json({ data: { a: 5 } }), contentType: 'application/merge-patch+json' }),
      422,
      'Invalid',
      /^ "" is invalid: patch: Invalid value: ".*": json: cannot unmarshal number into Go struct field ConfigMap\.data of type string$/,
    );
    assert.equal(typed.details?.causes?.[0].field, 'patch');
    assertStatus(
      await call('PATCH', `${seed}?fieldValidation=Strict`, { body: json({ data: { a: '1' }, spec: {} }), contentType: 'application/merge-patch+json' }),
      422,
      'Invalid',
      /^ "" is invalid: patch: Invalid value: ".*": strict decoding error: unknown field "spec"$/,
    );
  });

  test('bad option values: dryRun and fieldValidation are 422 on CreateOptions, limit is 400, list options 422', async () => {
    const body = json({ metadata: { name: 'opts' } });
    const dry = assertStatus(
      await call('POST', `${configmaps}?dryRun=Bogus`, { body }),
      422,
      'Invalid',
      'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Bogus"}: supported values: "All"',
    );
    assert.equal(dry.details?.group, 'meta.k8s.io');
    assert.equal(dry.details?.kind, 'CreateOptions');
    assert.deepEqual(dry.details?.causes, [
      { reason: 'FieldValueNotSupported', message: 'Unsupported value: []string{"Bogus"}: supported values: "All"', field: 'dryRun' },
    ]);
    assertStatus(
      await call('POST', `${configmaps}?fieldValidation=Bogus`, { body }),
      422,
      'Invalid',
      'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Bogus": supported values: "", "Ignore", "Strict", "Warn"',
    );
    assertStatus(await call('GET', `${configmaps}?limit=abc`), 400, 'BadRequest', 'strconv.ParseInt: parsing "abc": invalid syntax');
    assertStatus(
      await call('GET', `${configmaps}?resourceVersionMatch=Exact&resourceVersion=0`),
      422,
      'Invalid',
      'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
    );
    assert.equal((await call('GET', `${configmaps}/opts`)).status, 404);
  });

  test('an invalid label selector is 400 with the parser message', async () => {
    assertStatus(
      await call('GET', `${configmaps}?labelSelector=${encodeURIComponent('env IN (a)')}`),
      400,
      'BadRequest',
      'unable to parse requirement: found \'IN\', expected: in, notin, =, ==, !=, gt, lt',
    );
  });

  test('a missing object is 404 with name and kind', async () => {
    const s = assertStatus(await call('GET', `${configmaps}/nope`), 404, 'NotFound', 'configmaps "nope" not found');
    assert.deepEqual(s.details, { name: 'nope', kind: 'configmaps' });
    const d = assertStatus(await call('GET', `${deployments}/nope`), 404, 'NotFound', 'deployments.apps "nope" not found');
    assert.deepEqual(d.details, { name: 'nope', group: 'apps', kind: 'deployments' });
  });

  test('creating a duplicate is 409 AlreadyExists', async () => {
    const s = assertStatus(
      await call('POST', configmaps, { body: json({ metadata: { name: 'seed' } }) }),
      409,
      'AlreadyExists',
      'configmaps "seed" already exists',
    );
    assert.deepEqual(s.details, { name: 'seed', kind: 'configmaps' });
  });

  test('a PUT with a stale resourceVersion is 409 Conflict', async () => {
    const created = await call('POST', configmaps, { body: json({ metadata: { name: 'stale' }, data: { v: '1' } }) });
    assert.equal(created.status, 201, created.text);
    const obj = JSON.parse(created.text) as { metadata: { resourceVersion: string }; data: Record<string, string> };
    const first = await call('PUT', `${configmaps}/stale`, { body: json({ ...obj, data: { v: '2' } }) });
    assert.equal(first.status, 200, first.text);
    const s = assertStatus(
      await call('PUT', `${configmaps}/stale`, { body: json({ ...obj, data: { v: '3' } }) }),
      409,
      'Conflict',
      'Operation cannot be fulfilled on configmaps "stale": the object has been modified; please apply your changes to the latest version and try again',
    );
    assert.deepEqual(s.details, { name: 'stale', kind: 'configmaps' });
    assert.deepEqual(JSON.parse((await call('GET', `${configmaps}/stale`)).text).data, { v: '2' });
  });

  test('a watch with a malformed resourceVersion is 400', async () => {
    // Upstream answers 500 here (kubernetes/kubernetes#139485); skiff treats it as the client error it is.
    const s = assertStatus(await call('GET', `${configmaps}?watch=true&resourceVersion=abc`), 400, 'BadRequest', /"abc"/);
    assert.equal(s.code, 400);
  });

  test('without a client certificate /api is 401 and /livez is 200', async () => {
    assertStatus(await call('GET', '/api', { anonymous: true }), 401, 'Unauthorized', 'Unauthorized');
    const live = await call('GET', '/livez', { anonymous: true });
    assert.equal(live.status, 200);
    assert.equal(live.text, 'ok');
  });
});

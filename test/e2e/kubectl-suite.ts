// The kubectl conformance suite of the foundation issue: the real kubectl against a real `skiff server` over HTTPS.
// Registered once per datastore (SQLite and etcd) by the *.test.ts files beside it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { startTestServer, type TestServer, waitForServiceAccount } from './harness.js';

export function kubectlSuite(datastore: 'sqlite' | 'etcd'): void {
  describe(`kubectl against skiff (${datastore})`, () => {
    let server: TestServer;
    const ns = 'e2e';

    /** Runs kubectl and insists on success, returning stdout. */
    async function k(args: string[], stdin?: string): Promise<string> {
      const r = await server.kubectl(args, { stdin });
      assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
      return r.stdout;
    }
    /** Runs kubectl expecting failure, returning stderr. */
    async function kFail(args: string[], stdin?: string): Promise<string> {
      const r = await server.kubectl(args, { stdin });
      assert.notEqual(r.code, 0, `kubectl ${args.join(' ')} unexpectedly succeeded:\n${r.stdout}`);
      return r.stderr;
    }

    before(async () => {
      server = await startTestServer({ datastore });
      await k(['create', 'namespace', ns]);
      await waitForServiceAccount(server, ns);
    });
    after(async () => {
      await server?.stop();
    });

    test('version reports the server', async () => {
      const out = JSON.parse(await k(['version', '-o', 'json']));
      assert.equal(out.serverVersion.major, '1');
      assert.equal(out.serverVersion.minor, '31');
    });

    test('create, get, describe a ConfigMap', async () => {
      await k(['-n', ns, 'create', 'configmap', 'cm1', '--from-literal=a=1', '--from-literal=b=2']);
      const got = JSON.parse(await k(['-n', ns, 'get', 'configmap', 'cm1', '-o', 'json', '--show-managed-fields']));
      assert.deepEqual(got.data, { a: '1', b: '2' });
      assert.ok(got.metadata.uid);
      assert.ok(got.metadata.managedFields?.some((f: { manager: string }) => f.manager === 'kubectl-create'));
      const table = await k(['-n', ns, 'get', 'configmaps']);
      assert.match(table, /^NAME\s+DATA\s+AGE\n/);
      assert.match(table, /\ncm1\s+2\s+\d+s\n/);
      const described = await k(['-n', ns, 'describe', 'configmap', 'cm1']);
      assert.match(described, /Name:\s+cm1/);
      assert.match(described, /Namespace:\s+e2e/);
    });

    test('apply twice: created, configured, unchanged', async () => {
      const manifest = (replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: busybox:1.36
        ports:
        - containerPort: 80
`;
      assert.match(await k(['apply', '-f', '-'], manifest(1)), /deployment.apps\/web created/);
      assert.match(await k(['apply', '-f', '-'], manifest(2)), /deployment.apps\/web configured/);
      assert.match(await k(['apply', '-f', '-'], manifest(2)), /deployment.apps\/web unchanged/);
      const d = JSON.parse(await k(['-n', ns, 'get', 'deploy', 'web', '-o', 'json']));
      assert.equal(d.spec.replicas, 2);
      assert.equal(d.metadata.generation, 2);
      assert.equal(d.spec.strategy.type, 'RollingUpdate', 'defaults are filled in');
      assert.equal(d.spec.template.spec.containers[0].imagePullPolicy, 'IfNotPresent');
      const wide = await k(['-n', ns, 'get', 'deploy', 'web', '-o', 'wide']);
      assert.match(wide, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\n/);
      // No node runs pods here: the Deployment controller makes them (UP-TO-DATE 0 or 2 by then) but none become ready.
      assert.match(wide, /\nweb\s+0\/2\s+[02]\s+0\s+\S+\s+web\s+busybox:1.36\s+app=web\n/);
    });

    test('server-side apply: conflicts with another manager, then --force-conflicts', async () => {
      const cm = (value: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ssa
  namespace: ${ns}
data:
  key: "${value}"
`;
      assert.match(await k(['apply', '--server-side', '-f', '-'], cm('one')), /configmap\/ssa serverside-applied/);
      const err = await kFail(['apply', '--server-side', '--field-manager', 'other', '-f', '-'], cm('two'));
      assert.match(err, /conflict with "kubectl"/);
      assert.match(err, /\.data\.key/);
      assert.match(await k(['apply', '--server-side', '--field-manager', 'other', '--force-conflicts', '-f', '-'], cm('two')), /serverside-applied/);
      const got = JSON.parse(await k(['-n', ns, 'get', 'cm', 'ssa', '-o', 'json', '--show-managed-fields']));
      assert.equal(got.data.key, 'two');
      const managers = got.metadata.managedFields.map((f: { manager: string; operation: string }) => `${f.manager}/${f.operation}`);
      assert.ok(managers.includes('other/Apply'), managers.join(','));
    });

    test('patch: json, merge and strategic', async () => {
      await k(['-n', ns, 'create', 'deployment', 'patchme', '--image=busybox:1.36']);
      await k(['-n', ns, 'patch', 'deploy', 'patchme', '--type=json', '-p', '[{"op":"replace","path":"/spec/replicas","value":3}]']);
      await k(['-n', ns, 'patch', 'deploy', 'patchme', '--type=merge', '-p', '{"metadata":{"labels":{"tier":"web"}}}']);
      await k([
        '-n',
        ns,
        'patch',
        'deploy',
        'patchme',
        '--type=strategic',
        '-p',
        '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.36"}]}}}}',
      ]);
      const d = JSON.parse(await k(['-n', ns, 'get', 'deploy', 'patchme', '-o', 'json']));
      assert.equal(d.spec.replicas, 3);
      assert.equal(d.metadata.labels.tier, 'web');
      assert.deepEqual(
        d.spec.template.spec.containers.map((c: { name: string }) => c.name).sort(),
        ['busybox', 'sidecar'],
        'strategic merge keeps the existing container and adds the new one by name',
      );
      const bad = await kFail(['-n', ns, 'patch', 'deploy', 'patchme', '--type=json', '-p', '[{"op":"test","path":"/spec/replicas","value":99}]']);
      assert.match(bad, /test operation failed|testing value/i);
    });

    test('label and annotate', async () => {
      await k(['-n', ns, 'label', 'configmap', 'cm1', 'color=blue']);
      await k(['-n', ns, 'annotate', 'configmap', 'cm1', 'note=hello']);
      const got = JSON.parse(await k(['-n', ns, 'get', 'cm', 'cm1', '-o', 'json']));
      assert.equal(got.metadata.labels.color, 'blue');
      assert.equal(got.metadata.annotations.note, 'hello');
      const err = await kFail(['-n', ns, 'label', 'configmap', 'cm1', 'color=red']);
      assert.match(err, /already has a value \(blue\)/);
      await k(['-n', ns, 'label', 'configmap', 'cm1', 'color-']);
      const after = JSON.parse(await k(['-n', ns, 'get', 'cm', 'cm1', '-o', 'json']));
      assert.equal(after.metadata.labels?.color, undefined);
    });

    test('replace with a stale resourceVersion is a 409 conflict', async () => {
      const got = JSON.parse(await k(['-n', ns, 'get', 'cm', 'cm1', '-o', 'json']));
      await k(['-n', ns, 'label', 'configmap', 'cm1', 'bump=1']);
      got.data.a = 'changed';
      const err = await kFail(['replace', '-f', '-'], JSON.stringify(got));
      assert.match(err, /the object has been modified; please apply your changes to the latest version and try again/);
    });

    test('delete waits for finalizers', async () => {
      await k(['apply', '-f', '-'], JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'held', namespace: ns, finalizers: ['example.com/hold'] },
      }));
      await k(['-n', ns, 'delete', 'cm', 'held', '--wait=false']);
      const got = JSON.parse(await k(['-n', ns, 'get', 'cm', 'held', '-o', 'json']));
      assert.ok(got.metadata.deletionTimestamp, 'marked for deletion');
      await k(['-n', ns, 'patch', 'cm', 'held', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
      const gone = await kFail(['-n', ns, 'get', 'cm', 'held']);
      assert.match(gone, /NotFound|not found/);
    });

    test('get -w streams changes', async () => {
      const watcher = spawn('kubectl', ['--kubeconfig', server.kubeconfig, '-n', ns, 'get', 'configmaps', '-w', '--output-watch-events'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      watcher.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const waitFor = async (re: RegExp) => {
        for (let i = 0; i < 100 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 100));
        assert.match(out, re);
      };
      try {
        await waitFor(/ADDED\s+cm1/);
        const metrics = await k(['get', '--raw', '/metrics']);
        assert.match(metrics, /apiserver_registered_watchers\{group="",resource="configmaps"\} [1-9]/);
        assert.match(metrics, /apiserver_request_total\{[^}]*verb="LIST"[^}]*resource="configmaps"/);
        await k(['-n', ns, 'create', 'configmap', 'watched']);
        await waitFor(/ADDED\s+watched/);
        await k(['-n', ns, 'label', 'configmap', 'watched', 'x=y']);
        await waitFor(/MODIFIED\s+watched/);
        await k(['-n', ns, 'delete', 'configmap', 'watched']);
        await waitFor(/DELETED\s+watched/);
      } finally {
        watcher.kill();
      }
    });

    test('explain and api-resources', async () => {
      const explained = await k(['explain', 'deployment.spec.replicas']);
      assert.match(explained, /GROUP:\s+apps/);
      assert.match(explained, /replicas\s+<integer>/);
      const resources = await k(['api-resources']);
      assert.match(resources, /^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND\n/);
      assert.match(resources, /\ndeployments\s+deploy\s+apps\/v1\s+true\s+Deployment\n/);
      assert.match(resources, /\nnamespaces\s+ns\s+v1\s+false\s+Namespace\n/);
    });

    test('output formats: json, yaml, jsonpath', async () => {
      const yaml = await k(['-n', ns, 'get', 'cm', 'cm1', '-o', 'yaml']);
      assert.match(yaml, /^apiVersion: v1\n/);
      assert.match(yaml, /\nkind: ConfigMap\n/);
      assert.equal(await k(['-n', ns, 'get', 'cm', 'cm1', '-o', 'jsonpath={.data.a}']), '1');
      const list = JSON.parse(await k(['-n', ns, 'get', 'cm', '-o', 'json']));
      assert.equal(list.kind, 'List');
      assert.ok(list.items.length >= 2);
    });

    test('--chunk-size pages through a long list', async () => {
      for (let i = 0; i < 12; i++) await k(['-n', ns, 'create', 'configmap', `page-${String(i).padStart(2, '0')}`]);
      const names = (await k(['-n', ns, 'get', 'cm', '--chunk-size=5', '-o', 'name'])).trim().split('\n');
      for (let i = 0; i < 12; i++) assert.ok(names.includes(`configmap/page-${String(i).padStart(2, '0')}`));
      const verbose = await server.kubectl(['-n', ns, 'get', 'cm', '--chunk-size=5', '-v=6']);
      assert.match(verbose.stderr, /limit=5/);
      assert.match(verbose.stderr, /continue=/);
    });

    test('--dry-run=server validates and stores nothing', async () => {
      const out = await k(['-n', ns, 'create', 'configmap', 'dry', '--from-literal=x=1', '--dry-run=server', '-o', 'json']);
      assert.equal(JSON.parse(out).metadata.name, 'dry');
      await kFail(['-n', ns, 'get', 'cm', 'dry']);
      const invalid = await kFail(['-n', ns, 'create', 'configmap', 'Bad_Name', '--dry-run=server']);
      assert.match(invalid, /is invalid/);
    });

    test('label and field selectors', async () => {
      await k(['-n', ns, 'label', 'configmap', 'page-00', 'sel=yes']);
      await k(['-n', ns, 'label', 'configmap', 'page-01', 'sel=no']);
      assert.equal((await k(['-n', ns, 'get', 'cm', '-l', 'sel=yes', '-o', 'name'])).trim(), 'configmap/page-00');
      assert.equal((await k(['-n', ns, 'get', 'cm', '-l', 'sel in (yes,no)', '-o', 'name'])).trim().split('\n').length, 2);
      assert.equal((await k(['-n', ns, 'get', 'cm', '-l', '!sel', '-o', 'name'])).includes('configmap/page-00'), false);
      assert.equal((await k(['-n', ns, 'get', 'cm', '--field-selector', 'metadata.name=page-02', '-o', 'name'])).trim(), 'configmap/page-02');
      const bad = await kFail(['-n', ns, 'get', 'cm', '--field-selector', 'spec.nope=1']);
      assert.match(bad, /field label not supported: spec.nope/);
      const pods = await k(['get', 'pods', '-A', '--field-selector', 'status.phase=Running', '-o', 'name']);
      assert.equal(pods.trim(), '');
    });

    test('creating in a missing namespace is 404; system namespaces exist', async () => {
      const err = await kFail(['-n', 'does-not-exist', 'create', 'configmap', 'x']);
      assert.match(err, /namespaces "does-not-exist" not found/);
      const nsList = await k(['get', 'namespaces', '-o', 'name']);
      for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) assert.match(nsList, new RegExp(`namespace/${n}\\n`));
      const svc = JSON.parse(await k(['-n', 'default', 'get', 'service', 'kubernetes', '-o', 'json']));
      assert.equal(svc.spec.clusterIP, '198.19.0.1');
    });

    test('services get a ClusterIP from the service CIDR', async () => {
      await k(['-n', ns, 'create', 'service', 'clusterip', 'svc1', '--tcp=80:8080']);
      const svc = JSON.parse(await k(['-n', ns, 'get', 'svc', 'svc1', '-o', 'json']));
      assert.match(svc.spec.clusterIP, /^198\.19\.\d+\.\d+$/);
      assert.deepEqual(svc.spec.clusterIPs, [svc.spec.clusterIP]);
      const out = await k(['-n', ns, 'get', 'svc', 'svc1']);
      assert.match(out, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\n/);
      assert.match(out, /svc1\s+ClusterIP\s+198\.19\.\S+\s+<none>\s+80\/TCP\s+/);
    });

    test('deletecollection by label selector', async () => {
      for (const n of ['dc-1', 'dc-2', 'dc-keep']) await k(['-n', ns, 'create', 'configmap', n]);
      await k(['-n', ns, 'label', 'configmap', 'dc-1', 'dc-2', 'batch=old']);
      const out = JSON.parse(await k(['delete', '--raw', `/api/v1/namespaces/${ns}/configmaps?labelSelector=batch%3Dold`]));
      assert.equal(out.kind, 'ConfigMapList');
      assert.deepEqual(out.items.map((i: { metadata: { name: string } }) => i.metadata.name).sort(), ['dc-1', 'dc-2']);
      const left = await k(['-n', ns, 'get', 'cm', '-o', 'name']);
      assert.ok(!left.includes('configmap/dc-1') && left.includes('configmap/dc-keep'));
    });

    test('pods, jobs and events get upstream defaults and columns', async () => {
      await k(['-n', ns, 'run', 'solo', '--image=busybox:1.36', '--restart=Never', '--', 'sleep', '3600']);
      const pod = JSON.parse(await k(['-n', ns, 'get', 'pod', 'solo', '-o', 'json']));
      assert.equal(pod.status.phase, 'Pending');
      assert.equal(pod.spec.dnsPolicy, 'ClusterFirst');
      assert.equal(pod.spec.terminationGracePeriodSeconds, 30);
      assert.equal(pod.status.qosClass, 'BestEffort');
      // Named: the Deployments of earlier tests have pods in this namespace too.
      assert.match(await k(['-n', ns, 'get', 'pods', 'solo']), /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nsolo\s+0\/1\s+Pending\s+0\s+\S+\n$/);
      const immutable = await kFail(['-n', ns, 'patch', 'pod', 'solo', '--type=merge', '-p', '{"spec":{"restartPolicy":"Always"}}']);
      assert.match(immutable, /Forbidden: pod updates may not change fields other than/);
      await k(['-n', ns, 'create', 'job', 'once', '--image=busybox:1.36', '--', 'true']);
      const job = JSON.parse(await k(['-n', ns, 'get', 'job', 'once', '-o', 'json']));
      assert.ok(job.spec.selector.matchLabels['batch.kubernetes.io/controller-uid'], 'job selector is generated');
      assert.equal(job.spec.backoffLimit, 6);
      await k(['create', '-f', '-'], JSON.stringify({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'solo.1', namespace: ns },
        involvedObject: { kind: 'Pod', name: 'solo', namespace: ns, uid: pod.metadata.uid },
        reason: 'Testing',
        message: 'hello from the test',
        type: 'Normal',
        source: { component: 'e2e' },
        count: 1,
        firstTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        lastTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      }));
      assert.match(await k(['-n', ns, 'get', 'events']), /Normal\s+Testing\s+pod\/solo\s+hello from the test/);
      assert.match(await k(['-n', ns, 'describe', 'pod', 'solo']), /Normal\s+Testing\s+\S+\s+e2e\s+hello from the test/);
      assert.match(await k(['-n', ns, 'get', 'events.v1.events.k8s.io', '-o', 'name']), /event.events.k8s.io\/solo.1/);
    });

    test('a terminating namespace refuses new content', async () => {
      await k(['create', 'namespace', 'doomed']);
      // A finalizer on its content keeps the namespace Terminating while the namespace controller runs.
      await k(['-n', 'doomed', 'create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inside', finalizers: ['example.com/hold'] } }));
      await k(['delete', 'namespace', 'doomed', '--wait=false']);
      const nsObj = JSON.parse(await k(['get', 'namespace', 'doomed', '-o', 'json']));
      assert.equal(nsObj.status.phase, 'Terminating');
      const err = await kFail(['-n', 'doomed', 'create', 'configmap', 'late']);
      assert.match(err, /unable to create new content in namespace doomed because it is being terminated/);
      const sys = await kFail(['delete', 'namespace', 'kube-system', '--wait=false']);
      assert.match(sys, /this namespace may not be deleted/);
      await k(['-n', 'doomed', 'patch', 'configmap', 'inside', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    });

    test('certificate signing requests: requester recorded, approve through the approval subresource', async () => {
      const csrPem = execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=alice'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      await k(['create', '-f', '-'], JSON.stringify({
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        metadata: { name: 'alice' },
        spec: { request: Buffer.from(csrPem).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'] },
      }));
      const created = JSON.parse(await k(['get', 'csr', 'alice', '-o', 'json']));
      assert.equal(created.spec.username, 'system:admin', 'the requester comes from the client certificate');
      assert.match(await k(['certificate', 'approve', 'alice']), /certificatesigningrequest.certificates.k8s.io\/alice approved/);
      const approved = JSON.parse(await k(['get', 'csr', 'alice', '-o', 'json']));
      assert.equal(approved.status.conditions[0].type, 'Approved');
      assert.match(await k(['get', 'csr', 'alice']), /alice\s+\S+\s+kubernetes.io\/kube-apiserver-client\s+system:admin\s+<none>\s+Approved\n/);
    });

    test('status, binding and eviction subresources', async () => {
      await k(['-n', ns, 'run', 'bound', '--image=busybox:1.36', '--labels=app=bound', '--', 'sleep', '3600']);
      // Status writes go through /status only; spec changes there are ignored.
      await k(['-n', ns, 'patch', 'pod', 'bound', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running"},"spec":{"activeDeadlineSeconds":5}}']);
      const running = JSON.parse(await k(['-n', ns, 'get', 'pod', 'bound', '-o', 'json']));
      assert.equal(running.status.phase, 'Running');
      assert.equal(running.spec.activeDeadlineSeconds, undefined);
      const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-a' } };
      await k(['create', '--raw', `/api/v1/namespaces/${ns}/pods/bound/binding`, '-f', '-'], JSON.stringify(binding));
      const bound = JSON.parse(await k(['-n', ns, 'get', 'pod', 'bound', '-o', 'json']));
      assert.equal(bound.spec.nodeName, 'node-a');
      assert.ok(bound.status.conditions.some((c: { type: string; status: string }) => c.type === 'PodScheduled' && c.status === 'True'));
      const again = await kFail(['create', '--raw', `/api/v1/namespaces/${ns}/pods/bound/binding`, '-f', '-'], JSON.stringify(binding));
      assert.match(again, /pod bound is already assigned to node "node-a"/);
      // A budget with no disruptions allowed blocks eviction with 429.
      await k(['-n', ns, 'create', 'poddisruptionbudget', 'keep', '--selector=app=bound', '--min-available=1']);
      const eviction = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'bound', namespace: ns } };
      const blocked = await kFail(['create', '--raw', `/api/v1/namespaces/${ns}/pods/bound/eviction`, '-f', '-'], JSON.stringify(eviction));
      assert.match(blocked, /Cannot evict pod as it would violate the pod's disruption budget/);
      await k(['-n', ns, 'delete', 'pdb', 'keep']);
      await k(['create', '--raw', `/api/v1/namespaces/${ns}/pods/bound/eviction`, '-f', '-'], JSON.stringify(eviction));
      const evicted = JSON.parse(await k(['-n', ns, 'get', 'pod', 'bound', '-o', 'json']));
      assert.ok(evicted.metadata.deletionTimestamp, 'a pod on a node is deleted gracefully');
      assert.equal(evicted.metadata.deletionGracePeriodSeconds, 30);
    });

    test('scale subresource', async () => {
      await k(['-n', ns, 'scale', 'deployment', 'web', '--replicas=5']);
      const d = JSON.parse(await k(['-n', ns, 'get', 'deploy', 'web', '-o', 'json']));
      assert.equal(d.spec.replicas, 5);
    });
  });
}

// Jobs, CronJobs and TTL-after-finished inside the real `skiff server` with two simulated nodes (which run
// restartPolicy Never pods to completion; the pod annotation skiff.dev/exit-code makes them fail), driven by the real
// kubectl: a Job completes (`kubectl wait --for=condition=complete`), a failing Job reaches BackoffLimitExceeded, an
// Indexed Job completes every index, a suspended Job waits until resumed, a "* * * * *" CronJob fires within its first
// minute, `kubectl create job --from=cronjob/...` works, and ttlSecondsAfterFinished deletes a finished Job.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer, eventually, waitForServiceAccount } from './harness.js';

const NS = 'job-e2e';

async function ok(srv: TestServer, args: string[], stdin?: string, timeoutMs?: number): Promise<string> {
  const r = await srv.kubectl(args, { ...(stdin === undefined ? {} : { stdin }), ...(timeoutMs ? { timeoutMs } : {}) });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}\n${srv.logs().slice(-3000)}`);
  return r.stdout;
}

function jobYaml(name: string, spec: string, podAnnotations = ''): string {
  return `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
  namespace: ${NS}
spec:
${spec}
  template:
    metadata:
      annotations:
        skiff.dev/complete-after: "1s"
${podAnnotations}
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox
        command: ["sh", "-c", "echo hi"]
`;
}

describe('Job, CronJob and TTL-after-finished controllers in skiff server (kubectl)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ args: ['--simulated-nodes', '2'] });
    await ok(srv, ['create', 'namespace', NS]);
    await waitForServiceAccount(srv, NS);
  });
  after(async () => {
    await srv?.stop();
  });

  const jsonpath = async (kind: string, name: string, path: string) => (await ok(srv, ['get', kind, name, '-n', NS, '-o', `jsonpath=${path}`])).trim();

  test('kubectl create job: pods run to completion, kubectl wait --for=condition=complete returns', async () => {
    await ok(srv, ['create', 'job', 'hello', '-n', NS, '--image=busybox', '--', 'echo', 'hello']);
    await ok(srv, ['wait', '--for=condition=complete', 'job/hello', '-n', NS, '--timeout=60s'], undefined, 70_000);
    assert.equal(await jsonpath('job', 'hello', '{.status.succeeded}'), '1');
    assert.ok(await jsonpath('job', 'hello', '{.status.completionTime}'));
    assert.equal(await jsonpath('job', 'hello', '{.status.conditions[?(@.type=="Complete")].reason}'), 'CompletionsReached');
    // The pod: found by the controller's label, Succeeded, no tracking finalizer left.
    const pod = await ok(srv, ['get', 'pods', '-n', NS, '-l', 'batch.kubernetes.io/job-name=hello', '-o', 'jsonpath={.items[0].status.phase} {.items[0].metadata.finalizers}']);
    assert.match(pod.trim(), /^Succeeded( \[\])?$/);
    const table = await ok(srv, ['get', 'job', 'hello', '-n', NS]);
    assert.match(table, /hello\s+(Complete\s+)?1\/1/);
    const events = await ok(srv, ['get', 'events', '-n', NS, '--field-selector', 'involvedObject.name=hello', '-o', 'jsonpath={.items[*].reason}']);
    assert.match(events, /SuccessfulCreate/);
    assert.match(events, /Completed/);
  });

  test('a failing Job backs off, retries and fails with BackoffLimitExceeded', async () => {
    await ok(srv, ['apply', '-f', '-'], jobYaml('fails', '  backoffLimit: 1', '        skiff.dev/exit-code: "3"'));
    await ok(srv, ['wait', '--for=condition=failed', 'job/fails', '-n', NS, '--timeout=90s'], undefined, 100_000);
    assert.equal(await jsonpath('job', 'fails', '{.status.conditions[?(@.type=="Failed")].reason}'), 'BackoffLimitExceeded');
    assert.equal(await jsonpath('job', 'fails', '{.status.failed}'), '2');
    const events = await ok(srv, ['get', 'events', '-n', NS, '--field-selector', 'involvedObject.name=fails', '-o', 'jsonpath={.items[*].reason}']);
    assert.match(events, /BackoffLimitExceeded/);
  });

  test('an Indexed Job runs one pod per index and reports completedIndexes', async () => {
    await ok(srv, ['apply', '-f', '-'], jobYaml('indexed', '  completions: 3\n  parallelism: 3\n  completionMode: Indexed'));
    await ok(srv, ['wait', '--for=condition=complete', 'job/indexed', '-n', NS, '--timeout=60s'], undefined, 70_000);
    assert.equal(await jsonpath('job', 'indexed', '{.status.completedIndexes}'), '0-2');
    const indexes = await ok(srv, ['get', 'pods', '-n', NS, '-l', 'batch.kubernetes.io/job-name=indexed', '-o', 'jsonpath={.items[*].metadata.labels.batch\\.kubernetes\\.io/job-completion-index}']);
    assert.deepEqual(indexes.trim().split(/\s+/).sort(), ['0', '1', '2']);
  });

  test('a suspended Job has no pods until resumed', async () => {
    await ok(srv, ['apply', '-f', '-'], jobYaml('paused', '  suspend: true'));
    await eventually('Suspended=True', async () => (await jsonpath('job', 'paused', '{.status.conditions[?(@.type=="Suspended")].status}')) === 'True');
    assert.equal((await ok(srv, ['get', 'pods', '-n', NS, '-l', 'batch.kubernetes.io/job-name=paused', '-o', 'name'])).trim(), '');
    await ok(srv, ['patch', 'job', 'paused', '-n', NS, '--type=merge', '-p', '{"spec":{"suspend":false}}']);
    await ok(srv, ['wait', '--for=condition=complete', 'job/paused', '-n', NS, '--timeout=60s'], undefined, 70_000);
    assert.equal(await jsonpath('job', 'paused', '{.status.conditions[?(@.type=="Suspended")].reason}'), 'JobResumed');
  });

  test('a "* * * * *" CronJob fires within a minute; kubectl create job --from=cronjob works', async () => {
    await ok(srv, ['create', 'cronjob', 'tick', '-n', NS, '--image=busybox', '--schedule=* * * * *', '--', 'echo', 'tick']);
    const uid = await jsonpath('cronjob', 'tick', '{.metadata.uid}');
    // The manual run is created by kubectl itself, owned by the CronJob.
    await ok(srv, ['create', 'job', 'tick-manual', '-n', NS, '--from=cronjob/tick']);
    assert.equal(await jsonpath('job', 'tick-manual', '{.metadata.annotations.cronjob\\.kubernetes\\.io/instantiate}'), 'manual');
    assert.equal(await jsonpath('job', 'tick-manual', '{.metadata.ownerReferences[0].uid}'), uid);
    await ok(srv, ['wait', '--for=condition=complete', 'job/tick-manual', '-n', NS, '--timeout=60s'], undefined, 70_000);
    // The scheduled run: named <cronjob>-<minutes since the epoch>, annotated with its scheduled time.
    let scheduled = '';
    await eventually(
      'a scheduled Job',
      async () => {
        const names = (await ok(srv, ['get', 'jobs', '-n', NS, '-o', 'jsonpath={.items[*].metadata.name}'])).split(/\s+/);
        scheduled = names.find((n) => /^tick-\d+$/.test(n)) ?? '';
        return scheduled !== '';
      },
      75_000,
      () => srv.logs().slice(-3000),
    );
    const minutes = Number(scheduled.split('-')[1]);
    assert.equal(await jsonpath('job', scheduled, '{.metadata.annotations.batch\\.kubernetes\\.io/cronjob-scheduled-timestamp}'), new Date(minutes * 60_000).toISOString().replace('.000', ''));
    await eventually('lastScheduleTime', async () => (await jsonpath('cronjob', 'tick', '{.status.lastScheduleTime}')) === new Date(minutes * 60_000).toISOString().replace('.000', ''));
    await ok(srv, ['wait', '--for=condition=complete', `job/${scheduled}`, '-n', NS, '--timeout=60s'], undefined, 70_000);
    await eventually('lastSuccessfulTime and an empty active list', async () => (await jsonpath('cronjob', 'tick', '{.status.lastSuccessfulTime} {.status.active}')).split(' ').filter(Boolean).length === 1, 30_000);
    await ok(srv, ['patch', 'cronjob', 'tick', '-n', NS, '--type=merge', '-p', '{"spec":{"suspend":true}}']);
  });

  test('ttlSecondsAfterFinished deletes the finished Job', async () => {
    await ok(srv, ['apply', '-f', '-'], jobYaml('shortlived', '  ttlSecondsAfterFinished: 2'));
    await eventually(
      'the Job deleted after it finished',
      async () => {
        const r = await srv.kubectl(['get', 'job', 'shortlived', '-n', NS]);
        return r.code !== 0 && /NotFound/.test(r.stderr);
      },
      60_000,
      () => srv.logs().slice(-3000),
    );
  });
});

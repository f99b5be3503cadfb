// HorizontalPodAutoscaler against the real `skiff server` (simulated nodes run the pods) with the real kubectl: the
// server's own HPA controller is off and this test runs one in-process over the server's API with a fake metrics
// source (the metrics API is not served yet). kubectl autoscale creates the HPA; at 150% of the CPU request against a
// 50% target the controller scales the Deployment through /scale, and kubectl get/describe hpa show upstream's output.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { startTestServer, type TestServer, eventually } from './harness.js';
import { RestClient } from '../../src/client/index.js';
import { createLogger } from '../../src/apiserver/log.js';
import { ControllerManager } from '../../src/controllers/index.js';
import { FakeMetricsSource } from '../../src/controllers/podautoscaler/metrics.js';
import { horizontalPodAutoscalerDescriptor } from '../../src/controllers/podautoscaler/horizontal.js';

async function ok(srv: TestServer, args: string[]): Promise<string> {
  const r = await srv.kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}\n${srv.logs().slice(-3000)}`);
  return r.stdout;
}

describe('HPA with kubectl and a fake metrics source', () => {
  let srv: TestServer;
  let client: RestClient;
  let manager: ControllerManager | undefined;
  let feeder: NodeJS.Timeout | undefined;
  const metrics = new FakeMetricsSource();

  before(async () => {
    srv = await startTestServer({ args: ['--simulated-nodes', '2', '--simulated-zones', '0', '--disable-controllers', 'horizontalpodautoscaling'] });
    client = await RestClient.fromKubeconfig(srv.kubeconfig);
  });
  after(async () => {
    clearInterval(feeder);
    await manager?.stop();
    client?.close();
    await srv?.stop();
  });

  test('kubectl autoscale; 150% CPU against 50% scales the Deployment; get and describe hpa', async () => {
    await ok(srv, ['create', 'deployment', 'web', '--image=busybox', '--replicas=2']);
    await ok(srv, ['set', 'resources', 'deployment', 'web', '--requests=cpu=100m']);
    await ok(srv, ['autoscale', 'deployment', 'web', '--cpu-percent=50', '--min=1', '--max=5']);
    await eventually('2 ready replicas', async () => (await ok(srv, ['get', 'deployment', 'web', '-o', 'jsonpath={.status.readyReplicas}'])).trim() === '2', 60_000);

    // Every web pod uses 150m of its 100m request.
    const pods = client.resource<Pod>({ group: '', version: 'v1', resource: 'pods' });
    const feed = async () => {
      for (const p of (await pods.list({ namespace: 'default', labelSelector: 'app=web' })).items) metrics.setPodUsage('default', p.metadata!.name!, { cpu: 150 });
    };
    await feed();
    feeder = setInterval(() => void feed().catch(() => undefined), 300);
    manager = new ControllerManager({
      client,
      controllers: [horizontalPodAutoscalerDescriptor(metrics)],
      leaderElection: false,
      log: createLogger('error'),
      options: { hpaSyncPeriodMs: 1000, hpaCpuInitializationPeriodMs: 0 },
    });
    manager.start();

    // 150/50 = 3 → 6 wanted, capped at max(2x2, 4) = 4 on the first step, then the max of 5.
    await eventually('scaled up', async () => Number((await ok(srv, ['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}'])).trim()) >= 4, 30_000);
    const table = await ok(srv, ['get', 'hpa', 'web']);
    assert.match(table, /NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE/);
    await eventually('TARGETS column', async () => /web\s+Deployment\/web\s+cpu: 150%\/50%\s+1\s+5\s+\d+/.test(await ok(srv, ['get', 'hpa', 'web'])), 30_000);
    const describe = await ok(srv, ['describe', 'hpa', 'web']);
    assert.match(describe, /SuccessfulRescale\s+.*New size: 4; reason: cpu resource utilization \(percentage of request\) above target/);
    assert.match(describe, /AbleToScale\s+True/);
    assert.match(describe, /ScalingActive\s+True\s+ValidMetricFound/);
    await eventually('max replicas', async () => (await ok(srv, ['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}'])).trim() === '5', 30_000);
    await eventually('ScalingLimited TooManyReplicas', async () => /ScalingLimited\s+True\s+TooManyReplicas/.test(await ok(srv, ['describe', 'hpa', 'web'])), 30_000);
  });
});

// The floor under the kubelet benchmark: pods started on this machine's containerd by direct CRI calls, with no
// API server and no kubelet logic (what crictl runp + create + start would do), using the agent's containerd config,
// CNI conflist and the CRI configs the kubelet generates for bench/kubelet.ts's pod. Per pod: RunPodSandbox (CNI
// included), ImageStatus, CreateContainer, StartContainer; `concurrency` pods at a time. Reports latency
// (RunPodSandbox sent -> StartContainer returned) and CPU seconds by process class (proctree.ts: this process is the
// "agent", the CRI client).
// CLI: `node dist/bench/kubelet-cri.js [--pods N] [--concurrency N]` prints JSON (last line). Needs root and the
// packages of scripts/setup. Everything is removed with `skiff killall` at the end.
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { containerdPaths, startContainerd } from '../src/kubelet/containerd/supervisor.js';
import { CriClient } from '../src/kubelet/cri/client.js';
import { buildTestImages, PAUSE_IMAGE } from '../src/kubelet/images/build.js';
import { importImagesDir } from '../src/kubelet/images/import.js';
import { bridgeName, writeCniConfig } from '../src/kubelet/network/cni.js';
import { containerConfig, sandboxConfig } from '../src/kubelet/pods/config.js';
import { killallDataDir, reservePodSubnet } from '../test/e2e/harness.js';
import { percentile } from './kubelet.js';
import { classDelta, snapshotClasses } from './proctree.js';

export interface CriBenchOptions {
  pods: number;
  concurrency: number;
}

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

export async function benchCri(o: CriBenchOptions): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-cri-'));
  const agentDir = join(dir, 'agent');
  const subnet = await reservePodSubnet();
  const cidr = `198.18.${subnet.octet}.0/24`;
  let cri: CriClient | undefined;
  let stop: (() => Promise<void>) | undefined;
  try {
    const images = join(agentDir, 'images');
    await mkdir(images, { recursive: true });
    await buildTestImages(images);
    const runtime = await startContainerd({ agentDir, sandboxImage: PAUSE_IMAGE });
    stop = () => runtime.stop();
    await importImagesDir(runtime.socket, images);
    await writeCniConfig(containerdPaths(agentDir).cniConfDir, { agentDir, podCIDR: cidr, bridge: bridgeName(agentDir) });
    cri = new CriClient(runtime.socket);
    for (let i = 0; i < 200; i++) {
      if ((await cri.status()).every((c) => c.status)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const dns = { clusterDNS: ['198.19.0.10'], clusterDomain: 'cluster.local', host: { servers: [], searches: [], options: [] } };
    const logRoot = join(agentDir, 'logs');
    const podsDir = join(agentDir, 'pods');

    const latencies: number[] = [];
    const one = async (n: number) => {
      const uid = randomUUID();
      const pod: Pod = {
        metadata: { name: `cri-${n}`, namespace: 'default', uid, labels: { bench: 'startup' } },
        spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
      };
      // The files the kubelet mounts into such a container: /etc/hosts, the service account token folder, the
      // termination log.
      const podDir = join(podsDir, uid);
      await mkdir(join(podDir, 'token'), { recursive: true });
      await writeFile(join(podDir, 'etc-hosts'), `127.0.0.1\tlocalhost\n`);
      await writeFile(join(podDir, 'token', 'token'), 'x');
      await writeFile(join(podDir, 'termination-log'), '');
      const mounts = [
        { containerPath: '/etc/hosts', hostPath: join(podDir, 'etc-hosts'), readonly: false },
        { containerPath: '/var/run/secrets/kubernetes.io/serviceaccount', hostPath: join(podDir, 'token'), readonly: true },
        { containerPath: '/dev/termination-log', hostPath: join(podDir, 'termination-log'), readonly: false },
      ];
      const t0 = performance.now();
      const sbCfg = sandboxConfig(pod, 0, logRoot, dns);
      await mkdir(sbCfg.logDirectory!, { recursive: true });
      const sandboxId = await cri!.runPodSandbox(sbCfg);
      await cri!.imageStatus({ image: 'docker.io/library/busybox:latest' });
      const c = pod.spec!.containers[0]!;
      const cfg = containerConfig(pod, c, { restartCount: 0, init: false, env: [{ key: 'KUBERNETES_SERVICE_HOST', value: '198.19.0.1' }], mounts });
      await mkdir(join(sbCfg.logDirectory!, c.name), { recursive: true });
      const id = await cri!.createContainer(sandboxId, cfg, sbCfg);
      await cri!.startContainer(id);
      latencies.push(performance.now() - t0);
    };

    const socket = runtime.socket;
    const before = await snapshotClasses(0, process.pid, socket);
    const loadStart = loadavg()[0]!;
    const tStart = performance.now();
    let next = 0;
    const slot = async () => {
      while (next < o.pods) await one(next++);
    };
    await Promise.all(Array.from({ length: o.concurrency }, slot));
    const wallMs = performance.now() - tStart;
    const classes = classDelta(before, await snapshotClasses(0, process.pid, socket));
    const total = Object.values(classes).reduce((a, b) => a + b, 0);
    latencies.sort((a, b) => a - b);
    return {
      pods: o.pods,
      concurrency: o.concurrency,
      startupP50Ms: Math.round(percentile(latencies, 50)),
      startupP99Ms: Math.round(percentile(latencies, 99)),
      startupMaxMs: Math.round(latencies[latencies.length - 1] ?? NaN),
      wallMs: Math.round(wallMs),
      podsPerSec: round(o.pods / (wallMs / 1000), 2),
      ...Object.fromEntries(Object.entries(classes).map(([k, v]) => [`cpuSec_${k === 'agent' ? 'criClient' : k}`, v])),
      cpuSecTotal: round(total, 2),
      cpuSecPerPod: round(total / o.pods, 3),
      loadAvgStart: round(loadStart, 2),
      loadAvgEnd: round(loadavg()[0]!, 2),
    };
  } finally {
    cri?.close();
    await killallDataDir(dir);
    await stop?.();
    await subnet.release();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const o: CriBenchOptions = { pods: 100, concurrency: 10 };
  const flags: Record<string, keyof CriBenchOptions> = { '--pods': 'pods', '--concurrency': 'concurrency' };
  for (const [flag, key] of Object.entries(flags)) {
    const i = process.argv.indexOf(flag);
    if (i >= 0) o[key] = Number(process.argv[i + 1]);
  }
  benchCri(o).then(
    (r) => console.log(JSON.stringify(r)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}

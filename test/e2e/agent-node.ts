// Shared set-up of e2e files that run real pods: one server with its local node (the kubelet on containerd), the
// offline busybox image imported into that node's containerd, and kubectl helpers for pods.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { buildTestImages } from '../../src/kubelet/images/build.js';
import { eventually, runSkiff, startTestServer, type TestServer } from './harness.js';

export { runSkiff };

export interface AgentNode {
  server: TestServer;
  /** The server's last output, for failure messages. */
  logs(): string;
  getPod(name: string): Promise<Pod | undefined>;
  /** Waits until pod `name` satisfies `ok` (the server's log in the failure message), returning it. */
  waitForPod(name: string, what: string, ok: (p: Pod) => boolean, timeoutMs?: number): Promise<Pod>;
  /** The pod's events as `Reason: message` lines. */
  events(name: string): Promise<string[]>;
  /** Waits until the local node is Ready, returning it. */
  readyNode(): Promise<Node>;
  /** Waits until the local node is Ready, returning its InternalIP address. */
  readyNodeIP(): Promise<string>;
  /** kubectl apply -f - of `yaml`; fails the test when kubectl does. */
  apply(yaml: string): Promise<void>;
  /** Stops the server (skiff killall included) and removes the images. */
  stop(): Promise<void>;
}

/** A server running its local node `nodeName` (and `extraArgs`) with the busybox image imported. */
export async function startAgentNode(nodeName: string, extraArgs: string[] = []): Promise<AgentNode> {
  const imagesDir = await mkdtemp(join(tmpdir(), 'skiff-images-'));
  const images = await buildTestImages(imagesDir);
  const server = await startTestServer({ agent: true, args: ['--node-name', nodeName, ...extraArgs], readyTimeoutMs: 60_000 });
  const logs = () => server.logs().slice(-4000);
  // `skiff images import` into the local node's containerd (the agent imports the pause image itself).
  await eventually('the agent to start containerd', async () => (await runSkiff(['images', 'import', '--data-dir', server.dataDir, images.busybox.file])).code === 0, 60_000, logs);
  const getPod = async (name: string) => {
    const r = await server.kubectl(['get', 'pod', name, '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as Pod) : undefined;
  };
  const readyNode = () =>
    eventually(
      'node Ready',
      async () => {
        const r = await server.kubectl(['get', 'node', nodeName, '-o', 'json']);
        const n = r.code === 0 ? (JSON.parse(r.stdout) as Node) : undefined;
        return n?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? n : undefined;
      },
      60_000,
      logs,
    );
  return {
    server,
    logs,
    getPod,
    async waitForPod(name, what, ok, timeoutMs = 90_000) {
      let pod: Pod | undefined;
      return eventually(`${name}: ${what}`, async () => ((pod = await getPod(name)) && ok(pod) ? pod : undefined), timeoutMs, () => `${JSON.stringify(pod?.status)}\n${logs()}`);
    },
    readyNode,
    async readyNodeIP() {
      const n = await readyNode();
      return n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '';
    },
    async events(name) {
      const r = await server.kubectl(['get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']);
      return r.stdout.split('\n').filter((l) => l !== '');
    },
    async apply(yaml) {
      const r = await server.kubectl(['apply', '-f', '-'], { stdin: yaml });
      assert.equal(r.code, 0, r.stderr);
    },
    async stop() {
      await server.stop();
      await rm(imagesDir, { recursive: true, force: true });
    },
  };
}

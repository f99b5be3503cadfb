// Runs `skiff agent` until SIGTERM/SIGINT: the nodes it hosts (the kubelet on containerd, or simulated nodes) are API
// clients of the server at --server. The token admits the agent (k3s's join): the real node gets its own client and
// serving certificates from the cluster CA, and every connection to the server verifies that CA.
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { createLogger, type Logger } from '../apiserver/log.js';
import { parseToken, type ParsedToken } from '../apiserver/pki/token.js';
import { HttpsTransport, RestClient } from '../client/index.js';
import { ensureNodeCertificates, fetchClusterCA, nodePassword, remoteSigner } from '../kubelet/certs.js';
import { defaultNodeIP } from '../kubelet/node/machine.js';
import { KUBELET_PORT } from '../kubelet/node/status.js';
import { startSimulatedNodes } from '../kubelet/simulated/run.js';
import type { AgentConfig } from './agent.js';
import { parseNodeLabels, parseNodeTaints } from './node-flags.js';
import { simulatorOptions } from './simulated.js';

/** Something the agent runs and stops on shutdown (the containerd kubelet, or simulated nodes). */
interface AgentPart {
  stop(): Promise<void>;
}

/**
 * The cluster CA, fetched from the server and checked against the full token's hash (k3s's join). A short token
 * carries no hash: the CA is then taken on trust, logged once.
 */
export async function clusterCA(config: Pick<AgentConfig, 'server'>, token: ParsedToken, log: Logger): Promise<string> {
  return fetchClusterCA(config.server, token, () =>
    log.warn('the cluster CA is not verified: the token carries no CA hash (use the full token from <data-dir>/server/token)', { server: config.server }),
  );
}

/**
 * V8 settings for the containerd agent, a small long-running process: the young generation stays at its initial size
 * (V8 grows it up to 32 MiB under the allocation bursts of pod starts, and keeps it) and the heap is sized for memory
 * rather than speed. Both are read when the heap next resizes, so they apply though the process is already running.
 */
export const AGENT_V8_FLAGS = ['--semi-space-growth-factor=1', '--optimize-for-size'];

export async function runAgent(config: AgentConfig, raw: { nodeLabel?: string[]; nodeTaint?: string[] } = {}): Promise<void> {
  const log = createLogger(config.logLevel);
  const parts: AgentPart[] = [];
  const token = parseToken(config.token);
  if (config.kubelet) {
    if (!process.env.SKIFF_AGENT_DEFAULT_HEAP) for (const f of AGENT_V8_FLAGS) setFlagsFromString(f);
    const { checkAgentPackages } = await import('../kubelet/containerd/supervisor.js');
    checkAgentPackages();
    const k = config.kubelet;
    const ca = await clusterCA(config, token, log);
    const nodeIP = k.nodeIP ?? defaultNodeIP();
    // The node's own identity: a client certificate (system:node:<name>) and a serving certificate from the cluster CA.
    const agentDir = join(config.dataDir, 'agent');
    const request = {
      agentDir,
      nodeName: config.nodeName,
      addresses: [nodeIP],
      caPem: ca,
      sign: remoteSigner(config.server, ca, token.password, config.nodeName, await nodePassword(agentDir)),
    };
    const certs = await ensureNodeCertificates(request);
    const transport = new HttpsTransport({ server: config.server, ca, cert: certs.clientCertPem, key: certs.clientKeyPem });
    const client = new RestClient(transport);
    await client.call('GET', '/version');
    const { startAgent } = await import('../kubelet/run.js');
    const agent = await startAgent({
      client,
      dataDir: config.dataDir,
      nodeName: config.nodeName,
      controlPlane: false,
      labels: parseNodeLabels(raw.nodeLabel),
      taints: parseNodeTaints(raw.nodeTaint),
      nodeIP,
      clientCA: ca,
      serving: { cert: certs.servingCertPem, key: certs.servingKeyPem },
      ...(k.podCIDR ? { podCIDR: k.podCIDR } : {}),
      ...(k.clusterDNS ? { clusterDNS: [k.clusterDNS] } : {}),
      ...(k.containerRuntimeEndpoint ? { containerRuntimeEndpoint: k.containerRuntimeEndpoint } : {}),
      ...(k.podManifestPath ? { podManifestPath: k.podManifestPath } : {}),
      ...(k.privateRegistry ? { privateRegistry: k.privateRegistry } : {}),
      ...(k.imageGC ? { imageGC: k.imageGC } : {}),
      ...(k.eviction ? { eviction: k.eviction } : {}),
      ...(k.syncFrequencyMs !== undefined ? { syncFrequencyMs: k.syncFrequencyMs } : {}),
      ...(k.allowedUnsafeSysctls ? { allowedUnsafeSysctls: k.allowedUnsafeSysctls } : {}),
      log,
    });
    // The reverse tunnel (k3s's remotedialer): the server reaches this kubelet through it, even from behind NAT.
    const { kubeletOnly, startTunnelClient } = await import('../kubelet/tunnel.js');
    const tunnelOptions = {
      server: config.server,
      ca,
      cert: certs.clientCertPem,
      key: certs.clientKeyPem,
      allowed: kubeletOnly([nodeIP], agent.kubelet.kubeletPort ?? KUBELET_PORT),
      log,
    };
    const tunnel = startTunnelClient(tunnelOptions);
    // Both certificates are renewed at 70-90 % of their lifetime while the agent runs.
    const { startCertificateRotation } = await import('../kubelet/cert-rotation.js');
    const clientCredentials = {
      setClientCertificate(cert: string, key: string) {
        transport.setClientCertificate(cert, key);
        // The tunnel presents the renewed certificate when it next connects.
        tunnelOptions.cert = cert;
        tunnelOptions.key = key;
      },
    };
    const rotation = startCertificateRotation({
      request,
      clientCertPem: certs.clientCertPem,
      servingCertPem: certs.servingCertPem,
      transport: clientCredentials,
      kubelet: agent.kubelet,
      log,
    });
    parts.push({
      stop: () => {
        rotation.stop();
        return Promise.all([tunnel.stop(), agent.stop()]).then(() => client.close());
      },
    });
    log.info('skiff agent is running', { server: config.server, node: agent.nodeName });
  }
  const sim = config.simulated;
  if (sim) {
    const options = simulatorOptions(sim, config.clusterCidr);
    // Simulated nodes act for many node names: they use the token's password as a bearer token, over verified TLS.
    const ca = await clusterCA(config, token, log);
    const client = new RestClient(new HttpsTransport({ server: config.server, ca, token: token.password }));
    // Fails fast on a wrong --server or --token rather than retrying in the background.
    await client.call('GET', '/version');
    await client.call('GET', '/api/v1/nodes?limit=1');
    const running = startSimulatedNodes({ ...options, client, log });
    parts.push(running);
    if (!(await running.started)) {
      await running.stop();
      throw new Error('skiff agent: the simulated nodes could not start');
    }
    log.info('skiff agent is running', { server: config.server, nodes: sim.names.length });
  }
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(1);
    signalled = true;
    log.info('received signal, shutting down', { signal });
    Promise.allSettled(parts.map((p) => p.stop())).then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

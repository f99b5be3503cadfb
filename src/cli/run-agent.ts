// Runs `skiff agent` until SIGTERM/SIGINT: the nodes it hosts (the kubelet on containerd, or simulated nodes) are API
// clients of the server at --server, authenticated by the server's --token.
import { createLogger, type Logger } from '../apiserver/log.js';
import { HttpsTransport, RestClient } from '../client/index.js';
import { startSimulatedNodes } from '../kubelet/simulated/run.js';
import type { AgentConfig } from './agent.js';
import { parseNodeLabels } from './node-flags.js';
import { simulatorOptions } from './simulated.js';

/** Something the agent runs and stops on shutdown (the containerd kubelet, or simulated nodes). */
interface AgentPart {
  stop(): Promise<void>;
}

/**
 * A client of the server. The token proves the agent to the server; as k3s does with a token that carries no CA
 * hash, the server's certificate is not verified (logged once).
 */
export function agentClient(config: Pick<AgentConfig, 'server' | 'token'>, log: Logger): RestClient {
  log.warn('the server certificate is not verified: the token carries no CA hash', { server: config.server });
  return new RestClient(new HttpsTransport({ server: config.server, token: config.token, insecureSkipTlsVerify: true }));
}

export async function runAgent(config: AgentConfig, raw: { nodeLabel?: string[] } = {}): Promise<void> {
  const log = createLogger(config.logLevel);
  const parts: AgentPart[] = [];
  if (config.kubelet) {
    const { checkAgentPackages } = await import('../kubelet/containerd/supervisor.js');
    checkAgentPackages();
    const { startAgent } = await import('../kubelet/run.js');
    const client = agentClient(config, log);
    await client.call('GET', '/version');
    const k = config.kubelet;
    const agent = await startAgent({
      client,
      dataDir: config.dataDir,
      nodeName: config.nodeName,
      controlPlane: false,
      labels: parseNodeLabels(raw.nodeLabel),
      ...(k.nodeIP ? { nodeIP: k.nodeIP } : {}),
      ...(k.podCIDR ? { podCIDR: k.podCIDR } : {}),
      ...(k.clusterDNS ? { clusterDNS: [k.clusterDNS] } : {}),
      ...(k.containerRuntimeEndpoint ? { containerRuntimeEndpoint: k.containerRuntimeEndpoint } : {}),
      log,
    });
    parts.push({ stop: () => agent.stop().then(() => client.close()) });
    log.info('skiff agent is running', { server: config.server, node: agent.nodeName });
  }
  const sim = config.simulated;
  if (sim) {
    const options = simulatorOptions(sim, config.clusterCidr);
    const client = agentClient(config, log);
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

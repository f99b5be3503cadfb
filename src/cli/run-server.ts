// Runs the API server for `skiff server` until SIGTERM/SIGINT.
import { defaultNodeIP } from '../kubelet/node/machine.js';
import { handlePodExecUpgrade, isPodExec } from '../apiserver/endpoints/pod-exec.js';
import type { KubeletClientConfig } from '../apiserver/endpoints/pod-log.js';
import type { Registry } from '../apiserver/registry/registry.js';
import { ApiError } from '../machinery/errors.js';
import { isTunnelConnect, TunnelServer } from '../apiserver/tunnel/server.js';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { createApiServer } from '../apiserver/apiserver.js';
import { watchStarted, watchStopped } from '../apiserver/metrics.js';
import { createLogger, startServer, type ServerConfig, type ServerDeps } from '../apiserver/server.js';
import { parseApiServerArgs } from '../apiserver/args.js';
import { parseControllerManagerArgs } from '../controllers/index.js';
import { HttpsTransport, RestClient } from '../client/index.js';
import { startApiClientsHost } from './api-clients-host.js';
import { schedulerConfig } from './scheduler-config.js';
import type { RunningAgent } from '../kubelet/run.js';
import type { NodeCertificateRequest } from '../kubelet/certs.js';
import type { KubeletNodeConfig } from './agent.js';
import type { SimulatedNodesConfig } from './node-flags.js';
import type { Taint } from 'kubernetes-types/core/v1.js';
import type { RunningServer } from '../apiserver/server.js';
import { simulatorOptions } from './simulated.js';

/** What `skiff server` runs besides the API server, from flags that are not the server's own. */
export interface RunServerOptions {
  simulated?: SimulatedNodesConfig;
  /** --scheduler-config: a KubeSchedulerConfiguration file. */
  schedulerConfigFile?: string;
  /** The local node (the kubelet on containerd), run unless --disable-agent or simulated nodes. */
  localNode?: KubeletNodeConfig & { nodeName?: string; labels?: Record<string, string>; taints?: Taint[] };
}

/**
 * How the API server calls kubelets: with the admin client certificate of the cluster CA, verifying the kubelet's
 * serving certificate against that CA (upstream's --kubelet-certificate-authority; k3s sets it too).
 */
function kubeletClientOf(pki: RunningServer['pki'], tunnel: TunnelServer | undefined): KubeletClientConfig {
  return { certPem: pki.admin.certPem, keyPem: pki.admin.keyPem, caPem: pki.ca.certPem, ...(tunnel ? { tunnel } : {}) };
}

/** What `skiff server` plugs into the HTTPS server: the REST handlers over the opened storage. */
export function serverDeps(config: ServerConfig): ServerDeps {
  // pods/exec, pods/attach and pods/portforward arrive as upgrades; they need the registry the API handler builds.
  let exec: { registry: Registry; kubeletClient: KubeletClientConfig } | undefined;
  // Agents' reverse tunnels (k3s's remotedialer), unless --egress-selector-mode=disabled.
  const tunnels = config.egressSelectorMode === 'disabled' ? undefined : new TunnelServer({ log: createLogger(config.logLevel) });
  const signingDurationMs = parseControllerManagerArgs(config.kubeControllerManagerArgs ?? []).clusterSigningDurationMs;
  return {
    ...(signingDurationMs ? { clusterSigningDurationMs: signingDurationMs } : {}),
    upgradeHandler: async (req, socket, head, user) => {
      if (tunnels && isTunnelConnect(req)) return tunnels.handleUpgrade(req, socket, head, user);
      if (!exec || !isPodExec(req)) throw ApiError.pageNotFound();
      await handlePodExecUpgrade(req, socket, head, exec.registry, exec.kubeletClient);
    },
    createApiHandler: async (ctx) => {
      const api = await createApiServer(ctx.storage, {
        serviceCIDR: config.serviceCidr,
        advertiseAddress: advertisedIP(config),
        // The bound port: differs from the flag when that is 0.
        securePort: ctx.port,
        registerLongRunning: (close) => ctx.lifecycle.registerLongRunning(close),
        onWatchStart: watchStarted,
        // pods/log: the API server calls kubelets with the admin client certificate of the cluster CA.
        kubeletClient: kubeletClientOf(ctx.pki, tunnels),
        onWatchStop: watchStopped,
        ...(config.metricResolutionMs ? { metricResolutionMs: config.metricResolutionMs } : {}),
        serviceAccountTokens: ctx.serviceAccountTokens,
        serviceAccountAuthenticator: ctx.serviceAccountAuthenticator,
        nodeGraph: ctx.nodeGraph,
        rbac: ctx.rbac,
        log: ctx.log,
        ...parseApiServerArgs(config.kubeApiserverArgs ?? []),
      });
      exec = { registry: api.registry, kubeletClient: kubeletClientOf(ctx.pki, tunnels) };
      ctx.lifecycle.onShutdown('api-server', () => api.close());
      // The tunnels' WebSockets would keep the HTTPS server from closing: they end when shutdown begins.
      if (tunnels) ctx.lifecycle.registerLongRunning(() => tunnels.close());
      return api.handler;
    },
  };
}

/**
 * The address the `kubernetes` Service's endpoints name: --advertise-address, a specific bind address, or (like
 * k3s) the host's first non-loopback IPv4 address; loopback only when the host has nothing else.
 */
function advertisedIP(config: ServerConfig): string {
  if (config.advertiseAddress) return config.advertiseAddress;
  if (isIP(config.bindAddress) === 4 && config.bindAddress !== '0.0.0.0') return config.bindAddress;
  return defaultNodeIP();
}

/** How long the in-process API clients may take to stop before the server shuts down regardless. */
const CLIENT_STOP_TIMEOUT_MS = 2000;

/** Starts the server and stops it gracefully on SIGTERM/SIGINT (a second signal exits at once). */
export async function runServer(config: ServerConfig, opts: RunServerOptions = {}): Promise<void> {
  const log = createLogger(config.logLevel);
  // Read before the server starts, so a bad stage file or scheduler configuration fails the command at once (the
  // API clients' worker reads them again).
  if (opts.simulated) simulatorOptions(opts.simulated, config.clusterCidr);
  schedulerConfig(opts.schedulerConfigFile);
  const runLocalNode = !config.disableAgent && !opts.simulated;
  if (runLocalNode) {
    // Fail before serving when the agent cannot run at all (missing packages), naming what to install.
    const { checkAgentPackages } = await import('../kubelet/containerd/supervisor.js');
    checkAgentPackages();
  }
  const server = await startServer(config, { ...serverDeps(config), logger: log });
  // The controller manager (issue 3), the scheduler (issue 4) and simulated nodes are API clients of this server, as
  // upstream runs them as separate binaries: they run in a worker thread (a second core, when there is one: see
  // apiClientsMode), and their requests are sent to this thread and handed to the server's request pipeline
  // in-process (authenticated as the admin, as their kubeconfig would, then authorized, admitted and served as any):
  // no TLS, sockets or HTTP parsing between parts of one process. They start in the background (not awaited, so the
  // signal handlers below are in place as soon as the server is ready) and stop first on shutdown, while the server
  // still answers them.
  const apiClients = startApiClientsHost(server, {
    config: {
      kubeconfigPath: server.kubeconfigPath,
      disabled: config.disableControllers ?? [],
      kubeControllerManagerArgs: config.kubeControllerManagerArgs ?? [],
      clusterCidr: config.clusterCidr,
      pkiDir: server.pki.dir,
      ...(opts.simulated ? { simulated: opts.simulated } : {}),
      ...(opts.schedulerConfigFile ? { schedulerConfigFile: opts.schedulerConfigFile } : {}),
    },
    logLevel: config.logLevel,
    log,
  });
  // The local node (issue 5): the kubelet on containerd, an API client over loopback like the others.
  const agent: Promise<RunningAgent | undefined> = runLocalNode
    ? startLocalAgent(config, opts.localNode ?? {}, server, log).catch((err: unknown) => {
        log.error('local node agent failed to start', { err: (err as Error).message });
        return undefined;
      })
    : Promise.resolve(undefined);
  const stopClients = async (): Promise<void> => {
    const stops = Promise.allSettled([apiClients.stop(), agent.then((a) => a?.stop())]);
    await Promise.race([stops, new Promise((r) => setTimeout(r, CLIENT_STOP_TIMEOUT_MS).unref())]);
  };
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn('second signal: exiting without waiting', { signal });
      process.exit(1);
    }
    signalled = true;
    log.info('received signal, shutting down', { signal });
    stopClients()
      .then(() => server.stop())
      .then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

async function startLocalAgent(
  config: ServerConfig,
  node: NonNullable<RunServerOptions['localNode']>,
  server: Pick<RunningServer, 'url' | 'pki'>,
  log: ReturnType<typeof createLogger>,
): Promise<RunningAgent> {
  const { startAgent, firstNodeCIDR } = await import('../kubelet/run.js');
  const { ensureNodeCertificates } = await import('../kubelet/certs.js');
  const { defaultNodeName } = await import('../kubelet/node/machine.js');
  const nodeName = node.nodeName ?? defaultNodeName();
  const signingDurationMs = parseControllerManagerArgs(config.kubeControllerManagerArgs ?? []).clusterSigningDurationMs;
  const nodeIP = node.nodeIP ?? advertisedIP(config);
  // As k3s's server runs its own agent: the local node is a node like any other (system:node:<name> client
  // certificate, serving certificate from the cluster CA), its requests signed here rather than over HTTPS.
  const request: NodeCertificateRequest = {
    agentDir: join(config.dataDir, 'agent'),
    nodeName,
    addresses: [nodeIP],
    caPem: server.pki.ca.certPem,
    sign: async (kind, csrPem) => {
      const { signCSR, inspectCSR } = await import('../apiserver/pki/issue.js');
      const asked = await inspectCSR(csrPem);
      const cert = await signCSR(server.pki.ca, csrPem, {
        commonName: asked.commonName,
        organizations: asked.organizations,
        usage: kind === 'client' ? 'client' : 'server',
        ...(kind === 'serving' ? { sans: asked.sans } : {}),
        ...(signingDurationMs ? { validityMs: signingDurationMs } : {}),
      });
      return cert + server.pki.ca.certPem;
    },
  };
  const certs = await ensureNodeCertificates(request);
  const transport = new HttpsTransport({ server: server.url, ca: certs.caPem, cert: certs.clientCertPem, key: certs.clientKeyPem });
  const client = new RestClient(transport);
  try {
    const agent = await startAgent({
      client,
      dataDir: config.dataDir,
      controlPlane: true,
      nodeName,
      // The API server calls the kubelet with a client certificate of the cluster CA.
      clientCA: server.pki.ca.certPem,
      serving: { cert: certs.servingCertPem, key: certs.servingKeyPem },
      podCIDR: node.podCIDR ?? firstNodeCIDR(config.clusterCidr),
      serviceCIDR: config.serviceCidr,
      nodeIP,
      ...(node.labels ? { labels: node.labels } : {}),
      ...(node.taints?.length ? { taints: node.taints } : {}),
      ...(node.clusterDNS ? { clusterDNS: [node.clusterDNS] } : {}),
      ...(node.containerRuntimeEndpoint ? { containerRuntimeEndpoint: node.containerRuntimeEndpoint } : {}),
      ...(node.podManifestPath ? { podManifestPath: node.podManifestPath } : {}),
      ...(node.privateRegistry ? { privateRegistry: node.privateRegistry } : {}),
      ...(node.imageGC ? { imageGC: node.imageGC } : {}),
      ...(node.eviction ? { eviction: node.eviction } : {}),
      ...(node.syncFrequencyMs !== undefined ? { syncFrequencyMs: node.syncFrequencyMs } : {}),
      ...(node.allowedUnsafeSysctls ? { allowedUnsafeSysctls: node.allowedUnsafeSysctls } : {}),
      log,
    });
    log.info('local node is running', { node: agent.nodeName });
    // Both certificates are renewed at 70-90 % of their lifetime while the node runs.
    const { startCertificateRotation } = await import('../kubelet/cert-rotation.js');
    const rotation = startCertificateRotation({ request, clientCertPem: certs.clientCertPem, servingCertPem: certs.servingCertPem, transport, kubelet: agent.kubelet, log });
    return {
      ...agent,
      stop: async () => {
        rotation.stop();
        await agent.stop();
        client.close();
      },
    };
  } catch (err) {
    client.close();
    throw err;
  }
}

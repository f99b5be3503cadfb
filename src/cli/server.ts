// `skiff server` flags (k3s's names) -> a validated ServerConfig. The server itself is loaded only when the command
// runs, so `skiff --help` and `skiff kubectl` stay fast.
import { EGRESS_SELECTOR_MODES, type EgressSelectorMode } from '../apiserver/tunnel/server.js';
import { Command, Option } from 'commander';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { parseCidr } from '../apiserver/pki/cidr.js';
import { LOG_LEVELS, type LogLevel } from '../apiserver/log.js';
import type { ServerConfig } from '../apiserver/server.js';
import { toKubeletNodeConfig } from './agent.js';
import { addNodeOptions, parseNodeLabels, parseNodeTaints, toSimulatedNodesConfig, type RawNodeOptions } from './node-flags.js';
import { defaultDataDir, defaultKubeconfigPath } from './paths.js';
import { parseApiServerArgs } from '../apiserver/args.js';
import { parseControllerManagerArgs } from '../controllers/options.js';
import { parseGoDuration } from '../machinery/duration.js';

export const DEFAULT_HTTPS_PORT = 6443;
export const DEFAULT_CLUSTER_CIDR = '198.18.0.0/16';
export const DEFAULT_SERVICE_CIDR = '198.19.0.0/16';

/** Flag values as commander hands them over (strings, before validation). */
export interface RawServerOptions {
  dataDir?: string;
  bindAddress?: string;
  httpsListenPort?: string;
  advertiseAddress?: string;
  writeKubeconfig?: string;
  writeKubeconfigMode?: string;
  datastoreEndpoint?: string;
  token?: string;
  disableAgent?: boolean;
  clusterCidr?: string;
  serviceCidr?: string;
  disableControllers?: string[];
  logLevel?: string;
  kubeApiserverArg?: string[];
  kubeControllerManagerArg?: string[];
  metricResolution?: string;
  egressSelectorMode?: string;
}

function checkIp(flag: string, value: string): string {
  if (isIP(value) === 0) throw new Error(`invalid ${flag} ${JSON.stringify(value)}: not an IP address`);
  return value;
}

function checkCidr(flag: string, value: string): string {
  try {
    parseCidr(value);
  } catch {
    throw new Error(`invalid ${flag} ${JSON.stringify(value)}: not a CIDR (e.g. ${flag === '--service-cidr' ? DEFAULT_SERVICE_CIDR : DEFAULT_CLUSTER_CIDR})`);
  }
  return value;
}

/** Validates and types the flags; throws an Error naming the flag at fault. */
export function toServerConfig(raw: RawServerOptions): ServerConfig {
  const dataDir = resolve(raw.dataDir ?? defaultDataDir());

  const portText = raw.httpsListenPort ?? String(DEFAULT_HTTPS_PORT);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new Error(`invalid --https-listen-port ${JSON.stringify(portText)}: must be 0-65535`);

  const modeText = raw.writeKubeconfigMode ?? '0600';
  if (!/^0?[0-7]{3}$/.test(modeText)) throw new Error(`invalid --write-kubeconfig-mode ${JSON.stringify(modeText)}: must be octal, e.g. 0644`);

  const logLevel = (raw.logLevel ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new Error(`invalid --log-level ${JSON.stringify(raw.logLevel)}: must be one of ${LOG_LEVELS.join(', ')}`);
  }

  const datastoreEndpoint = raw.datastoreEndpoint ?? '';
  if (datastoreEndpoint !== '' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(datastoreEndpoint)) {
    throw new Error(`invalid --datastore-endpoint ${JSON.stringify(datastoreEndpoint)}: expected a URL such as http://127.0.0.1:2379 or sqlite:///path/state.db`);
  }
  if (raw.token !== undefined && raw.token.trim() === '') throw new Error('invalid --token: must not be empty');

  const config: ServerConfig = {
    dataDir,
    bindAddress: checkIp('--bind-address', raw.bindAddress ?? '0.0.0.0'),
    httpsListenPort: port,
    writeKubeconfig: resolve(raw.writeKubeconfig ?? defaultKubeconfigPath(dataDir)),
    writeKubeconfigMode: parseInt(modeText, 8),
    datastoreEndpoint,
    disableAgent: raw.disableAgent ?? false,
    clusterCidr: checkCidr('--cluster-cidr', raw.clusterCidr ?? DEFAULT_CLUSTER_CIDR),
    serviceCidr: checkCidr('--service-cidr', raw.serviceCidr ?? DEFAULT_SERVICE_CIDR),
    disableControllers: (raw.disableControllers ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== ''),
    logLevel: logLevel as LogLevel,
  };
  if (raw.kubeApiserverArg?.length) {
    parseApiServerArgs(raw.kubeApiserverArg);
    config.kubeApiserverArgs = raw.kubeApiserverArg;
  }
  if (raw.kubeControllerManagerArg?.length) {
    parseControllerManagerArgs(raw.kubeControllerManagerArg);
    config.kubeControllerManagerArgs = raw.kubeControllerManagerArg;
  }
  if (raw.metricResolution !== undefined) {
    const ms = parseGoDuration(raw.metricResolution);
    if (ms === undefined || ms < 1000) throw new Error(`invalid --metric-resolution ${JSON.stringify(raw.metricResolution)}: a duration of at least 1s, e.g. 15s`);
    config.metricResolutionMs = ms;
  }
  if (raw.egressSelectorMode !== undefined) {
    const mode = raw.egressSelectorMode as EgressSelectorMode;
    if (!EGRESS_SELECTOR_MODES.includes(mode)) throw new Error(`invalid --egress-selector-mode ${JSON.stringify(raw.egressSelectorMode)}: must be one of ${EGRESS_SELECTOR_MODES.join(', ')}`);
    config.egressSelectorMode = mode;
  }
  if (raw.advertiseAddress !== undefined) config.advertiseAddress = checkIp('--advertise-address', raw.advertiseAddress);
  if (raw.token !== undefined) config.token = raw.token;
  return config;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Simulated nodes of `skiff server` are named sim-node-0, sim-node-1, ... unless --node-name is given. */
export const SERVER_SIMULATED_NODE_PREFIX = 'sim-node-';

/** Declares `skiff server` and its flags on the program. */
export function addServerCommand(program: Command): void {
  const cmd = program
    .command('server')
    .description('Run the Kubernetes API server')
    .option('--data-dir <dir>', 'folder to hold state', defaultDataDir())
    .option('--bind-address <ip>', 'address the API server listens on', '0.0.0.0')
    .option('--https-listen-port <port>', 'HTTPS listen port', String(DEFAULT_HTTPS_PORT))
    .option('--advertise-address <ip>', 'address the API server advertises to members of the cluster (added to the serving certificate)')
    .option('-o, --write-kubeconfig <file>', 'write the admin kubeconfig to this file (default: <data-dir>/kubeconfig.yaml)')
    .option('--write-kubeconfig-mode <mode>', 'file mode of the kubeconfig, octal', '0600')
    .addOption(
      new Option('--datastore-endpoint <url>', 'etcd as http://host:port[,host:port]; default: embedded SQLite').env('SKIFF_DATASTORE_ENDPOINT'),
    )
    .addOption(new Option('-t, --token <token>', 'shared secret; also accepted as a bearer token for the API').env('SKIFF_TOKEN'))
    .option('--disable-agent', 'do not run a local node (the kubelet on containerd)')
    .option('--node-ip <ip>', 'address the local node advertises')
    .option('--container-runtime-endpoint <socket>', 'local node: use this running CRI runtime instead of starting containerd')
    .option('--pod-manifest-path <dir>', 'local node: static pod manifests (default: <data-dir>/agent/pod-manifests)')
    .option('--cluster-cidr <cidr>', 'IP range for pod IPs', DEFAULT_CLUSTER_CIDR)
    .option('--service-cidr <cidr>', 'IP range for service IPs', DEFAULT_SERVICE_CIDR)
    .option('--disable-controllers <names>', 'controllers not to run (repeat or comma-separate)', collect)
    .option('--kube-apiserver-arg <flag=value>', 'customized flag for the API server, e.g. default-unreachable-toleration-seconds=30 (repeatable)', collect)
    .option('--kube-controller-manager-arg <flag=value>', 'customized flag for the controller manager, e.g. node-monitor-grace-period=20s (repeatable)', collect)
    .option('--metric-resolution <duration>', 'how often kubelets are scraped for metrics.k8s.io (kubectl top, HPA), as metrics-server (default 15s)')
    .option('--egress-selector-mode <mode>', `how the API server reaches kubelets: ${EGRESS_SELECTOR_MODES.join(', ')} (agent: through the agents' tunnels when they hold one, else directly; disabled: always directly)`, 'agent')
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')}`, 'info')
    .option('--scheduler-config <file>', 'KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) file: profiles, plugins, weights');
  addNodeOptions(cmd).action(async (opts: RawServerOptions & RawNodeOptions & { schedulerConfig?: string; nodeIp?: string; containerRuntimeEndpoint?: string; podManifestPath?: string }) => {
    const config = toServerConfig(opts);
    const simulated = toSimulatedNodesConfig(opts, SERVER_SIMULATED_NODE_PREFIX);
    const localNode = {
      ...toKubeletNodeConfig(opts),
      ...(opts.nodeName ? { nodeName: opts.nodeName } : {}),
      labels: parseNodeLabels(opts.nodeLabel),
      taints: parseNodeTaints(opts.nodeTaint),
    };
    const { runServer } = await import('./run-server.js');
    await runServer(config, {
      ...(simulated ? { simulated } : { localNode }),
      ...(opts.schedulerConfig ? { schedulerConfigFile: resolve(opts.schedulerConfig) } : {}),
    });
  });
}

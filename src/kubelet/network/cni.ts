// The agent's CNI network: a bridge per agent (named after its data dir, so several agents on one host do not
// share one), host-local addresses from the node's podCIDR, loopback, and portmap for hostPort. containerd reads the
// conflist from the agent's own conf dir and picks it up without a restart. Pod traffic leaving the pod network is
// masqueraded by one iptables rule per node (as flannel does) rather than by the bridge plugin's ipMasq, which adds a
// chain and rules per pod: a dozen iptables runs, serialized on the xtables lock, in every sandbox start and stop.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseCidr } from '../../apiserver/pki/cidr.js';

export const CNI_NETWORK_NAME = 'skiff';
export const CONFLIST_NAME = '10-skiff.conflist';

/** A Linux interface name (at most 15 bytes) unique to this agent's data dir. */
export function bridgeName(agentDir: string): string {
  return `skiff${createHash('sha256').update(agentDir).digest('hex').slice(0, 8)}`;
}

export interface CniSettings {
  agentDir: string;
  podCIDR: string;
  bridge: string;
}

export function cniConflist(s: CniSettings): object {
  const cidr = parseCidr(s.podCIDR);
  const v6 = cidr.family === 6;
  return {
    cniVersion: '0.4.0',
    name: CNI_NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge: s.bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: s.podCIDR }]],
          routes: [{ dst: v6 ? '::/0' : '0.0.0.0/0' }],
          dataDir: join(s.agentDir, 'cni', 'ipam'),
        },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

/** Writes the conflist atomically (containerd watches the folder). */
export async function writeCniConfig(confDir: string, s: CniSettings): Promise<string> {
  await mkdir(confDir, { recursive: true });
  const file = join(confDir, CONFLIST_NAME);
  const tmp = `${file}.tmp`;
  await writeFile(tmp, JSON.stringify(cniConflist(s), null, 2));
  await rename(tmp, file);
  return file;
}

/** Runs an iptables binary with arguments and returns its stdout. */
export type IptablesRunner = (binary: string, args: string[]) => Promise<string>;

const execFileAsync = promisify(execFile);
const runIptables: IptablesRunner = async (binary, args) => (await execFileAsync(binary, args)).stdout;

/** The comment that marks an agent's masquerade rule (no spaces, so `iptables -S` output splits on blanks). */
const masqueradeComment = (bridge: string) => `skiff-masquerade:${bridge}`;

/** The POSTROUTING rule masquerading traffic from the pod CIDR to anywhere but the pod network and multicast. */
export function masqueradeRule(podCIDR: string, bridge: string): { binary: string; spec: string[] } {
  const v6 = parseCidr(podCIDR).family === 6;
  return {
    binary: v6 ? 'ip6tables' : 'iptables',
    spec: ['-s', podCIDR, '!', '-d', podCIDR, '-m', 'addrtype', '!', '--dst-type', 'MULTICAST', '-m', 'comment', '--comment', masqueradeComment(bridge), '-j', 'MASQUERADE'],
  };
}

/** This agent's rules as `iptables -t nat -S POSTROUTING` prints them, each as the arguments after `-A POSTROUTING`. */
async function listMasquerade(binary: string, bridge: string, run: IptablesRunner): Promise<string[][]> {
  const out = await run(binary, ['-w', '-t', 'nat', '-S', 'POSTROUTING']);
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map((f) => f.replace(/^"(.*)"$/, '$1')))
    .filter((f) => f[0] === '-A' && f[1] === 'POSTROUTING' && f.includes(masqueradeComment(bridge)))
    .map((f) => f.slice(2));
}

/** Makes this agent's masquerade rule the one for `podCIDR` (an older one, for another CIDR, is removed). */
export async function ensureMasquerade(podCIDR: string, bridge: string, run: IptablesRunner = runIptables): Promise<void> {
  const { binary, spec } = masqueradeRule(podCIDR, bridge);
  const existing = await listMasquerade(binary, bridge, run);
  // -S prints the rule as the spec is written (quoting the comment, unquoted above).
  let present = false;
  for (const rule of existing) {
    if (!present && rule.join(' ') === spec.join(' ')) present = true;
    else await run(binary, ['-w', '-t', 'nat', '-D', 'POSTROUTING', ...rule]);
  }
  if (!present) await run(binary, ['-w', '-t', 'nat', '-A', 'POSTROUTING', ...spec]);
}

/** Removes this agent's masquerade rules (skiff killall). */
export async function removeMasquerade(bridge: string, run: IptablesRunner = runIptables): Promise<void> {
  for (const binary of ['iptables', 'ip6tables']) {
    const rules = await listMasquerade(binary, bridge, run).catch(() => []);
    for (const rule of rules) await run(binary, ['-w', '-t', 'nat', '-D', 'POSTROUTING', ...rule]).catch(() => undefined);
  }
}

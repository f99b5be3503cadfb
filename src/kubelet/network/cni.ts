// The agent's CNI network: a bridge per agent (named after its data dir, so several agents on one host do not
// share one), host-local addresses from the node's podCIDR, loopback, and portmap for hostPort. containerd reads the
// conflist from the agent's own conf dir and picks it up without a restart.
import { createHash } from 'node:crypto';
import { mkdir, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
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
        ipMasq: true,
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

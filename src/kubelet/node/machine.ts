// Facts about the host the kubelet reports on its Node: capacity (cpu, memory, pods, ephemeral-storage), addresses,
// nodeInfo (machine and boot IDs, kernel, OS image), and the pressure signals (available memory, disk, PIDs).
import { readFileSync, statfsSync, readdirSync } from 'node:fs';
import { cpus, hostname, networkInterfaces, release, totalmem } from 'node:os';

export const MAX_PODS = 110;

const read = (path: string): string => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
};

/** The node name: the host name, lower-cased (upstream's default hostname override). */
export function defaultNodeName(): string {
  return hostname().toLowerCase();
}

/** The host's first non-loopback IPv4 address (loopback when it has none). */
export function defaultNodeIP(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export function osImage(): string {
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(read('/etc/os-release'));
  return m?.[1] ?? 'Linux';
}

export interface MachineInfo {
  cpus: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
  machineID: string;
  systemUUID: string;
  bootID: string;
  kernelVersion: string;
  osImage: string;
}

export function machineInfo(dataDir: string): MachineInfo {
  const fs = statfsSync(dataDir);
  return {
    cpus: cpus().length,
    memoryBytes: totalmem(),
    ephemeralStorageBytes: Number(fs.blocks) * Number(fs.bsize),
    machineID: read('/etc/machine-id'),
    systemUUID: read('/sys/class/dmi/id/product_uuid') || read('/etc/machine-id'),
    bootID: read('/proc/sys/kernel/random/boot_id'),
    kernelVersion: release(),
    osImage: osImage(),
  };
}

export interface PressureSignals {
  memoryAvailableBytes: number;
  nodefsAvailableBytes: number;
  nodefsCapacityBytes: number;
  pidsAvailable: number;
  pidsMax: number;
}

/** Memory available as the kubelet's eviction manager reads it (MemAvailable), disk from statfs, PIDs from /proc. */
export function pressureSignals(dataDir: string): PressureSignals {
  const meminfo = read('/proc/meminfo');
  const avail = /^MemAvailable:\s+(\d+) kB$/m.exec(meminfo);
  const fs = statfsSync(dataDir);
  const pidMax = Number(read('/proc/sys/kernel/pid_max')) || 32768;
  let procs = 0;
  try {
    procs = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
  } catch {
    procs = 0;
  }
  return {
    memoryAvailableBytes: avail ? Number(avail[1]) * 1024 : totalmem(),
    nodefsAvailableBytes: Number(fs.bavail) * Number(fs.bsize),
    nodefsCapacityBytes: Number(fs.blocks) * Number(fs.bsize),
    pidsAvailable: pidMax - procs,
    pidsMax: pidMax,
  };
}

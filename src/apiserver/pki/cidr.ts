// Just enough IP arithmetic for certificate SANs and flag validation: parse a CIDR, take its n-th address.
import { isIP } from 'node:net';

export interface Cidr {
  family: 4 | 6;
  /** Network address as an unsigned integer (host bits cleared). */
  network: bigint;
  prefix: number;
}

/** Parses "198.19.0.0/16" or "fd00::/108"; throws an Error naming the bad value. */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? '' : text.slice(0, slash);
  const prefixText = slash < 0 ? '' : text.slice(slash + 1);
  const family = isIP(addr);
  const bits = family === 6 ? 128 : 32;
  if (family === 0 || !/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    throw new Error(`invalid CIDR address: ${text}`);
  }
  const prefix = Number(prefixText);
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  return { family: family as 4 | 6, network: ipToBigInt(addr) & mask, prefix };
}

/** The n-th address of the range (n = 1: the first usable one, e.g. the kubernetes service IP). */
export function nthAddress(cidr: Cidr, n: number): string {
  const bits = cidr.family === 6 ? 128 : 32;
  const size = 1n << BigInt(bits - cidr.prefix);
  if (BigInt(n) >= size) throw new Error(`address #${n} is outside the range of ${formatCidr(cidr)}`);
  return bigIntToIp(cidr.network + BigInt(n), cidr.family);
}

export function formatCidr(cidr: Cidr): string {
  return `${bigIntToIp(cidr.network, cidr.family)}/${cidr.prefix}`;
}

export function ipToBigInt(ip: string): bigint {
  if (isIP(ip) === 4) return ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
  return expandIpv6(ip).reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function bigIntToIp(v: bigint, family: 4 | 6): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((v >> s) & 0xffffn).toString(16));
  return compressIpv6(groups);
}

/** Eight hex groups of an IPv6 address (an embedded IPv4 tail is converted). */
function expandIpv6(ip: string): string[] {
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipToBigInt(v4[1]);
    text = text.slice(0, -v4[1].length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t];
}

function compressIpv6(groups: string[]): string {
  // Longest run of zero groups becomes "::" (RFC 5952).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
}

/** Canonical text of an IP address so that "::1" and "0:0:0:0:0:0:0:1" compare equal. */
export function canonicalIp(ip: string): string {
  const family = isIP(ip);
  if (family === 0) return ip;
  return bigIntToIp(ipToBigInt(ip), family as 4 | 6);
}

// `--kubelet-arg flag=value` entries (k3s passes them to the kubelet): split once, values read with one set of errors.
import { parseGoDuration } from '../machinery/duration.js';

export interface KubeletArg {
  /** The flag's name without leading dashes. */
  name: string;
  /** What follows the first `=` ('' when there is none). */
  value: string;
  /** As given. */
  raw: string;
}

/** Each `--kubelet-arg` value as name and value (`flag=value`, with or without leading dashes). */
export function kubeletArgs(args: readonly string[]): KubeletArg[] {
  return args.map((arg) => {
    const eq = arg.indexOf('=');
    return { name: (eq < 0 ? arg : arg.slice(0, eq)).replace(/^-+/, ''), value: eq < 0 ? '' : arg.slice(eq + 1), raw: arg };
  });
}

export function kubeletArgInteger({ name, value }: KubeletArg): number {
  if (!/^-?\d+$/.test(value)) throw new Error(`--kubelet-arg ${name}: invalid value ${JSON.stringify(value)}: not an integer`);
  return Number(value);
}

/** A Go duration in ms, never negative; `positive` refuses zero too. */
export function kubeletArgDuration({ name, value }: KubeletArg, opts: { positive?: boolean } = {}): number {
  const ms = parseGoDuration(value);
  if (ms === undefined || ms < 0 || (opts.positive && ms === 0)) throw new Error(`--kubelet-arg ${name}: invalid duration ${JSON.stringify(value)}`);
  return ms;
}

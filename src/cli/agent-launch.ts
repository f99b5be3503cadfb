// How `skiff agent` starts. bin/skiff hands the arguments here before anything else is loaded, so that V8 settings
// which must precede compilation apply to all of the agent's code, and the containerd agent runs from its bundle.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';

/** The agent bundle scripts/build.mjs writes next to this file (absent when esbuild is not installed). */
export const AGENT_BUNDLE = fileURLToPath(new URL('./agent.bundle.js', import.meta.url));

/**
 * V8 tiers for the containerd agent: bytecode only, no optimizing (TurboFan) nor baseline (Sparkplug) compiler, and
 * no eager compilation. The agent is mostly waiting on I/O (JSON parsing, TLS and HTTP/2 framing are native code), so
 * optimized code buys little and costs compiled code, compiler zones and the compilers' pages of the node binary:
 * measured 9 MiB less RSS at the same idle CPU. They must be set before the code they apply to is compiled.
 * (`--jitless`, which `--lite-mode` implies, can only be given on the command line: set at run time it crashes.)
 */
export const AGENT_TIER_FLAGS = ['--no-opt', '--no-sparkplug', '--max-lazy'];

/** Simulated nodes (`--simulated-nodes N`, N > 0) do the work of many nodes: they keep the full CLI and V8's defaults. */
export function runsKubelet(args: readonly string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = a === '--simulated-nodes' ? args[i + 1] : a.startsWith('--simulated-nodes=') ? a.slice('--simulated-nodes='.length) : undefined;
    if (value !== undefined && value !== '0' && value !== '') return false;
  }
  return true;
}

/** `skiff agent ...` (argv[0] === 'agent'). SKIFF_AGENT_DEFAULT_HEAP / SKIFF_AGENT_NO_BUNDLE turn either part off for A/B runs. */
export async function main(argv: string[]): Promise<void> {
  const kubelet = runsKubelet(argv.slice(1));
  if (kubelet && !process.env.SKIFF_AGENT_DEFAULT_HEAP) for (const f of AGENT_TIER_FLAGS) setFlagsFromString(f);
  const bundled = kubelet && !process.env.SKIFF_AGENT_NO_BUNDLE && existsSync(AGENT_BUNDLE);
  const entry = bundled ? pathToFileURL(AGENT_BUNDLE).href : './main.js';
  const m = (await import(entry)) as { main(argv: string[]): Promise<void> };
  await m.main(argv);
}

// How `skiff agent` starts. bin/skiff hands the arguments here before anything else is loaded, so that V8 settings
// which must precede compilation apply to all of the agent's code, and the containerd agent runs from its bundle.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The agent bundle scripts/build.mjs writes next to this file (absent when esbuild is not installed). */
export const AGENT_BUNDLE = fileURLToPath(new URL('./agent.bundle.js', import.meta.url));

/**
 * V8 tiers for the containerd agent: bytecode only, no optimizing (TurboFan) nor baseline (Sparkplug) compiler, and
 * no eager compilation. The agent is mostly waiting on I/O (JSON parsing, TLS and HTTP/2 framing are native code), so
 * optimized code buys little and costs compiled code, compiler zones and the compilers' pages of the node binary:
 * measured 9 MiB less RSS at the same idle CPU. They must be set before the code they apply to is compiled.
 * (`--jitless`, which `--lite-mode` implies, can only be given on the command line: set at run time it crashes.)
 * `--bytecode-old-age=1`: V8 drops the bytecode of a function that did not run since the last major GC (default: 5
 * GCs), and compiles it again when it runs. Most of the agent's code runs once, at start (flags, config, informer
 * set-up, image import): an idle agent's live heap 9.0 -> 8.1 MiB (heap snapshot, 0 pods). V8 ages code in its own
 * major GCs only, not in those gc() starts (startMemoryGC).
 */
export const AGENT_TIER_FLAGS = ['--no-opt', '--no-sparkplug', '--max-lazy', '--bytecode-old-age=1'];

/**
 * Node flags for the containerd agent that node takes only on its command line, so bin/skiff (a sh/JavaScript
 * polyglot) gives them when it is executed as `skiff agent ...` and exec's node (no launcher process stays); `node
 * bin/skiff agent` runs without them (the tier flags above still apply). bin/skiff's sh lines must name the same
 * (agent-launch.test.ts checks it). `--jitless`: V8 generates no machine code at all (regular expressions are
 * interpreted too), so the compilers' pages of the node binary and code space stay untouched; set at run time it
 * crashes. It disables WebAssembly, which the agent does not need (protobufjs' long.js tries a WebAssembly multiply
 * and falls back to JavaScript); `--no-expose-wasm` says so, else V8 warns at every start. Measured, not kept:
 * --single-threaded-gc and MALLOC_ARENA_MAX=2 (no gain with 50 pods, idle 0 pods +5 MiB in their runs).
 */
export const AGENT_NODE_FLAGS = ['--jitless', '--no-expose-wasm'];

/** Simulated nodes (`--simulated-nodes N`, N > 0) do the work of many nodes: they keep the full CLI and V8's defaults. */
export function runsKubelet(args: readonly string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = a === '--simulated-nodes' ? args[i + 1] : a.startsWith('--simulated-nodes=') ? a.slice('--simulated-nodes='.length) : undefined;
    if (value !== undefined && value !== '0' && value !== '') return false;
  }
  return true;
}

/**
 * The agent reads every reply of the runtime (the 1 s relist, status calls) over HTTP/2 and its API watches over TLS:
 * node hands socket reads to JS in ArrayBuffers that only a full GC frees, and V8 starts full GCs by the JS heap's
 * growth alone, here about once a minute: meanwhile several MiB of dead read buffers stay resident. So when the
 * ArrayBuffers grew by more than the threshold since the last full GC, one runs.
 */
export const EXTERNAL_GC_CHECK_MS = 5000;
export const EXTERNAL_GC_THRESHOLD_BYTES = 2 * 1024 * 1024;
/**
 * V8 starts its next full GC only when the old generation grew by about 8 MiB over what the last one left: the
 * agent's live heap is about 10 MiB, so during and after a burst of pod starts or deletions the old space held up to
 * 8 MiB of garbage for tens of seconds. A full GC (10-20 ms at this size) once the heap in use grew by this much
 * instead: measured with 50 pods after 100 starts, 3-4 MiB less RSS (highest and median of the idle window).
 * Measured, not kept: 1 MiB every 2 s (no further gain, more CPU), --compact-on-every-full-gc (higher peaks while
 * evacuating), MALLOC_MMAP_THRESHOLD_=32768 (1 MiB less glibc heap, the same in anonymous mappings instead).
 */
export const HEAP_GC_THRESHOLD_BYTES = 2 * 1024 * 1024;

export interface MemoryGC {
  stop(): void;
  /** Full GCs started so far. */
  readonly collections: number;
  /** One check now (tests; the timer calls it every checkMs). */
  check(): void;
}

/** One measure the GC check follows: the lowest figure seen since the last full GC is its base. */
interface Watched {
  read: () => number;
  threshold: number;
  base: number;
}

/**
 * Every `checkMs`, a full GC when the ArrayBuffers (`arrayBuffers()`) grew by `thresholdBytes`, or the JS heap in use
 * (`heapUsed()`) by `heapThresholdBytes`, over what the last full GC left (V8's own full GCs count: the lowest figure
 * seen since is the base). `gc` defaults to V8's, exposed at run time (--expose-gc, then a fresh context's `gc`).
 */
export function startMemoryGC(
  o: { checkMs?: number; thresholdBytes?: number; arrayBuffers?: () => number; heapThresholdBytes?: number; heapUsed?: () => number; gc?: () => void } = {},
): MemoryGC {
  let gc = o.gc;
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  const fullGC = gc;
  const watch = (read: () => number, threshold: number): Watched => ({ read, threshold, base: read() });
  const watched = [
    watch(o.arrayBuffers ?? (() => process.memoryUsage().arrayBuffers), o.thresholdBytes ?? EXTERNAL_GC_THRESHOLD_BYTES),
    watch(o.heapUsed ?? (() => getHeapStatistics().used_heap_size), o.heapThresholdBytes ?? HEAP_GC_THRESHOLD_BYTES),
  ];
  let collections = 0;
  const check = () => {
    const now = watched.map((w) => w.read());
    if (watched.every((w, i) => now[i]! - w.base < w.threshold)) {
      watched.forEach((w, i) => (w.base = Math.min(w.base, now[i]!)));
      return;
    }
    fullGC();
    collections++;
    for (const w of watched) w.base = w.read();
  };
  const timer = setInterval(check, o.checkMs ?? EXTERNAL_GC_CHECK_MS);
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    get collections() {
      return collections;
    },
    check,
  };
}

/** `skiff agent ...` (argv[0] === 'agent'). SKIFF_AGENT_DEFAULT_HEAP / SKIFF_AGENT_NO_BUNDLE turn either part off for A/B runs. */
export async function main(argv: string[]): Promise<void> {
  const kubelet = runsKubelet(argv.slice(1));
  if (kubelet && !process.env.SKIFF_AGENT_DEFAULT_HEAP) for (const f of AGENT_TIER_FLAGS) setFlagsFromString(f);
  if (kubelet && !process.env.SKIFF_AGENT_NO_EXTERNAL_GC) startMemoryGC();
  const bundled = kubelet && !process.env.SKIFF_AGENT_NO_BUNDLE && existsSync(AGENT_BUNDLE);
  const entry = bundled ? pathToFileURL(AGENT_BUNDLE).href : './main.js';
  const m = (await import(entry)) as { main(argv: string[]): Promise<void> };
  await m.main(argv);
}

// Probe workers, one per container and probe type, as upstream's prober manager: each runs its probe every
// periodSeconds (after initialDelaySeconds from the container's start), applies successThreshold/failureThreshold to
// the raw results, and publishes the settled result per container ID. Startup gates liveness and readiness; a settled
// liveness or startup failure puts the worker on hold until the container is replaced. Time comes from a Clock.
import type { Container, Pod, Probe } from 'kubernetes-types/core/v1.js';
import type { Clock, TimerHandle } from '../../client/index.js';
import type { ProbeOutcome } from './actions.js';

export type ProbeType = 'liveness' | 'readiness' | 'startup';
/** A settled result: upstream's results.Result. */
export type SettledResult = 'success' | 'failure' | 'unknown';

/** The current run of a container as the last sync saw it. */
export interface ProbedContainer {
  id: string;
  running: boolean;
  /** Milliseconds since the epoch (the clock's time base). */
  startedAt: number;
  /** Exited and will not run again. */
  terminatedForGood?: boolean;
}

export interface ProbeRunner {
  (type: ProbeType, probe: Probe, pod: Pod, container: Container, containerId: string, podIP: string): Promise<ProbeOutcome>;
}

export interface ProbeManagerOptions {
  clock: Clock;
  run: ProbeRunner;
  /** A failed probe (Unhealthy) or a warning (ProbeWarning), as upstream records them. */
  event(pod: Pod, type: 'Warning', reason: string, message: string): void;
  /** A settled result changed: the pod needs a sync (status, or a kill for liveness/startup). */
  onChange(podUid: string, type: ProbeType, containerId: string, result: SettledResult): void;
}

const DEFAULTS = { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 };

/** A probe with upstream's defaults filled in. */
export function probeTimings(p: Probe): typeof DEFAULTS {
  return {
    initialDelaySeconds: p.initialDelaySeconds ?? DEFAULTS.initialDelaySeconds,
    periodSeconds: p.periodSeconds || DEFAULTS.periodSeconds,
    timeoutSeconds: p.timeoutSeconds || DEFAULTS.timeoutSeconds,
    successThreshold: p.successThreshold || DEFAULTS.successThreshold,
    failureThreshold: p.failureThreshold || DEFAULTS.failureThreshold,
  };
}

const INITIAL: Record<ProbeType, SettledResult> = { liveness: 'success', readiness: 'failure', startup: 'unknown' };
const TITLE: Record<ProbeType, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };

/** Upstream retries a probe whose prober itself failed (not a probe failure) this many times. */
const MAX_PROBE_RETRIES = 3;

interface PodEntry {
  pod: Pod;
  podIP: string;
  containers: Map<string, ProbedContainer>;
  workers: ProbeWorker[];
}

export class ProbeWorker {
  private containerId = '';
  private lastResult: SettledResult = 'unknown';
  private resultRun = 0;
  private onHold = false;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private running = false;
  readonly timings: ReturnType<typeof probeTimings>;

  constructor(
    private readonly m: ProbeManager,
    readonly podUid: string,
    readonly container: Container,
    readonly type: ProbeType,
    readonly spec: Probe,
  ) {
    this.timings = probeTimings(spec);
  }

  start(): void {
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer?.cancel();
    this.timer = this.m.clock.setTimer(() => void this.tick(), ms);
  }

  /** Runs one probe now unless one is in flight (upstream's manual trigger), keeping the period after it. */
  trigger(): void {
    if (!this.running) this.schedule(0);
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    let keep = true;
    try {
      keep = await this.doProbe();
    } finally {
      this.running = false;
    }
    if (keep) this.schedule(this.timings.periodSeconds * 1000);
    else this.m.removeWorker(this);
  }

  /** One round of upstream's worker.doProbe; false when the worker should stop. */
  async doProbe(): Promise<boolean> {
    const entry = this.m.entry(this.podUid);
    if (!entry) return false;
    const { pod } = entry;
    const phase = pod.status?.phase;
    if (phase === 'Failed' || phase === 'Succeeded') return false;
    const c = entry.containers.get(this.container.name);
    if (!c || !c.id) return true;
    if (c.id !== this.containerId) {
      if (this.containerId) this.m.removeResult(this.containerId, this.type);
      this.containerId = c.id;
      this.m.setResult(this.podUid, c.id, this.type, INITIAL[this.type]);
      this.onHold = false;
      this.resultRun = 0;
      this.lastResult = 'unknown';
    }
    if (this.onHold) return true;
    if (!c.running) {
      this.m.setResult(this.podUid, c.id, this.type, 'failure');
      return !c.terminatedForGood;
    }
    if (pod.metadata?.deletionTimestamp && (this.type === 'liveness' || this.type === 'startup')) {
      this.m.setResult(this.podUid, c.id, this.type, 'success');
      return false;
    }
    if (Math.floor((this.m.clock.now() - c.startedAt) / 1000) < this.timings.initialDelaySeconds) return true;
    const started = this.m.started(this.podUid, this.container.name, c);
    if (started ? this.type === 'startup' : this.type !== 'startup') return true;

    let outcome: ProbeOutcome = { result: 'unknown', output: '' };
    for (let i = 0; i < MAX_PROBE_RETRIES; i++) {
      outcome = await this.m.run(this.type, this.spec, pod, this.container, c.id, entry.podIP);
      if (outcome.result !== 'unknown') break;
    }
    if (this.stopped || this.containerId !== c.id) return !this.stopped;
    if (outcome.result === 'unknown') return true; // a prober error: thrown away
    if (outcome.result === 'failure') this.m.event(pod, 'Warning', 'Unhealthy', `${TITLE[this.type]} probe failed: ${outcome.output}`);
    else if (outcome.result === 'warning') this.m.event(pod, 'Warning', 'ProbeWarning', `${TITLE[this.type]} probe warning: ${outcome.output}`);
    const result: SettledResult = outcome.result === 'failure' ? 'failure' : 'success';

    if (this.lastResult === result) this.resultRun++;
    else {
      this.lastResult = result;
      this.resultRun = 1;
    }
    if ((result === 'failure' && this.resultRun < this.timings.failureThreshold) || (result === 'success' && this.resultRun < this.timings.successThreshold)) {
      return true;
    }
    this.m.setResult(this.podUid, c.id, this.type, result);
    if ((this.type === 'liveness' && result === 'failure') || this.type === 'startup') {
      // The container is restarted (or has started): nothing more to ask of this run of it.
      this.onHold = true;
      this.resultRun = 0;
    }
    return true;
  }
}

export class ProbeManager {
  readonly clock: Clock;
  private readonly pods = new Map<string, PodEntry>();
  private readonly results = new Map<string, Map<ProbeType, SettledResult>>();

  constructor(private readonly o: ProbeManagerOptions) {
    this.clock = o.clock;
  }

  run(type: ProbeType, probe: Probe, pod: Pod, container: Container, containerId: string, podIP: string): Promise<ProbeOutcome> {
    return this.o.run(type, probe, pod, container, containerId, podIP).catch((err: unknown) => ({ result: 'unknown' as const, output: (err as Error).message }));
  }

  event(pod: Pod, type: 'Warning', reason: string, message: string): void {
    this.o.event(pod, type, reason, message);
  }

  entry(uid: string): PodEntry | undefined {
    return this.pods.get(uid);
  }

  /**
   * What the last sync saw of the pod: its spec, IP and the current run of each container. Starts the workers of
   * containers with probes (app containers and native sidecars) the first time.
   */
  update(pod: Pod, podIP: string, containers: Map<string, ProbedContainer>): void {
    const uid = pod.metadata?.uid ?? '';
    let e = this.pods.get(uid);
    if (!e) {
      e = { pod, podIP, containers, workers: [] };
      this.pods.set(uid, e);
      const probed = [...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'), ...(pod.spec?.containers ?? [])];
      for (const c of probed) {
        for (const [type, spec] of [
          ['startup', c.startupProbe],
          ['readiness', c.readinessProbe],
          ['liveness', c.livenessProbe],
        ] as const) {
          if (!spec) continue;
          const w = new ProbeWorker(this, uid, c, type, spec);
          e.workers.push(w);
        }
      }
      for (const w of e.workers) w.start();
      return;
    }
    const changed = [...containers].some(([name, c]) => e.containers.get(name)?.id !== c.id || e.containers.get(name)?.running !== c.running);
    e.pod = pod;
    e.podIP = podIP || e.podIP;
    e.containers = containers;
    // A container that was replaced or started is probed at once rather than a period later.
    if (changed) for (const w of e.workers) w.trigger();
  }

  removeWorker(w: ProbeWorker): void {
    const e = this.pods.get(w.podUid);
    if (e) e.workers = e.workers.filter((x) => x !== w);
  }

  /** The pod is gone: stop its workers and forget its results. */
  removePod(uid: string): void {
    const e = this.pods.get(uid);
    if (!e) return;
    for (const w of e.workers) w.stop();
    for (const c of e.containers.values()) this.results.delete(c.id);
    this.pods.delete(uid);
  }

  setResult(podUid: string, containerId: string, type: ProbeType, result: SettledResult): void {
    let m = this.results.get(containerId);
    if (!m) this.results.set(containerId, (m = new Map()));
    if (m.get(type) === result) return;
    m.set(type, result);
    this.o.onChange(podUid, type, containerId, result);
  }

  removeResult(containerId: string, type: ProbeType): void {
    this.results.get(containerId)?.delete(type);
  }

  result(containerId: string, type: ProbeType): SettledResult | undefined {
    return this.results.get(containerId)?.get(type);
  }

  private hasWorker(uid: string, name: string, type: ProbeType): ProbeWorker | undefined {
    return this.pods.get(uid)?.workers.find((w) => w.container.name === name && w.type === type);
  }

  private specHas(uid: string, name: string, type: ProbeType): boolean {
    const pod = this.pods.get(uid)?.pod;
    const c = [...(pod?.spec?.initContainers ?? []), ...(pod?.spec?.containers ?? [])].find((x) => x.name === name);
    return !!(type === 'startup' ? c?.startupProbe : type === 'readiness' ? c?.readinessProbe : c?.livenessProbe);
  }

  /** Upstream's `started`: running, and its startup probe (if any) succeeded. */
  started(uid: string, name: string, c: ProbedContainer): boolean {
    if (!c.running) return false;
    const r = this.result(c.id, 'startup');
    if (r !== undefined) return r === 'success';
    return !this.hasWorker(uid, name, 'startup') && !this.specHas(uid, name, 'startup');
  }

  /** Upstream's `ready`: started, and its readiness probe (if any) succeeded. */
  ready(uid: string, name: string, c: ProbedContainer): boolean {
    if (!this.started(uid, name, c)) return false;
    const r = this.result(c.id, 'readiness');
    if (r !== undefined) return r === 'success';
    const w = this.hasWorker(uid, name, 'readiness');
    if (w) w.trigger();
    return !w && !this.specHas(uid, name, 'readiness');
  }

  /** Stops every worker (the kubelet stops). */
  stop(): void {
    for (const uid of [...this.pods.keys()]) this.removePod(uid);
  }
}

// The controller-manager host (kube-controller-manager's equivalent): a registry of controllers by name, one shared
// informer factory for all of them, and leader election on a kube-system Lease so that several servers sharing one
// datastore run exactly one active set of controllers.
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../apiserver/log.js';
import { LeaderElector, SharedInformerFactory, realClock, type Clock, type RestClient } from '../client/index.js';
import type { ControllerOptions } from './options.js';

/** What every controller gets when the manager starts it. */
export interface ControllerContext {
  client: RestClient;
  /** Shared by every controller: request informers before `run` is called; the manager starts them. */
  informers: SharedInformerFactory;
  clock: Clock;
  log: Logger;
  /** kube-controller-manager flag values (--kube-controller-manager-arg); unset fields take upstream's defaults. */
  options?: ControllerOptions;
}

/** A started controller: `run` works until `signal` aborts and resolves once it has stopped. */
export interface Controller {
  run(signal: AbortSignal): Promise<void>;
}

export interface ControllerDescriptor {
  name: string;
  /** Build the controller (register informers and handlers); do not start work here. */
  create(ctx: ControllerContext): Controller;
}

export interface LeaderElectionOptions {
  namespace?: string;
  name?: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface ControllerManagerOptions {
  client: RestClient;
  controllers: readonly ControllerDescriptor[];
  /** Names turned off with --disable-controllers. */
  disabled?: readonly string[];
  /** false: run at once without a Lease (single-process tests). */
  leaderElection?: LeaderElectionOptions | false;
  clock?: Clock;
  log: Logger;
  options?: ControllerOptions;
  /**
   * Informers shared with other components of the process (the scheduler's): each leadership term runs on a scope()
   * of them, whose handlers are removed when the term ends, so pods and nodes are watched and cached once.
   */
  informers?: SharedInformerFactory;
}

/** The Lease kube-controller-manager holds in kube-system. */
export const CONTROLLER_MANAGER_LEASE = 'kube-controller-manager';

export class ControllerManager {
  private readonly enabled: ControllerDescriptor[];
  private readonly clock: Clock;
  private readonly stopping = new AbortController();
  private elector: LeaderElector | undefined;
  private running: Promise<void> | undefined;
  private active: Promise<void> | undefined;

  constructor(private readonly opts: ControllerManagerOptions) {
    const names = new Set<string>();
    for (const c of opts.controllers) {
      if (!c.name) throw new Error('controller with an empty name');
      if (names.has(c.name)) throw new Error(`controller "${c.name}" is registered twice`);
      names.add(c.name);
    }
    const disabled = new Set(opts.disabled ?? []);
    for (const d of disabled) {
      // Upstream controllers this server does not have yet are accepted, so scripts written for k3s keep working.
      if (!names.has(d)) opts.log.warn('--disable-controllers names a controller this server does not run', { controller: d });
    }
    this.enabled = opts.controllers.filter((c) => !disabled.has(c.name));
    this.clock = opts.clock ?? realClock;
  }

  /** Names of the controllers that run once this manager leads, in registration order. */
  enabledControllers(): string[] {
    return this.enabled.map((c) => c.name);
  }

  /** Campaign for the Lease (unless disabled) and run the controllers while leading; returns at once. */
  start(): void {
    if (this.running) return;
    const le = this.opts.leaderElection;
    if (le === false) {
      this.running = this.lead(this.stopping.signal);
      return;
    }
    this.running = (async () => {
      // Lost leadership means another server leads now: step down and campaign again, unless stopping.
      while (!this.stopping.signal.aborted) {
        this.elector = new LeaderElector({
          client: this.opts.client,
          namespace: le?.namespace ?? 'kube-system',
          name: le?.name ?? CONTROLLER_MANAGER_LEASE,
          identity: le?.identity ?? `${hostname()}_${randomUUID()}`,
          leaseDurationMs: le?.leaseDurationMs,
          renewDeadlineMs: le?.renewDeadlineMs,
          retryPeriodMs: le?.retryPeriodMs,
          releaseOnCancel: true,
          clock: this.clock,
          callbacks: {
            onStartedLeading: (signal) => {
              this.opts.log.info('controller manager became leader', { controllers: this.enabledControllers().join(',') });
              this.active = this.lead(signal);
            },
            onStoppedLeading: () => this.opts.log.info('controller manager stopped leading'),
          },
        });
        await this.elector.run();
        await this.active;
        this.active = undefined;
        if (!this.stopping.signal.aborted) await this.clock.sleep(1000, this.stopping.signal);
      }
    })();
  }

  /** Stop the controllers and informers (and release the Lease); resolves when all have stopped. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.elector?.stop();
    await this.running;
    await this.active;
  }

  /** Run every enabled controller on a fresh informer factory (or a fresh scope of the shared one) until `signal` aborts. */
  private async lead(signal: AbortSignal): Promise<void> {
    const informers = this.opts.informers?.scope() ?? new SharedInformerFactory(this.opts.client, { clock: this.clock });
    const ctx = { client: this.opts.client, informers, clock: this.clock, log: this.opts.log, options: this.opts.options ?? {} };
    const controllers = this.enabled.map((d) => ({ name: d.name, controller: d.create(ctx) }));
    informers.start();
    // Every controller (and its workers and sleeps) listens on this one signal: more than Node's default of 10 is expected.
    setMaxListeners(0, signal);
    const runs = controllers.map(({ name, controller }) =>
      controller.run(signal).catch((err: unknown) => this.opts.log.error('controller failed', { controller: name, err })),
    );
    await Promise.all(runs);
    await informers.shutdown();
  }
}

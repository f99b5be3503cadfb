// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection package does it: candidates poll
// the Lease every retry period; the holder renews it, and a candidate takes it over only once the holder has not
// renewed for leaseDuration as measured on the candidate's own clock (so clock skew between machines does not matter).
import type { Lease, LeaseSpec } from 'kubernetes-types/coordination/v1.js';
import { isNotFound } from '../machinery/errors.js';
import { formatMicroTime } from '../machinery/time.js';
import { realClock, type Clock } from './clock.js';
import type { RestClient, ResourceClient } from './rest.js';

export interface LeaderCallbacks {
  /** Became leader; `signal` aborts when leadership ends. */
  onStartedLeading(signal: AbortSignal): void;
  /** Leadership ended (lost, or stop()). Only called after onStartedLeading. */
  onStoppedLeading(): void;
  /** The observed leader changed (including to ourselves). */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectionConfig {
  client: RestClient;
  namespace: string;
  name: string;
  identity: string;
  /** How long a non-renewed lease stays valid for others (kube-controller-manager: 15 s). */
  leaseDurationMs?: number;
  /** How long the leader keeps retrying a failing renewal before giving up (10 s). */
  renewDeadlineMs?: number;
  /** Time between attempts (2 s). */
  retryPeriodMs?: number;
  /** On stop(), clear the holder so another candidate can take over at once. */
  releaseOnCancel?: boolean;
  clock?: Clock;
  callbacks: LeaderCallbacks;
}

/** client-go's JitterFactor for the retry period. */
const JITTER_FACTOR = 1.2;

const microTimeAt = (ms: number): string => formatMicroTime(new Date(ms));

export class LeaderElector {
  private readonly leases: ResourceClient<Lease>;
  private readonly clock: Clock;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly stopping = new AbortController();
  private observedRecord: LeaseSpec | undefined;
  private observedRaw = '';
  private observedTime = 0;
  private reportedLeader = '';
  private leading = false;

  constructor(private readonly config: LeaderElectionConfig) {
    this.leaseDurationMs = config.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = config.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = config.retryPeriodMs ?? 2_000;
    // The same checks (and wording) as client-go's NewLeaderElector.
    if (this.leaseDurationMs <= this.renewDeadlineMs) throw new Error('leaseDuration must be greater than renewDeadline');
    if (this.renewDeadlineMs <= JITTER_FACTOR * this.retryPeriodMs) throw new Error(`renewDeadline must be greater than retryPeriod*JitterFactor`);
    if (this.retryPeriodMs < 1) throw new Error('retryPeriod must be greater than zero');
    if (!config.identity) throw new Error('Lock identity is empty');
    this.leases = config.client.resource<Lease>({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases' });
    this.clock = config.clock ?? realClock;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder last observed on the Lease ("" if none). */
  getLeader(): string {
    return this.observedRecord?.holderIdentity ?? '';
  }

  /** Campaign until leader, lead until the lease is lost or stop() is called; resolves when done. */
  async run(): Promise<void> {
    if (!(await this.acquire())) return;
    this.leading = true;
    const leadership = new AbortController();
    this.safely(() => this.config.callbacks.onStartedLeading(leadership.signal));
    await this.renew();
    this.leading = false;
    leadership.abort();
    if (this.config.releaseOnCancel && this.stopping.signal.aborted) await this.release();
    this.safely(() => this.config.callbacks.onStoppedLeading());
  }

  stop(): void {
    this.stopping.abort();
  }

  private jittered(): number {
    return this.retryPeriodMs * (1 + Math.random() * (JITTER_FACTOR - 1));
  }

  private async acquire(): Promise<boolean> {
    while (!this.stopping.signal.aborted) {
      if (await this.tryAcquireOrRenew()) return true;
      await this.clock.sleep(this.jittered(), this.stopping.signal);
    }
    return false;
  }

  /** Renew every retry period; give up when no renewal succeeded within the renew deadline. */
  private async renew(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      const deadline = this.clock.now() + this.renewDeadlineMs;
      let renewed = false;
      while (!this.stopping.signal.aborted && this.clock.now() < deadline) {
        if (await this.tryAcquireOrRenew()) {
          renewed = true;
          break;
        }
        await this.clock.sleep(Math.min(this.retryPeriodMs, Math.max(0, deadline - this.clock.now())), this.stopping.signal);
      }
      if (!renewed) return;
      await this.clock.sleep(this.retryPeriodMs, this.stopping.signal);
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.config;
    const now = this.clock.now();
    const leaseDurationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    let lease: Lease;
    try {
      lease = await this.leases.get(name, { namespace });
    } catch (e) {
      if (!isNotFound(e)) return false;
      const spec: LeaseSpec = { holderIdentity: identity, leaseDurationSeconds, acquireTime: microTimeAt(now), renewTime: microTimeAt(now), leaseTransitions: 0 };
      try {
        const created = await this.leases.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec }, { namespace });
        this.observe(created.spec ?? spec, now);
        return true;
      } catch {
        return false;
      }
    }

    const record = lease.spec ?? {};
    const raw = JSON.stringify(record);
    // Time the record last changed, by our clock: the holder's own timestamps are not trusted across machines.
    if (raw !== this.observedRaw) this.observe(record, this.clock.now());
    const holder = record.holderIdentity ?? '';
    const duration = (record.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (holder && holder !== identity && this.observedTime + duration > now) return false;

    const mine = holder === identity;
    const spec: LeaseSpec = {
      ...record,
      holderIdentity: identity,
      leaseDurationSeconds,
      renewTime: microTimeAt(now),
      acquireTime: mine ? record.acquireTime : microTimeAt(now),
      leaseTransitions: (record.leaseTransitions ?? 0) + (mine ? 0 : 1),
    };
    try {
      const updated = await this.leases.update({ ...lease, spec });
      this.observe(updated.spec ?? spec, this.clock.now());
      return true;
    } catch {
      // Someone else wrote the Lease first (Conflict) or the server is unreachable: try again next period.
      return false;
    }
  }

  private observe(record: LeaseSpec, at: number): void {
    this.observedRecord = record;
    this.observedRaw = JSON.stringify(record);
    this.observedTime = at;
    const holder = record.holderIdentity ?? '';
    if (holder && holder !== this.reportedLeader) {
      this.reportedLeader = holder;
      this.safely(() => this.config.callbacks.onNewLeader?.(holder));
    }
  }

  /** Give the lease up so the next candidate need not wait for it to expire (client-go's release()). */
  private async release(): Promise<void> {
    const { namespace, name, identity } = this.config;
    try {
      const lease = await this.leases.get(name, { namespace });
      if (lease.spec?.holderIdentity !== identity) return;
      const now = microTimeAt(this.clock.now());
      await this.leases.update({ ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now } });
    } catch {
      // Best effort: the lease then simply expires.
    }
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      console.error('leader election callback failed:', e);
    }
  }
}

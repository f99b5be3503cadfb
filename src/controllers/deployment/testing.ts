// Fixtures for the deployment controller's unit tests: upstream's newDeployment/rs helpers and a recording fake of
// the API writes (as upstream's tests record actions on a fake clientset).
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { ApiError } from '../../machinery/errors.js';
import { FakeClock } from '../../client/index.js';
import type { ObjectLike } from '../../client/index.js';
import type { EventSink } from '../common/index.js';
import type { DeploymentOps, SyncDeps } from './sync.js';
import { DeploymentSyncer } from './sync.js';
import type { MutableReplicaSet } from './util.js';

/** upstream's newDeployment test helper: RollingUpdate with maxSurge and maxUnavailable 0 unless given. */
export function newDeployment(
  name: string,
  replicas: number,
  opts: { revisionHistoryLimit?: number; maxSurge?: number | string; maxUnavailable?: number | string; selector?: Record<string, string> } = {},
): Deployment {
  const selector = opts.selector ?? {};
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', uid: `${name}-uid`, annotations: {}, generation: 1 },
    spec: {
      replicas,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: opts.maxSurge ?? 0, maxUnavailable: opts.maxUnavailable ?? 0 } },
      selector: { matchLabels: { ...selector } },
      template: { metadata: { labels: { ...selector } }, spec: { containers: [{ name: 'c', image: 'foo/bar' }] } },
      ...(opts.revisionHistoryLimit !== undefined ? { revisionHistoryLimit: opts.revisionHistoryLimit } : {}),
    },
  };
}

/** upstream's rs test helper. */
export function rs(name: string, replicas: number, selector: Record<string, string> | undefined, timestamp: string, available?: number): MutableReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default', uid: `${name}-uid`, creationTimestamp: timestamp },
    spec: { replicas, selector: { matchLabels: { ...(selector ?? {}) } }, template: {} },
    ...(available !== undefined ? { status: { replicas, availableReplicas: available, readyReplicas: available } } : {}),
  };
}

export type Action =
  | { verb: 'create' | 'update'; resource: 'replicasets'; obj: ReplicaSet }
  | { verb: 'delete'; resource: 'replicasets'; name: string }
  | { verb: 'update' | 'updateStatus'; resource: 'deployments'; obj: Deployment };

export interface RecordedEvent {
  type: string;
  reason: string;
  message: string;
}

/** API writes recorded in order; creates and updates succeed unless `fail` says otherwise. */
export class FakeOps implements DeploymentOps {
  readonly actions: Action[] = [];
  readonly cache = new Map<string, ReplicaSet>();
  private rv = 100;
  /** Throw this error for a matching write instead of succeeding. */
  fail: ((a: Action) => ApiError | undefined) | undefined;

  private record<T>(a: Action, result: T): Promise<T> {
    this.actions.push(a);
    const err = this.fail?.(a);
    return err ? Promise.reject(err) : Promise.resolve(result);
  }

  private bump<T extends { metadata?: object }>(obj: T): T {
    const copy = structuredClone(obj);
    copy.metadata = { ...copy.metadata, resourceVersion: String(++this.rv) };
    return copy;
  }

  createReplicaSet(rs: ReplicaSet): Promise<ReplicaSet> {
    const created = this.bump(rs);
    created.metadata = { ...created.metadata, uid: `${rs.metadata?.name ?? ''}-uid`, creationTimestamp: '2026-01-01T00:00:00Z' };
    return this.record({ verb: 'create', resource: 'replicasets', obj: structuredClone(rs) }, created);
  }
  updateReplicaSet(rs: ReplicaSet): Promise<ReplicaSet> {
    return this.record({ verb: 'update', resource: 'replicasets', obj: structuredClone(rs) }, this.bump(rs));
  }
  deleteReplicaSet(_namespace: string, name: string): Promise<void> {
    return this.record({ verb: 'delete', resource: 'replicasets', name }, undefined);
  }
  cachedReplicaSet(namespace: string, name: string): ReplicaSet | undefined {
    return this.cache.get(`${namespace}/${name}`);
  }
  updateDeployment(d: Deployment): Promise<Deployment> {
    return this.record({ verb: 'update', resource: 'deployments', obj: structuredClone(d) }, this.bump(d));
  }
  updateDeploymentStatus(d: Deployment): Promise<Deployment> {
    return this.record({ verb: 'updateStatus', resource: 'deployments', obj: structuredClone(d) }, this.bump(d));
  }

  rsUpdates(): ReplicaSet[] {
    return this.actions.flatMap((a) => (a.resource === 'replicasets' && a.verb === 'update' ? [a.obj] : []));
  }
  statusUpdates(): Deployment[] {
    return this.actions.flatMap((a) => (a.resource === 'deployments' && a.verb === 'updateStatus' ? [a.obj] : []));
  }
}

export class FakeRecorder implements EventSink {
  readonly events: RecordedEvent[] = [];
  event(_obj: ObjectLike, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.push({ type, reason, message });
  }
}

export interface Harness {
  syncer: DeploymentSyncer;
  ops: FakeOps;
  recorder: FakeRecorder;
  clock: FakeClock;
  requeued: { after: number }[];
}

export function harness(startMs = Date.parse('2026-01-01T00:00:00Z')): Harness {
  const ops = new FakeOps();
  const recorder = new FakeRecorder();
  const clock = new FakeClock(startMs);
  const requeued: { after: number }[] = [];
  const deps: SyncDeps = {
    ops,
    recorder,
    clock,
    enqueueAfter: (_d, ms) => requeued.push({ after: ms }),
    enqueueRateLimited: () => requeued.push({ after: 0 }),
  };
  return { syncer: new DeploymentSyncer(deps), ops, recorder, clock, requeued };
}

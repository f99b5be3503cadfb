// Upstream's canAdmitPod as HandlePodAdditions runs it: each pod new to the kubelet goes through the admit handlers in
// order (eviction, sysctls, predicates) against the pods admitted before it that are still active; the first refusal
// wins. Decisions are made one at a time. At start (also after a restart) the pods already bound to the node are
// admitted first, in creation order, each against the ones before it, so pods that ran before keep running as long
// as they still fit; only then are other pods decided, in the order they ask.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { AdmitResult } from './types.js';

/** One admit handler: the pod and the active pods admitted before it. */
export type PodAdmitHandler = (pod: Pod, otherPods: readonly Pod[]) => AdmitResult | Promise<AdmitResult>;

export interface PodAdmitterOptions {
  handlers: readonly PodAdmitHandler[];
  /** The pod with this UID as the kubelet knows it now (with its own status), or undefined once it is gone. */
  current(uid: string): Pod | undefined;
}

const uidOf = (pod: Pod) => pod.metadata?.uid ?? '';
const terminal = (pod: Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
const createdAt = (pod: Pod) => {
  const t = pod.metadata?.creationTimestamp ? Date.parse(pod.metadata.creationTimestamp) : NaN;
  return Number.isNaN(t) ? 0 : t;
};

/** Upstream's PodsByCreationTime (stable for pods created in the same second). */
export const byCreationTime = (pods: readonly Pod[]): Pod[] => [...pods].sort((a, b) => createdAt(a) - createdAt(b));

export class PodAdmitter {
  private readonly decisions = new Map<string, Promise<AdmitResult>>();
  /** Pods admitted (they hold the node's resources and ports while active). */
  private readonly admitted = new Map<string, Pod>();
  private last: Promise<unknown> = Promise.resolve();
  private openGate: () => void = () => undefined;
  private readonly gate = new Promise<void>((resolve) => (this.openGate = resolve));

  constructor(private readonly o: PodAdmitterOptions) {}

  /** Admitted pods still active (not finished, still known): what a new pod must fit beside. */
  activePods(): Pod[] {
    const out: Pod[] = [];
    for (const uid of [...this.admitted.keys()]) {
      const pod = this.o.current(uid);
      if (!pod) this.admitted.delete(uid);
      else if (!terminal(pod)) out.push(pod);
    }
    return out;
  }

  /**
   * The pods bound to the node when the kubelet starts, in creation order, each against those before it; finished
   * pods are not admitted, pods being deleted keep their place. Other pods' decisions wait for this.
   */
  async admitExisting(pods: readonly Pod[]): Promise<void> {
    try {
      for (const pod of byCreationTime(pods)) {
        if (terminal(pod) || this.decisions.has(uidOf(pod))) continue;
        if (pod.metadata?.deletionTimestamp) {
          this.admitted.set(uidOf(pod), pod);
          continue;
        }
        await this.decide(pod);
      }
    } finally {
      this.openGate();
    }
  }

  /** The decision for `pod` (made once per UID, after the pods before it). */
  async admit(pod: Pod): Promise<AdmitResult> {
    await this.gate;
    return this.decide(pod);
  }

  private decide(pod: Pod): Promise<AdmitResult> {
    const uid = uidOf(pod);
    let d = this.decisions.get(uid);
    if (!d) {
      d = this.last.then(() => this.run(pod));
      this.last = d.catch(() => undefined);
      this.decisions.set(uid, d);
    }
    return d;
  }

  private async run(pod: Pod): Promise<AdmitResult> {
    const uid = uidOf(pod);
    const others = this.activePods().filter((p) => uidOf(p) !== uid);
    for (const handler of this.o.handlers) {
      let result: AdmitResult;
      try {
        result = await handler(pod, others);
      } catch (err) {
        result = { admit: false, reason: 'UnexpectedAdmissionError', message: `Unexpected error while admitting the pod: ${(err as Error).message}` };
      }
      if (!result.admit) return result;
    }
    this.admitted.set(uid, pod);
    return { admit: true };
  }

  /** A pod that stops holding the node's resources before it is finished (preempted for a critical pod). */
  release(uid: string): void {
    this.admitted.delete(uid);
  }

  /** The pod is gone: its decision goes too. */
  forget(uid: string): void {
    this.admitted.delete(uid);
    this.decisions.delete(uid);
  }
}

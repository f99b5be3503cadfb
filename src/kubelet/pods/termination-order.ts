// The order in which a pod's containers stop, as upstream's kubelet enforces it for native sidecars: every container
// is asked to stop at once, but a sidecar (an init container with restartPolicy Always) waits for every app container
// to have stopped and for the sidecars declared after it, so sidecars stop after the app and in reverse order. A wait
// never lasts past the container's grace period; the time it took comes off that grace.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Clock } from '../../client/index.js';
import { isSidecar } from './status.js';

interface Gate {
  done: Promise<void>;
  open: () => void;
}

function gate(): Gate {
  let open!: () => void;
  const done = new Promise<void>((r) => (open = r));
  return { done, open };
}

export class TerminationOrdering {
  /** Per container name: opened once that container stopped (at once for containers that are not running). */
  private readonly stopped = new Map<string, Gate>();
  /** Per sidecar name: the containers that must stop first. */
  private readonly prereqs = new Map<string, Promise<void>[]>();

  constructor(
    pod: Pod,
    runningNames: ReadonlySet<string>,
    private readonly clock: Clock,
  ) {
    const add = (name: string): Gate => {
      const g = gate();
      this.stopped.set(name, g);
      if (!runningNames.has(name)) g.open();
      return g;
    };
    const app = (pod.spec?.containers ?? []).map((c) => add(c.name).done);
    let later: Promise<void> | undefined;
    for (const c of [...(pod.spec?.initContainers ?? [])].reverse()) {
      const g = add(c.name);
      if (!isSidecar(c)) continue;
      this.prereqs.set(c.name, later ? [...app, later] : app);
      later = g.done;
    }
  }

  /**
   * Waits until container `name` may stop, at most `graceSeconds` (no wait without a grace period); returns the whole
   * seconds waited (upstream truncates them), to come off the grace.
   */
  async waitForTurn(name: string, graceSeconds: number): Promise<number> {
    const prereqs = this.prereqs.get(name);
    if (graceSeconds <= 0 || !prereqs?.length) return 0;
    const start = this.clock.now();
    const abort = new AbortController();
    await Promise.race([Promise.all(prereqs), this.clock.sleep(graceSeconds * 1000, abort.signal)]);
    abort.abort();
    return Math.floor((this.clock.now() - start) / 1000);
  }

  /** Container `name` stopped: those waiting for it may go. */
  terminated(name: string): void {
    this.stopped.get(name)?.open();
  }
}

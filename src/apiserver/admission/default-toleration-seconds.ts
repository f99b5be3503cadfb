// Upstream's DefaultTolerationSeconds admission: a pod that does not tolerate the node.kubernetes.io/not-ready and
// node.kubernetes.io/unreachable NoExecute taints gets tolerations for them, bounded by
// --default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds (300 s each), so that its
// pods leave a failed node after five minutes.
import type { AdmissionAttributes, MutatingAdmission } from './types.js';

export const DEFAULT_TOLERATION_SECONDS = 300;

interface TolerationLike {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export class DefaultTolerationSeconds implements MutatingAdmission {
  readonly name = 'DefaultTolerationSeconds';

  constructor(
    private readonly notReadySeconds = DEFAULT_TOLERATION_SECONDS,
    private readonly unreachableSeconds = DEFAULT_TOLERATION_SECONDS,
  ) {}

  async admit(a: AdmissionAttributes): Promise<void> {
    if (a.group !== '' || a.resource !== 'pods' || a.subresource !== '' || !a.object) return;
    if (a.operation !== 'CREATE' && a.operation !== 'UPDATE') return;
    const spec = (a.object.spec ?? {}) as { tolerations?: TolerationLike[] };
    const tolerations = Array.isArray(spec.tolerations) ? spec.tolerations : [];
    // An empty key (with Exists) or an empty effect covers the taint too.
    const covers = (t: TolerationLike, key: string) => (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect);
    const add: TolerationLike[] = [];
    if (!tolerations.some((t) => covers(t, 'node.kubernetes.io/not-ready'))) {
      add.push({ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: this.notReadySeconds });
    }
    if (!tolerations.some((t) => covers(t, 'node.kubernetes.io/unreachable'))) {
      add.push({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: this.unreachableSeconds });
    }
    if (add.length === 0) return;
    a.object.spec = { ...spec, tolerations: [...tolerations, ...add] };
  }
}

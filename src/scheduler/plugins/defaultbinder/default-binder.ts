// DefaultBinder: binds the pod through the API's pods/binding subresource (the server sets spec.nodeName and
// PodScheduled=True).
import type { Binding, Pod } from 'kubernetes-types/core/v1.js';
import type { CycleState } from '../../framework/cycle-state.js';
import type { BindPlugin } from '../../framework/interfaces.js';
import { Status } from '../../framework/status.js';

export const DEFAULT_BINDER = 'DefaultBinder';

/** Creates the Binding (POST pods/<name>/binding); rejects when the API refuses. */
export type BindFunc = (binding: Binding) => Promise<void>;

/** The Binding upstream's binder posts for `pod` onto `nodeName`. */
export function bindingFor(pod: Pod, nodeName: string): Binding {
  const m = pod.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Binding',
    metadata: { name: m.name, namespace: m.namespace, ...(m.uid ? { uid: m.uid } : {}) },
    target: { kind: 'Node', name: nodeName },
  };
}

export class DefaultBinder implements BindPlugin {
  readonly name = DEFAULT_BINDER;

  constructor(private readonly bindFn: BindFunc) {}

  async bind(_state: CycleState, pod: Pod, nodeName: string): Promise<Status> {
    try {
      await this.bindFn(bindingFor(pod, nodeName));
      return Status.success();
    } catch (err) {
      return Status.fromError(err);
    }
  }
}

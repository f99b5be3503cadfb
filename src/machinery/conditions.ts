// metav1.Condition bookkeeping as apimachinery's meta.SetStatusCondition does it: replace the condition of the same
// type, moving lastTransitionTime only when the status changes.

export interface MetaCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

/** The conditions with `cond` set (its type replaced or appended); `now` stamps a new or changed status. */
export function setStatusCondition<C extends MetaCondition>(conditions: readonly C[] | undefined, cond: Omit<C, 'lastTransitionTime'>, now: string): C[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === cond.type);
  const old = i >= 0 ? list[i] : undefined;
  const next = { ...cond, lastTransitionTime: old && old.status === cond.status ? old.lastTransitionTime : now } as C;
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

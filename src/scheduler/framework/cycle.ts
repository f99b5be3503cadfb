// The extension points around the scheduling decision, run as upstream's frameworkImpl runs them: PreEnqueue and
// QueueSort for the queue, PostFilter after a FitError, then Reserve, Permit, PreBind, Bind and PostBind.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { CycleState } from './cycle-state.js';
import type { PostFilterResult, QueuedPodInfo } from './interfaces.js';
import type { Profile } from './profile.js';
import type { FitError } from './schedule.js';
import { Code, Status } from './status.js';

/** Upstream's maxTimeout for a Permit plugin's wait. */
export const MAX_PERMIT_TIMEOUT_MS = 15 * 60 * 1000;

function wrap(point: string, plugin: string, s: Status): Status {
  return Status.fromError(new Error(`running ${point} plugin ${JSON.stringify(plugin)}: ${s.message()}`)).withPlugin(plugin);
}

/** Every PreEnqueue plugin must let the pod into the active queue; the first refusal is returned. */
export function runPreEnqueuePlugins(profile: Profile, pod: Pod): Status {
  for (const pl of profile.plugins.preEnqueue) {
    const s = pl.preEnqueue(pod);
    if (!s || s.isSuccess()) continue;
    if (s.isRejected()) return s.withPlugin(pl.name);
    return wrap('PreEnqueue', pl.name, s);
  }
  return Status.success();
}

/** The profile's queue order (its QueueSort plugin), as a comparator for sorting. */
export function queueSortComparator(profile: Profile): (a: QueuedPodInfo, b: QueuedPodInfo) => number {
  const pl = profile.plugins.queueSort[0];
  if (!pl) throw new Error('no queue sort plugin is enabled');
  return (a, b) => (pl.less(a, b) ? -1 : pl.less(b, a) ? 1 : 0);
}

/**
 * PostFilter (preemption) after no node fit. The first success or unresolvable status ends the run; otherwise the
 * reasons are joined. The status message goes into the FitError's text, as upstream's PostFilterMsg.
 */
export function runPostFilterPlugins(profile: Profile, state: CycleState, pod: Pod, fitError: FitError): { result?: PostFilterResult; status: Status } {
  let result: PostFilterResult | undefined;
  const reasons: string[] = [];
  let rejector = '';
  let final: Status | undefined;
  for (const pl of profile.plugins.postFilter) {
    const out = pl.postFilter(state, pod, fitError.diagnosis.nodeToStatus, profile);
    const s = out.status ?? Status.success();
    if (s.isSuccess()) return { ...(out.result ? { result: out.result } : {}), status: s };
    if (s.code === Code.UnschedulableAndUnresolvable) {
      final = s.withPlugin(pl.name);
      break;
    }
    if (!s.isRejected()) return { status: Status.fromError(s.asError()).withPlugin(pl.name) };
    if (out.result) result = out.result;
    reasons.push(...s.reasons);
    rejector ||= pl.name;
  }
  const status = final ?? new Status(Code.Unschedulable, reasons).withPlugin(rejector);
  fitError.setPostFilterMessage(status.message());
  return { ...(result ? { result } : {}), status };
}

/** Reserve in order; a failure should be followed by runUnreservePlugins. */
export function runReservePlugins(profile: Profile, state: CycleState, pod: Pod, nodeName: string): Status {
  for (const pl of profile.plugins.reserve) {
    const s = pl.reserve(state, pod, nodeName);
    if (!s || s.isSuccess()) continue;
    if (s.isRejected()) return s.withPlugin(pl.name);
    return wrap('Reserve', pl.name, s);
  }
  return Status.success();
}

/** Unreserve runs in reverse order and cannot fail. */
export function runUnreservePlugins(profile: Profile, state: CycleState, pod: Pod, nodeName: string): void {
  for (const pl of [...profile.plugins.reserve].reverse()) pl.unreserve(state, pod, nodeName);
}

/**
 * Permit: a rejection ends the run; Wait from any plugin (and no rejection) makes the result Wait, with the wait
 * per plugin capped at 15 minutes.
 */
export function runPermitPlugins(profile: Profile, state: CycleState, pod: Pod, nodeName: string): { status: Status; waits: Map<string, number> } {
  const waits = new Map<string, number>();
  for (const pl of profile.plugins.permit) {
    const { status: s, timeoutMs } = pl.permit(state, pod, nodeName);
    if (!s || s.isSuccess()) continue;
    if (s.isRejected()) return { status: s.withPlugin(pl.name), waits };
    if (s.isWait()) {
      waits.set(pl.name, Math.min(timeoutMs ?? MAX_PERMIT_TIMEOUT_MS, MAX_PERMIT_TIMEOUT_MS));
      continue;
    }
    return { status: wrap('Permit', pl.name, s), waits };
  }
  if (waits.size) return { status: new Status(Code.Wait, ['one or more plugins asked to wait and no plugin rejected pod']), waits };
  return { status: Status.success(), waits };
}

export async function runPreBindPlugins(profile: Profile, state: CycleState, pod: Pod, nodeName: string): Promise<Status> {
  for (const pl of profile.plugins.preBind) {
    const s = await pl.preBind(state, pod, nodeName);
    if (!s || s.isSuccess()) continue;
    if (s.isRejected()) return s.withPlugin(pl.name);
    return wrap('PreBind', pl.name, s);
  }
  return Status.success();
}

/** The first bind plugin that does not Skip binds the pod; Skip from all of them (or none enabled) is Skip. */
export async function runBindPlugins(profile: Profile, state: CycleState, pod: Pod, nodeName: string): Promise<Status> {
  for (const pl of profile.plugins.bind) {
    const s = (await pl.bind(state, pod, nodeName)) ?? Status.success();
    if (s.isSkip()) continue;
    if (s.isSuccess()) return s;
    if (s.isRejected()) return s.withPlugin(pl.name);
    return wrap('Bind', pl.name, s);
  }
  return Status.skip();
}

export function runPostBindPlugins(profile: Profile, state: CycleState, pod: Pod, nodeName: string): void {
  for (const pl of profile.plugins.postBind) pl.postBind(state, pod, nodeName);
}

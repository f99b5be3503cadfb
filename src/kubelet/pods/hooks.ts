// Lifecycle hooks (postStart, preStop) as upstream's kubelet runs them: exec in the container through CRI ExecSync,
// httpGet to the pod IP (any answer counts; only a failed request is an error), or sleep. The result is an error
// message in upstream's words, or undefined when the hook succeeded.
import type { Container, LifecycleHandler, Pod } from 'kubernetes-types/core/v1.js';
import { KUBERNETES_MAJOR, KUBERNETES_MINOR } from '../../apiserver/version.js';
import type { Clock } from '../../client/index.js';
import { httpGet, httpGetURL, type ExecFn } from '../prober/actions.js';

export interface HookContext {
  pod: Pod;
  container: Container;
  containerId: string;
  podIP: string;
  exec: ExecFn;
  clock: Clock;
  /** The hook is abandoned after this long (preStop: the grace period). */
  timeoutMs: number;
}

const podName = (pod: Pod) => `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`;

/** Runs a hook; resolves with upstream's failure message, or undefined on success (or when it ran out of time). */
export async function runHook(h: LifecycleHandler, ctx: HookContext): Promise<string | undefined> {
  const { pod, container } = ctx;
  if (h.exec) {
    const cmd = h.exec.command ?? [];
    try {
      const r = await ctx.exec(ctx.containerId, cmd, 0);
      if (r.exitCode === 0) return undefined;
      const output = Buffer.concat([r.stdout, r.stderr]).toString();
      return `Exec lifecycle hook ([${cmd.join(' ')}]) for Container ${JSON.stringify(container.name)} in Pod ${JSON.stringify(podName(pod))} failed - error: command '${cmd.join(' ')}' exited with ${r.exitCode}: ${r.stderr.toString()}, message: ${JSON.stringify(output)}`;
    } catch (err) {
      return `Exec lifecycle hook ([${cmd.join(' ')}]) for Container ${JSON.stringify(container.name)} in Pod ${JSON.stringify(podName(pod))} failed - error: ${(err as Error).message}, message: ""`;
    }
  }
  if (h.httpGet) {
    const action = { ...h.httpGet, port: h.httpGet.port || 80 };
    try {
      const url = httpGetURL(action, ctx.podIP, container);
      const headers: Record<string, string> = { 'User-Agent': `kube-lifecycle/${KUBERNETES_MAJOR}.${KUBERNETES_MINOR}` };
      for (const x of h.httpGet.httpHeaders ?? []) headers[x.name] = x.value;
      await httpGet(url, headers, ctx.timeoutMs, true);
      return undefined;
    } catch (err) {
      return `HTTP lifecycle hook (${h.httpGet.path ?? ''}) for Container ${JSON.stringify(container.name)} in Pod ${JSON.stringify(podName(pod))} failed - error: ${(err as Error).message}`;
    }
  }
  if (h.sleep) {
    await ctx.clock.sleep(Math.min(h.sleep.seconds * 1000, ctx.timeoutMs));
    return undefined;
  }
  return `Cannot run handler: invalid handler: ${JSON.stringify(h)}`;
}

/** Runs `hook` but gives up waiting after `timeoutMs`; resolves with its error message, if any. */
export async function runHookWithin(h: LifecycleHandler, ctx: HookContext): Promise<string | undefined> {
  let timer: { cancel(): void } | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = ctx.clock.setTimer(() => resolve(undefined), ctx.timeoutMs)));
  try {
    return await Promise.race([runHook(h, ctx), timeout]);
  } finally {
    timer?.cancel();
  }
}

// Upstream's PodControl: pods made from a controller's template (labels, annotations, finalizers and spec copied,
// generateName "<owner>-", the controller reference attached) and created or deleted with the events upstream records
// on the controller: SuccessfulCreate / FailedCreate / SuccessfulDelete / FailedDelete.
import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { deepClone } from '../../api/object.js';
import { isApiError, isNotFound } from '../../machinery/errors.js';
import { isDNS1123Subdomain } from '../../machinery/validation.js';
import type { EventType, ObjectLike, ResourceClient } from '../../client/index.js';

/** Where controllers record their events (CoreEventRecorder fits). */
export interface EventSink {
  event(obj: ObjectLike, type: EventType, reason: string, message: string): void;
}

export const SUCCESSFUL_CREATE_POD_REASON = 'SuccessfulCreate';
export const FAILED_CREATE_POD_REASON = 'FailedCreate';
export const SUCCESSFUL_DELETE_POD_REASON = 'SuccessfulDelete';
export const FAILED_DELETE_POD_REASON = 'FailedDelete';

/** The status cause the API server attaches when a namespace is terminating. */
export const NAMESPACE_TERMINATING_CAUSE = 'NamespaceTerminating';

/** getPodsPrefix: "<name>-" unless that would not be a valid generateName, then the name alone. */
export function podNamePrefix(controllerName: string): string {
  // NameIsDNSSubdomain(prefix, true) masks the trailing dash before validating.
  return isDNS1123Subdomain(`${controllerName}a`).length === 0 ? `${controllerName}-` : controllerName;
}

/** GetPodFromTemplate: a new pod (no name, generateName set) from a template, owned by `controllerRef`. */
export function podFromTemplate(template: PodTemplateSpec, parent: ObjectLike, controllerRef?: OwnerReference): Pod {
  const tm = template.metadata ?? {};
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: podNamePrefix(parent.metadata?.name ?? ''),
      ...(parent.metadata?.namespace ? { namespace: parent.metadata.namespace } : {}),
      labels: { ...(tm.labels ?? {}) },
      annotations: { ...(tm.annotations ?? {}) },
      ...(tm.finalizers?.length ? { finalizers: [...tm.finalizers] } : {}),
      ...(controllerRef ? { ownerReferences: [{ ...controllerRef }] } : {}),
    },
    spec: deepClone(template.spec ?? { containers: [] }),
  };
  return pod;
}

export function hasStatusCause(err: unknown, type: string): boolean {
  // StatusCause.Type travels as "reason" in JSON.
  return isApiError(err) && (err.status.details?.causes ?? []).some((c) => c.reason === type);
}

export class PodControl {
  constructor(
    private readonly pods: ResourceClient<Pod>,
    private readonly recorder: EventSink,
  ) {}

  /** Create one pod from the template; records SuccessfulCreate or FailedCreate on `parent`. */
  async createPod(namespace: string, template: PodTemplateSpec, parent: ObjectLike, controllerRef: OwnerReference, generateName?: string): Promise<Pod> {
    const pod = podFromTemplate(template, parent, controllerRef);
    if (generateName) (pod.metadata as { generateName?: string }).generateName = generateName;
    if (Object.keys(pod.metadata?.labels ?? {}).length === 0) throw new Error('unable to create pods, no labels');
    let created: Pod;
    try {
      created = await this.pods.create(pod, { namespace });
    } catch (err) {
      // A terminating namespace refuses every creation: not worth an event.
      if (!hasStatusCause(err, NAMESPACE_TERMINATING_CAUSE)) {
        this.recorder.event(parent, 'Warning', FAILED_CREATE_POD_REASON, `Error creating: ${err instanceof Error ? err.message : String(err)}`);
      }
      throw err;
    }
    this.recorder.event(parent, 'Normal', SUCCESSFUL_CREATE_POD_REASON, `Created pod: ${created.metadata?.name ?? ''}`);
    return created;
  }

  /** Delete one pod; records SuccessfulDelete or FailedDelete on `parent`. NotFound is rethrown without an event. */
  async deletePod(namespace: string, name: string, parent: ObjectLike): Promise<void> {
    try {
      await this.pods.delete(name, { namespace });
    } catch (err) {
      if (!isNotFound(err)) this.recorder.event(parent, 'Warning', FAILED_DELETE_POD_REASON, `Error deleting: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
    this.recorder.event(parent, 'Normal', SUCCESSFUL_DELETE_POD_REASON, `Deleted pod: ${name}`);
  }
}

// Upstream's NamespaceLifecycle admission: objects can only be created in namespaces that exist and are not being
// terminated, and the system namespaces cannot be deleted.
import type { KubeObject } from '../../api/object.js';
import { ApiError } from '../../machinery/errors.js';
import type { AdmissionAttributes, MutatingAdmission } from './types.js';

/** Namespaces the cluster needs; deleting them is refused. */
export const IMMORTAL_NAMESPACES = ['default', 'kube-system', 'kube-public'];

/** Kinds that may be created in a terminating namespace (so controllers can record what they did while cleaning up). */
const ALLOWED_WHILE_TERMINATING = new Set(['/events', 'events.k8s.io/events', 'authorization.k8s.io/localsubjectaccessreviews']);

export class NamespaceLifecycle implements MutatingAdmission {
  readonly name = 'NamespaceLifecycle';
  constructor(private readonly getNamespace: (name: string) => Promise<KubeObject | undefined>) {}

  // Runs in the mutating phase, as upstream, so a missing namespace is 404 before any validation error.
  async admit(a: AdmissionAttributes): Promise<void> {
    if (a.group === '' && a.resource === 'namespaces') {
      if (a.operation === 'DELETE' && IMMORTAL_NAMESPACES.includes(a.name)) {
        throw ApiError.forbidden('', 'namespaces', a.name, 'this namespace may not be deleted');
      }
      return;
    }
    if (a.operation !== 'CREATE' || !a.namespace) return;
    const ns = await this.getNamespace(a.namespace);
    if (!ns) throw ApiError.notFound('', 'namespaces', a.namespace);
    const phase = (ns.status as { phase?: string } | undefined)?.phase;
    if ((phase === 'Terminating' || ns.metadata.deletionTimestamp) && !ALLOWED_WHILE_TERMINATING.has(`${a.group}/${a.resource}`)) {
      throw ApiError.forbidden(
        a.group,
        a.resource,
        a.name,
        `unable to create new content in namespace ${a.namespace} because it is being terminated`,
      );
    }
  }
}

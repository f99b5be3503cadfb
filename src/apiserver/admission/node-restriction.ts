// Upstream's NodeRestriction admission, for requests made with a node's credentials (user system:node:<name>, group
// system:nodes): a node may create, modify and delete only its own Node object (not its taints once registered, nor
// node-restriction.kubernetes.io/ labels), only its own Lease in kube-node-lease, and only the status of pods bound
// to it; it may delete only pods bound to it and create only mirror pods (of its static pods) bound to itself.
import { ApiError } from '../../machinery/errors.js';
import type { KubeObject } from '../../api/object.js';
import { nodeIdentity } from '../auth/node.js';
import type { AdmissionAttributes, ValidatingAdmission } from './types.js';

const RESTRICTED_LABEL_PREFIX = 'node-restriction.kubernetes.io/';

const taintsOf = (o: KubeObject | undefined) => JSON.stringify((o?.spec as { taints?: unknown[] } | undefined)?.taints ?? []);
const nodeNameOf = (o: KubeObject | undefined) => (o?.spec as { nodeName?: string } | undefined)?.nodeName ?? '';

export class NodeRestriction implements ValidatingAdmission {
  readonly name = 'NodeRestriction';

  async validate(a: AdmissionAttributes): Promise<void> {
    const node = nodeIdentity(a.user);
    if (node === undefined) return;
    const forbid = (msg: string) => {
      throw ApiError.forbidden(a.group, a.resource, a.name, msg);
    };
    if (a.group === '' && a.resource === 'nodes') {
      const target = a.name || a.object?.metadata.name || '';
      if (target !== node) forbid(`node "${node}" is not allowed to modify node "${target}"`);
      if (a.operation === 'CREATE' || a.operation === 'UPDATE') {
        const labels = Object.keys(a.object?.metadata.labels ?? {}).filter((k) => k.startsWith(RESTRICTED_LABEL_PREFIX));
        const oldLabels = a.oldObject?.metadata.labels ?? {};
        const added = labels.filter((k) => oldLabels[k] !== a.object?.metadata.labels?.[k]);
        if (added.length) forbid(`is not allowed to modify labels: ${added.join(', ')}`);
      }
      if (a.operation === 'UPDATE' && a.subresource === '' && taintsOf(a.object) !== taintsOf(a.oldObject)) {
        forbid(`node "${node}" is not allowed to modify taints`);
      }
      return;
    }
    if (a.group === 'coordination.k8s.io' && a.resource === 'leases') {
      const target = a.name || a.object?.metadata.name || '';
      if (a.namespace !== 'kube-node-lease' || target !== node) forbid('can only access node lease with the same name as the requesting node');
      return;
    }
    if (a.group === '' && a.resource === 'pods') {
      if (a.operation === 'CREATE' && a.subresource === '') {
        const mirror = a.object?.metadata.annotations?.['kubernetes.io/config.mirror'] !== undefined;
        if (!mirror) forbid(`pod does not have "kubernetes.io/config.mirror" annotation, node "${node}" can only create mirror pods`);
        if (nodeNameOf(a.object) !== node) forbid(`node "${node}" can only create pods with spec.nodeName set to itself`);
      }
      if (a.operation === 'UPDATE' && a.subresource === 'status' && nodeNameOf(a.oldObject) !== node) {
        forbid(`node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
      }
      if (a.operation === 'DELETE' && nodeNameOf(a.oldObject) !== node) forbid(`node "${node}" can only delete pods with spec.nodeName set to itself`);
    }
  }
}

// Nodes as API users: a node's client certificate names user system:node:<name> in group system:nodes. What a node
// may write follows upstream's system:node ClusterRole (nodes, their status, mirror pods, pod status and evictions,
// events, Leases, service account tokens, PVC status, CSRs, reviews, CSINodes, ResourceSlices); any other write by a
// node is denied. Reads are left to the next authorizer (upstream's Node authorizer narrows secrets, configmaps and
// volumes to those of the node's pods: not built). Which objects a node may write is NodeRestriction admission's
// business (admission/node-restriction.ts).
import type { UserInfo } from './user.js';
import type { AuthorizationAttributes, AuthorizationResult, Authorizer } from './authorizer.js';

export const NODES_GROUP = 'system:nodes';
export const NODE_USER_PREFIX = 'system:node:';

/** The node a user acts as, when the user is a node (upstream's NodeIdentifier). */
export function nodeIdentity(user: UserInfo): string | undefined {
  if (!user.groups.includes(NODES_GROUP) || !user.name.startsWith(NODE_USER_PREFIX)) return undefined;
  const name = user.name.slice(NODE_USER_PREFIX.length);
  return name === '' ? undefined : name;
}

const READS = new Set(['get', 'list', 'watch']);
const WRITE = ['create', 'update', 'patch', 'delete'];
const UPDATE = ['update', 'patch'];
const EVENT = ['create', 'update', 'patch'];

/** group/resource[/subresource] → the write verbs upstream's system:node role grants. */
const NODE_WRITES: ReadonlyMap<string, readonly string[]> = new Map([
  ['/nodes', WRITE],
  ['/nodes/status', UPDATE],
  ['/pods', ['create', 'delete']],
  ['/pods/status', UPDATE],
  ['/pods/eviction', ['create']],
  ['/events', EVENT],
  ['events.k8s.io/events', EVENT],
  ['coordination.k8s.io/leases', WRITE],
  ['/serviceaccounts/token', ['create']],
  ['/persistentvolumeclaims/status', UPDATE],
  ['certificates.k8s.io/certificatesigningrequests', ['create']],
  ['authentication.k8s.io/tokenreviews', ['create']],
  ['authorization.k8s.io/subjectaccessreviews', ['create']],
  ['authorization.k8s.io/localsubjectaccessreviews', ['create']],
  ['storage.k8s.io/csinodes', WRITE],
  ['resource.k8s.io/resourceslices', [...WRITE, 'deletecollection']],
]);

export class NodeAuthorizer implements Authorizer {
  authorize(attrs: AuthorizationAttributes): AuthorizationResult {
    if (!attrs.isResourceRequest || READS.has(attrs.verb) || nodeIdentity(attrs.user) === undefined) return { decision: 'no-opinion' };
    const key = `${attrs.apiGroup}/${attrs.resource}${attrs.subresource ? `/${attrs.subresource}` : ''}`;
    return NODE_WRITES.get(key)?.includes(attrs.verb) ? { decision: 'allow' } : { decision: 'deny' };
  }
}

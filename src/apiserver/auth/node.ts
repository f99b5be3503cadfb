// Nodes as API users: a node's client certificate names user system:node:<name> in group system:nodes. Upstream's
// Node authorizer with its static node rules (those of the system:node role): a node reads Secrets, ConfigMaps,
// PersistentVolumeClaims and PersistentVolumes only when a pod bound to it references them (the graph in
// node-graph.ts), creates tokens only for its pods' service accounts, gets only its own pods and lists or watches pods
// only with the field selector spec.nodeName=<itself> (AuthorizeNodeWithSelectors), touches only its own Lease and
// CSINode, and otherwise reads and writes what the node rules grant. Like upstream's it never denies: anything else
// gets no opinion (with the reason) and RBAC decides (e.g. system:basic-user's reviews for every authenticated user).
// Which objects a node may write is NodeRestriction admission's business (admission/node-restriction.ts).
import type { UserInfo } from './user.js';
import type { AuthorizationAttributes, AuthorizationResult, Authorizer } from './authorizer.js';
import type { GraphVertexType, NodeGraph } from './node-graph.js';

export const NODES_GROUP = 'system:nodes';
export const NODE_USER_PREFIX = 'system:node:';

/** The node a user acts as, when the user is a node (upstream's NodeIdentifier). */
export function nodeIdentity(user: UserInfo): string | undefined {
  if (!user.groups.includes(NODES_GROUP) || !user.name.startsWith(NODE_USER_PREFIX)) return undefined;
  const name = user.name.slice(NODE_USER_PREFIX.length);
  return name === '' ? undefined : name;
}

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete'];
const UPDATE = ['update', 'patch'];
const EVENT = ['create', 'update', 'patch'];
const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** group/resource[/subresource] → the verbs upstream's system:node role grants (the graph narrows some further). */
const NODE_RULES: ReadonlyMap<string, readonly string[]> = new Map([
  ['/nodes', [...READ, ...WRITE]],
  ['/nodes/status', UPDATE],
  ['/pods', [...READ, 'create', 'delete']],
  ['/pods/status', UPDATE],
  ['/pods/eviction', ['create']],
  ['/services', READ],
  ['/endpoints', ['get']],
  ['/events', EVENT],
  ['events.k8s.io/events', EVENT],
  ['/secrets', READ],
  ['/configmaps', READ],
  ['/persistentvolumeclaims', ['get']],
  ['/persistentvolumeclaims/status', ['get', ...UPDATE]],
  ['/persistentvolumes', ['get']],
  ['coordination.k8s.io/leases', ['get', ...WRITE]],
  ['/serviceaccounts/token', ['create']],
  ['certificates.k8s.io/certificatesigningrequests', ['create', ...READ]],
  ['authentication.k8s.io/tokenreviews', ['create']],
  ['authentication.k8s.io/selfsubjectreviews', ['create']],
  ['authorization.k8s.io/subjectaccessreviews', ['create']],
  ['authorization.k8s.io/localsubjectaccessreviews', ['create']],
  ['storage.k8s.io/csinodes', ['get', ...WRITE]],
  ['storage.k8s.io/csidrivers', READ],
  ['storage.k8s.io/volumeattachments', ['get']],
  ['node.k8s.io/runtimeclasses', READ],
  ['resource.k8s.io/resourceclaims', ['get']],
  ['resource.k8s.io/resourceslices', [...READ, ...WRITE, 'deletecollection']],
]);

type Result = AuthorizationResult;
const allow: Result = { decision: 'allow' };
/** Not allowed by the node authorizer; the next authorizer may still allow it. */
const notAllowed = (reason?: string): Result => ({ decision: 'no-opinion', ...(reason ? { reason } : {}) });

export class NodeAuthorizer implements Authorizer {
  /** Without a graph (no API server behind this one) reads are left to the next authorizer, writes as the role says. */
  constructor(private readonly graph?: NodeGraph) {}

  authorize(attrs: AuthorizationAttributes): AuthorizationResult {
    const node = nodeIdentity(attrs.user);
    if (!attrs.isResourceRequest || node === undefined) return { decision: 'no-opinion' };
    if (!this.graph) {
      if (READ.includes(attrs.verb)) return { decision: 'no-opinion' };
      return this.rules(attrs);
    }
    const g = attrs.apiGroup;
    const r = attrs.resource;
    if (g === '' && (r === 'secrets' || r === 'configmaps')) return this.readNamespaced(node, r === 'secrets' ? 'secret' : 'configmap', attrs);
    if (g === '' && r === 'persistentvolumeclaims') {
      return attrs.subresource === 'status' ? this.statusUpdate(node, attrs) : this.getOnly(node, 'pvc', attrs);
    }
    if (g === '' && r === 'persistentvolumes') return this.getOnly(node, 'pv', attrs);
    if (g === '' && r === 'serviceaccounts') return this.createToken(node, attrs);
    if (g === '' && r === 'pods' && attrs.subresource === '') return this.pods(node, attrs);
    if (g === 'coordination.k8s.io' && r === 'leases') return this.ownObject(node, attrs, 'node lease', NODE_LEASE_NAMESPACE);
    if (g === 'storage.k8s.io' && r === 'csinodes') return this.ownObject(node, attrs, 'CSINode');
    return this.rules(attrs);
  }

  private rules(attrs: AuthorizationAttributes): Result {
    const key = `${attrs.apiGroup}/${attrs.resource}${attrs.subresource ? `/${attrs.subresource}` : ''}`;
    return NODE_RULES.get(key)?.includes(attrs.verb) ? allow : notAllowed();
  }

  private related(node: string, type: GraphVertexType, attrs: AuthorizationAttributes): Result {
    if (!attrs.name) return notAllowed('No Object name found');
    if (!this.graph!.synced) return notAllowed(`no relationship found between node '${node}' and this object`);
    return this.graph!.hasPath(node, type, attrs.namespace, attrs.name) ? allow : notAllowed(`no relationship found between node '${node}' and this object`);
  }

  private readNamespaced(node: string, type: GraphVertexType, attrs: AuthorizationAttributes): Result {
    if (!READ.includes(attrs.verb)) return notAllowed('can only read resources of this type');
    if (attrs.subresource) return notAllowed('cannot read subresource');
    if (!attrs.namespace) return notAllowed('can only read namespaced object of this type');
    return this.related(node, type, attrs);
  }

  private getOnly(node: string, type: GraphVertexType, attrs: AuthorizationAttributes): Result {
    if (attrs.verb !== 'get') return notAllowed('can only get individual resources of this type');
    if (attrs.subresource) return notAllowed('cannot get subresource');
    return this.related(node, type, attrs);
  }

  private statusUpdate(node: string, attrs: AuthorizationAttributes): Result {
    // Upstream's message names get, but only update and patch pass.
    if (!UPDATE.includes(attrs.verb)) return notAllowed('can only get/update/patch this type');
    return this.related(node, 'pvc', attrs);
  }

  private createToken(node: string, attrs: AuthorizationAttributes): Result {
    if (attrs.verb !== 'create' || !attrs.name) return notAllowed('can only create tokens for individual service accounts');
    if (attrs.subresource !== 'token') return notAllowed('can only create token subresource of serviceaccount');
    return this.related(node, 'serviceaccount', attrs);
  }

  private pods(node: string, attrs: AuthorizationAttributes): Result {
    if (attrs.verb === 'get') return this.related(node, 'pod', attrs);
    if (attrs.verb === 'list' || attrs.verb === 'watch') {
      // A watch of one pod by name (metadata.name selector) is authorized as a get of it.
      if (attrs.name && !attrs.fieldSelector?.includes('spec.nodeName')) return this.related(node, 'pod', attrs);
      return selectsNode(attrs.fieldSelector, node) ? allow : notAllowed('can only list/watch pods with spec.nodeName field selector');
    }
    return this.rules(attrs);
  }

  /** Leases (in kube-node-lease) and CSINodes: only the node's own, by name. */
  private ownObject(node: string, attrs: AuthorizationAttributes, what: string, namespace?: string): Result {
    if (!['get', ...WRITE].includes(attrs.verb)) return notAllowed(`can only get, create, update, patch, or delete a ${what}`);
    if (namespace !== undefined && attrs.namespace !== namespace) return notAllowed(`can only access leases in the "${namespace}" system namespace`);
    if (attrs.subresource) return notAllowed('cannot access subresource');
    if (attrs.verb !== 'create' && attrs.name !== node) return notAllowed(`can only access ${what} with the same name as the requesting node`);
    return allow;
  }
}

/** Whether a field selector holds the requirement spec.nodeName=<node> (= or ==). */
function selectsNode(selector: string | undefined, node: string): boolean {
  if (!selector) return false;
  return selector.split(',').some((term) => {
    const m = /^\s*spec\.nodeName\s*(?:==|=)\s*(.*?)\s*$/.exec(term);
    return m !== null && m[1] === node;
  });
}

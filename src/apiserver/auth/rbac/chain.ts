// kube-apiserver's authorizer chain from --authorization-mode (default Node,RBAC): system:masters first, then each
// mode in order; the first allow or deny decides. Until RBAC's caches hold the bootstrap policy (the first moments of
// a start), the public-info paths stay readable, as system:public-info-viewer will then grant.
import type { Authorizer, AuthorizationAttributes, AuthorizationResult } from '../authorizer.js';
import { PublicInfoAuthorizer, UnionAuthorizer } from '../authorizer.js';
import { NodeAuthorizer } from '../node.js';
import type { NodeGraph } from '../node-graph.js';
import { PrivilegedGroupAuthorizer, RbacAuthorizer } from './authorizer.js';
import { DeferredRbacObjects } from './caches.js';

export type AuthorizationModeName = 'AlwaysAllow' | 'AlwaysDeny' | 'Node' | 'RBAC';

/** What the API server wires: the chain, and the RBAC authorizer whose objects it fills once its caches run. */
export interface RbacWiring {
  authorizer: Authorizer;
  rbac: RbacAuthorizer;
  objects: DeferredRbacObjects;
  /** Whether RBAC is one of the modes. */
  rbacEnabled: boolean;
}

class AlwaysAllowAuthorizer implements Authorizer {
  authorize(): AuthorizationResult {
    return { decision: 'allow' };
  }
}

class AlwaysDenyAuthorizer implements Authorizer {
  authorize(): AuthorizationResult {
    return { decision: 'no-opinion', reason: 'Everything is forbidden.' };
  }
}

class StartupPublicInfo implements Authorizer {
  private readonly inner = new PublicInfoAuthorizer();
  constructor(private readonly objects: DeferredRbacObjects) {}
  authorize(attrs: AuthorizationAttributes): AuthorizationResult {
    return this.objects.ready ? { decision: 'no-opinion' } : this.inner.authorize(attrs);
  }
}

/** The chain for `modes`, behind any authorizers the server puts first (e.g. its join paths). */
export function authorizerChain(modes: readonly AuthorizationModeName[], nodeGraph: NodeGraph | undefined, first: readonly Authorizer[] = []): RbacWiring {
  const objects = new DeferredRbacObjects();
  const rbac = new RbacAuthorizer(objects);
  const byMode: Record<AuthorizationModeName, () => Authorizer> = {
    AlwaysAllow: () => new AlwaysAllowAuthorizer(),
    AlwaysDeny: () => new AlwaysDenyAuthorizer(),
    Node: () => new NodeAuthorizer(nodeGraph),
    RBAC: () => rbac,
  };
  const rbacEnabled = modes.includes('RBAC');
  const authorizer = new UnionAuthorizer([
    ...first,
    new PrivilegedGroupAuthorizer(),
    ...(rbacEnabled ? [new StartupPublicInfo(objects)] : []),
    ...modes.map((m) => byMode[m]()),
  ]);
  return { authorizer, rbac, objects, rbacEnabled };
}

// Admission plugins see every mutating request after authorization: mutating ones first, then the object is
// validated, then validating ones. RBAC-era plugins (NamespaceLifecycle, LimitRanger, ...) implement this.
import type { KubeObject } from '../../api/object.js';
import type { UserInfo } from '../auth/user.js';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionAttributes {
  operation: Operation;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  kind: string;
  namespace: string;
  name: string;
  /** The incoming object (CREATE/UPDATE); mutating plugins may change it in place. */
  object?: KubeObject;
  oldObject?: KubeObject;
  user: UserInfo;
  dryRun: boolean;
}

export interface MutatingAdmission {
  readonly name: string;
  admit(attrs: AdmissionAttributes): Promise<void>;
}

export interface ValidatingAdmission {
  readonly name: string;
  /** Throw an ApiError (usually 403 Forbidden or 422 Invalid) to reject. */
  validate(attrs: AdmissionAttributes): Promise<void>;
}

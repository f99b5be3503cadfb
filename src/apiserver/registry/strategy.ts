// Per-resource behaviour plugged into the generic store (upstream's RESTCreateStrategy/RESTUpdateStrategy).
// The store does what every kind shares (uid, timestamps, generation, status/spec separation, resourceVersion
// checks); a strategy adds only what is particular to its kind.
import type { KubeObject } from '../../api/object.js';
import type { FieldError } from '../../machinery/errors.js';

export interface Strategy {
  /** Fill in upstream's defaults (SetDefaults_*). Called on every create/update body, mutates in place. */
  defaults?(obj: KubeObject): void;
  /** Kind-specific changes on create beyond the generic ones (the store already clears status when the kind has a status subresource). */
  prepareForCreate?(obj: KubeObject): void;
  /** Kind-specific changes on update of the main resource (the store already keeps the old status). */
  prepareForUpdate?(obj: KubeObject, old: KubeObject): void;
  /** Validation of a new object; ObjectMeta is validated by the store, strategies check the rest. */
  validate(obj: KubeObject): FieldError[];
  /** Validation of an update: immutable fields and transitions. Runs in addition to validate(obj). */
  validateUpdate?(obj: KubeObject, old: KubeObject): FieldError[];
  /**
   * Status-subresource updates: by default only status changes and metadata is kept as it was (upstream's
   * ResetObjectMetaForStatus). Kinds whose upstream status strategy lets metadata through (Deployment, ReplicaSet)
   * define this: it receives the new object with the client's metadata and the old spec, and resets what it must.
   */
  prepareForStatusUpdate?(obj: KubeObject, old: KubeObject): void;
  /** Validation of a status-subresource update (defaults to none). */
  validateStatusUpdate?(obj: KubeObject, old: KubeObject): FieldError[];
  /**
   * Updates through other subresources (e.g. certificatesigningrequests/approval): carry over what the
   * subresource may not change, then validate the transition. Without them, only validate(obj) applies.
   */
  prepareForSubresourceUpdate?(subresource: string, obj: KubeObject, old: KubeObject): void;
  validateSubresourceUpdate?(subresource: string, obj: KubeObject, old: KubeObject): FieldError[];
  /** Kinds whose status may be set on create (upstream: Nodes); others start with an empty status. */
  keepsStatusOnCreate?: boolean;
  /**
   * Field-selector fields beyond metadata.name and metadata.namespace, e.g. pods: spec.nodeName, status.phase.
   * Values are strings as upstream compares them.
   */
  selectableFields?(obj: KubeObject): Record<string, string>;
  /** Names allowed by the kind's name validation; default: DNS-1123 subdomain. Returns error messages. */
  validateName?(name: string): string[];
  /** Warnings returned to the client (Warning headers) for create/update; optional. */
  warnings?(obj: KubeObject, old?: KubeObject): string[];
}

/** Strategies by storage resource key "<group>/<resource>" (core: "/pods"), registered once each. */
export type StrategyMap = ReadonlyMap<string, Strategy>;

export function strategyKey(group: string, resource: string): string {
  return `${group}/${resource}`;
}

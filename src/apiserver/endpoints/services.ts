// What the REST layer needs from the rest of the API server, gathered in one injectable bundle so the handlers stay
// free of wiring (and unit tests can swap pieces).
import type { KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/catalog.js';
import type { TablePrinter } from '../tables/types.js';

export type PatchType = 'json-patch' | 'merge-patch' | 'strategic-merge-patch';

export interface TableService {
  printerFor(group: string, resource: string): TablePrinter;
  toTable(
    printer: TablePrinter,
    objects: KubeObject[],
    opts: {
      now: Date;
      includeObject: 'None' | 'Metadata' | 'Object';
      listMeta?: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
      omitColumnDefinitions?: boolean;
    },
  ): object;
}

export interface FieldManagerService {
  /** Records the fields `manager` changed from `old` to `next` in next.metadata.managedFields (Update operation). */
  trackUpdate(info: ResourceInfo, old: KubeObject | undefined, next: KubeObject, manager: string, subresource: string): void;
  /** Server-side apply of `applied` onto `live` (undefined when creating); throws 409 on conflicts unless forced. */
  apply(info: ResourceInfo, live: KubeObject | undefined, applied: KubeObject, manager: string, force: boolean, subresource: string): KubeObject;
}

export interface ApiServices {
  now(): Date;
  tables: TableService;
  fieldManager: FieldManagerService;
  patcher: { patch(info: ResourceInfo, type: PatchType, live: KubeObject, patch: unknown): KubeObject };
  /**
   * Upstream-style messages for fields the kind's schema does not declare (fieldValidation); with `prune` the same
   * walk also drops them, as upstream's decoder does.
   */
  unknownFields(info: ResourceInfo, obj: KubeObject, prune?: boolean): string[];
  /** Drops undeclared fields, as upstream's decoder does. */
  pruneUnknownFields(info: ResourceInfo, obj: KubeObject): void;
  /** Field-selector values of an object (metadata.name, metadata.namespace and the kind's own fields). */
  selectableFields(info: ResourceInfo, obj: KubeObject): Record<string, string>;
  /** Whether group/version/kind is a built-in kind (one upstream decodes into a Go type); absent means none is. */
  knownKind?(group: string, version: string, kind: string): boolean;
  /** The Go decoder's type error for a decoded body of a built-in kind ("json: cannot unmarshal ..."), if any. */
  typeError?(info: ResourceInfo, obj: Record<string, unknown>): string | undefined;
}

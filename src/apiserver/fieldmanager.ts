// metadata.managedFields for every write, and server-side apply, over the kind's OpenAPI schema.
import type { KubeObject } from '../api/object.js';
import type { ResourceInfo } from '../api/catalog.js';
import { apiVersionOf } from '../api/object.js';
import { apply, trackUpdate } from '../machinery/managedfields/index.js';
import type { FieldManagerService } from './endpoints/services.js';
import type { OpenAPI } from './openapi/index.js';

export function createFieldManager(
  openapi: OpenAPI,
  schemaName: (info: ResourceInfo) => string | undefined,
  now: () => Date,
): FieldManagerService {
  const common = (info: ResourceInfo, manager: string, subresource: string) => ({
    manager,
    apiVersion: apiVersionOf(info.group, info.version),
    now: now(),
    subresource: subresource || undefined,
    schemas: openapi.schemas(),
    rootSchema: schemaName(info),
  });
  return {
    trackUpdate(info, old, next, manager, subresource) {
      const entries = trackUpdate(old, next, common(info, manager, subresource));
      if (entries.length) next.metadata.managedFields = entries;
      else delete next.metadata.managedFields;
    },
    apply(info, live, applied, manager, force, subresource) {
      return apply(live, applied, { ...common(info, manager, subresource), force }) as KubeObject;
    },
  };
}

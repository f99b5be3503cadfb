// Compiles labelSelector and fieldSelector query parameters into one predicate over stored objects. Field selectors
// may name only metadata.name, metadata.namespace and the kind's own selectable fields, as upstream.
import type { KubeObject } from '../../api/object.js';
import { parseSelector } from '../../machinery/labels.js';
import { checkSupportedFields, parseFieldSelector, type FieldSelector } from '../../machinery/fields.js';
import type { ServedResource } from '../registry/registry.js';
import type { ApiServices } from './services.js';

export interface CompiledFilter {
  filter?: (obj: KubeObject) => boolean;
  filtered: boolean;
  /** The parsed field selector, when one was given. */
  fields?: FieldSelector;
}

export function compileFilter(served: ServedResource, query: URLSearchParams, services: ApiServices): CompiledFilter {
  const labelText = query.get('labelSelector') ?? '';
  const fieldText = query.get('fieldSelector') ?? '';
  const labels = labelText.trim() ? parseSelector(labelText) : undefined;
  const fields = fieldText.trim() ? parseFieldSelector(fieldText) : undefined;
  if (fields) {
    // Reject unsupported field names up front with upstream's message; an empty object yields the kind's field names.
    const probe = services.selectableFields(served.info, { apiVersion: '', kind: served.info.kind, metadata: {} });
    checkSupportedFields(fields, Object.keys(probe));
  }
  if (!labels && !fields) return { filtered: false };
  const converter = served.converter;
  return {
    filtered: true,
    ...(fields ? { fields } : {}),
    filter: (stored) => {
      const obj = converter ? converter.fromStored(stored) : stored;
      if (labels && !labels.matches(obj.metadata.labels ?? {})) return false;
      if (fields && !fields.matches(services.selectableFields(served.info, obj))) return false;
      return true;
    },
  };
}

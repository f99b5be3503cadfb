// Writing status the way upstream's controllers do: only when it changed, through the status subresource, retrying once
// on a conflict against a freshly read object.
import { isConflict } from '../../machinery/errors.js';
import { jsonEqual } from '../../machinery/patch/json.js';
import type { ObjectLike, ResourceClient } from '../../client/index.js';

export interface WithStatus<S> extends ObjectLike {
  status?: S;
}

/** Deep equality of two JSON-shaped values (undefined keys count as absent). */
export function semanticEqual(a: unknown, b: unknown): boolean {
  return jsonEqual(a, b);
}

/**
 * PUT `status` onto `obj` (a cached object: it is not modified) unless it already has exactly that status. On a conflict
 * the object is read again and the write retried (`retries` times). Returns the object as written, or `obj` unchanged.
 */
export async function updateStatusIfChanged<S, T extends WithStatus<S>>(client: ResourceClient<T>, obj: T, status: S, retries = 1): Promise<T> {
  if (semanticEqual(obj.status, status)) return obj;
  let current: T = obj;
  for (let attempt = 0; ; attempt++) {
    try {
      return await client.updateStatus({ ...current, status });
    } catch (err) {
      if (!isConflict(err) || attempt >= retries) throw err;
      const name = obj.metadata?.name ?? '';
      current = await client.get(name, { namespace: obj.metadata?.namespace });
      if (semanticEqual(current.status, status)) return current;
    }
  }
}

// The preferred served version of a built-in group/resource, for quota object counts (count/<resource>.<group>).
import { BUILTIN_RESOURCES, GROUP_ORDER, type ResourceInfo } from '../../api/catalog.js';

export function findResourceByGroupResource(group: string, resource: string): ResourceInfo | undefined {
  const candidates = BUILTIN_RESOURCES.filter((r) => r.group === group && r.resource === resource);
  const order = GROUP_ORDER.find((g) => g.group === group)?.versions ?? [];
  return candidates.sort((a, b) => order.indexOf(a.version) - order.indexOf(b.version))[0];
}

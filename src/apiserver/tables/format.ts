// Shared cell formatting for the printers, mirroring the helpers upstream's printers.go uses
// (labels.FormatLabels, metav1.FormatLabelSelector, layoutContainerCells, translateTimestampSince, ...).
import type { KubeObject } from '../../api/object.js';
import { isPlainObject } from '../../api/object.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { Container } from 'kubernetes-types/core/v1.js';
import { humanAgeSince } from '../../machinery/duration.js';
import { labelSelectorAsSelector } from '../../machinery/labels.js';

export { formatLabelSelector } from '../../machinery/labels.js';
import { DESCRIPTIONS, type DescriptionKey } from './descriptions.js';
import type { TableColumnDefinition } from './types.js';

/** A column whose description is a SwaggerDoc key or literal text. */
export function column(
  name: string,
  type: TableColumnDefinition['type'],
  description: DescriptionKey | { text: string },
  priority = 0,
  format = '',
): TableColumnDefinition {
  const text = typeof description === 'string' ? DESCRIPTIONS[description] : description.text;
  return { name, type, format, description: text, priority };
}

/** The NAME column every upstream printer starts with. */
export const nameColumn = (): TableColumnDefinition => column('Name', 'string', 'meta.ObjectMeta.name', 0, 'name');
export const ageColumn = (): TableColumnDefinition => column('Age', 'string', 'meta.ObjectMeta.creationTimestamp');
export const containersColumn = (priority: number): TableColumnDefinition =>
  column('Containers', 'string', { text: 'Names of each container in the template.' }, priority);
export const imagesColumn = (priority: number): TableColumnDefinition =>
  column('Images', 'string', { text: 'Images referenced by each container in the template.' }, priority);

/** Typed view of a stored object: printers read kind-specific fields through kubernetes-types shapes. */
export function as<T>(obj: KubeObject): T {
  return obj as unknown as T;
}

export function age(obj: KubeObject, now: Date): string {
  return humanAgeSince(obj.metadata.creationTimestamp, now);
}

export const nameOf = (obj: KubeObject): string => obj.metadata.name ?? '';

/** labels.FormatLabels: "k=v,..." sorted by key, "<none>" when empty. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${labels?.[k] ?? ''}`).join(',');
}

/** metav1.LabelSelectorAsSelector(...).String(): "" for a nil or empty selector, undefined when it is invalid. */
export function labelSelectorString(selector: LabelSelector | undefined | null): string | undefined {
  try {
    return labelSelectorAsSelector(selector).toString();
  } catch {
    return undefined;
  }
}

/** Go's generated String() of a *LabelSelector, which upstream prints for a ParamRef selector. */
export function goLabelSelectorString(selector: LabelSelector): string {
  const labels = Object.keys(selector.matchLabels ?? {})
    .sort()
    .map((k) => `${k}: ${selector.matchLabels?.[k] ?? ''},`)
    .join('');
  const exprs = (selector.matchExpressions ?? [])
    .map((e) => `LabelSelectorRequirement{Key:${e.key},Operator:${e.operator},Values:[${(e.values ?? []).join(' ')}],},`)
    .join('');
  return `&LabelSelector{MatchLabels:map[string]string{${labels}},MatchExpressions:[]LabelSelectorRequirement{${exprs}},}`;
}

/** layoutContainerCells: container names and images, each comma-joined. */
export function layoutContainers(containers: Container[] | undefined): [string, string] {
  const list = containers ?? [];
  return [list.map((c) => c.name).join(','), list.map((c) => c.image ?? '').join(',')];
}

/**
 * resource.Quantity's String() of a stored quantity. Stored quantities are kept as written; a missing quantity is
 * the zero Quantity, "0".
 */
export function quantityString(q: unknown): string {
  if (typeof q === 'string' && q !== '') return q;
  if (typeof q === 'number') return String(q);
  return '0';
}

/** intstr.IntOrString's String(). */
export function intOrString(v: number | string): string {
  return typeof v === 'number' ? String(v) : v;
}

/** "a,b,c + N more..." as upstream's formatters cut lists at `max` entries; `empty` when nothing is listed. */
export function listWithMore(list: string[], total: number, max: number, empty: string): string {
  const ret = list.join(',');
  if (total > max) return `${ret} + ${total - max} more...`;
  return ret === '' ? empty : ret;
}

/** net.JoinHostPort: brackets around IPv6 hosts. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Typed access to a nested record field that may be absent or malformed in stored data. */
export function record(v: unknown): Record<string, unknown> {
  return isPlainObject(v) ? v : {};
}

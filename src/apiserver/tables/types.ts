// Server-side printing for `kubectl get` (Accept: ...;as=Table): upstream's column definitions per kind.
import type { KubeObject } from '../../api/object.js';

export interface TableColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  /** 0 = always shown; >0 = only with -o wide. */
  priority: number;
}

export interface TablePrinter {
  columns: TableColumnDefinition[];
  /** One row of cells in column order. `now` lets ages be computed deterministically in tests. */
  cells(obj: KubeObject, now: Date): unknown[];
  /** Row conditions (optional; upstream sets them only for finished pods). */
  conditions?(obj: KubeObject): TableRowCondition[] | undefined;
}

/** metav1.TableRowCondition: upstream marks rows of finished pods with {type: "Completed", status: "True", ...}. */
export interface TableRowCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}


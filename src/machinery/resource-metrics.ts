// The kubelet's resource metrics endpoint (/metrics/resource) in the Prometheus text format: the upstream metric
// names, rendered by the kubelet and parsed by the API server's metrics scraper (what metrics-server reads).
// Samples carry explicit millisecond timestamps, as the kubelet's do (each value has the time it was read).

export const RESOURCE_METRICS = {
  containerCpu: 'container_cpu_usage_seconds_total',
  containerMemory: 'container_memory_working_set_bytes',
  containerStartTime: 'container_start_time_seconds',
  nodeCpu: 'node_cpu_usage_seconds_total',
  nodeMemory: 'node_memory_working_set_bytes',
  podCpu: 'pod_cpu_usage_seconds_total',
  podMemory: 'pod_memory_working_set_bytes',
  scrapeError: 'resource_scrape_error',
} as const;

const HELP: Record<string, [string, 'counter' | 'gauge']> = {
  [RESOURCE_METRICS.containerCpu]: ['[STABLE] Cumulative cpu time consumed by the container in core-seconds', 'counter'],
  [RESOURCE_METRICS.containerMemory]: ['[STABLE] Current working set of the container in bytes', 'gauge'],
  [RESOURCE_METRICS.containerStartTime]: ['[STABLE] Start time of the container since unix epoch in seconds', 'gauge'],
  [RESOURCE_METRICS.nodeCpu]: ['[STABLE] Cumulative cpu time consumed by the node in core-seconds', 'counter'],
  [RESOURCE_METRICS.nodeMemory]: ['[STABLE] Current working set of the node in bytes', 'gauge'],
  [RESOURCE_METRICS.podCpu]: ['[STABLE] Cumulative cpu time consumed by the pod in core-seconds', 'counter'],
  [RESOURCE_METRICS.podMemory]: ['[STABLE] Current working set of the pod in bytes', 'gauge'],
  [RESOURCE_METRICS.scrapeError]: ['[STABLE] 1 if there was an error while getting container metrics, 0 otherwise', 'gauge'],
};

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** ms since the epoch */
  timestamp?: number;
}

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Renders samples grouped by metric (HELP/TYPE once per metric, in the order first seen), labels sorted. */
export function renderResourceMetrics(samples: readonly Sample[]): string {
  const byName = new Map<string, Sample[]>();
  for (const s of samples) {
    let list = byName.get(s.name);
    if (!list) byName.set(s.name, (list = []));
    list.push(s);
  }
  let out = '';
  for (const [name, list] of byName) {
    const help = HELP[name];
    if (help) out += `# HELP ${name} ${help[0]}\n# TYPE ${name} ${help[1]}\n`;
    for (const s of list) {
      const keys = Object.keys(s.labels).sort();
      const labels = keys.length ? `{${keys.map((k) => `${k}="${escapeLabel(s.labels[k]!)}"`).join(',')}}` : '';
      out += `${name}${labels} ${formatValue(s.value)}${s.timestamp !== undefined ? ` ${Math.round(s.timestamp)}` : ''}\n`;
    }
  }
  return out;
}

function parseValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const v = Number(text);
  if (text === '' || Number.isNaN(v)) throw new Error(`invalid sample value ${JSON.stringify(text)}`);
  return v;
}

/** Parses the label block starting after "{"; returns the labels and the index after "}". */
function parseLabels(line: string, start: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start;
  for (;;) {
    while (line[i] === ' ' || line[i] === ',') i++;
    if (line[i] === '}') return { labels, end: i + 1 };
    const eq = line.indexOf('=', i);
    if (eq < 0 || line[eq + 1] !== '"') throw new Error(`invalid label in ${JSON.stringify(line)}`);
    const key = line.slice(i, eq).trim();
    let value = '';
    let j = eq + 2;
    for (; j < line.length && line[j] !== '"'; j++) {
      if (line[j] === '\\') {
        const next = line[++j];
        value += next === 'n' ? '\n' : (next ?? '');
      } else value += line[j];
    }
    if (j >= line.length) throw new Error(`unterminated label value in ${JSON.stringify(line)}`);
    labels[key] = value;
    i = j + 1;
  }
}

/** Parses the Prometheus text format (comments skipped); throws on a malformed sample line. */
export function parseResourceMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.search(/\s/);
    let name: string;
    let labels: Record<string, string> = {};
    let rest: string;
    if (brace >= 0 && (space < 0 || brace < space)) {
      name = line.slice(0, brace);
      const parsed = parseLabels(line, brace + 1);
      labels = parsed.labels;
      rest = line.slice(parsed.end).trim();
    } else {
      if (space < 0) throw new Error(`sample without a value: ${JSON.stringify(line)}`);
      name = line.slice(0, space);
      rest = line.slice(space).trim();
    }
    const [value, ts] = rest.split(/\s+/);
    const sample: Sample = { name, labels, value: parseValue(value ?? '') };
    if (ts !== undefined) sample.timestamp = parseValue(ts);
    out.push(sample);
  }
  return out;
}

// Human-readable durations and API timestamps, as upstream's k8s.io/apimachinery/pkg/util/duration and metav1.Time
// render them: the AGE column of every table and the "(5m ago)" of pod restarts come from here.

// metav1.Time/MicroTime wire formats live in time.ts; re-exported so table code has one import for times.
export { formatTime, formatMicroTime } from './time.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Whole units of `unit` in `ms`, truncated toward zero like Go's integer conversion of a duration. */
const whole = (ms: number, unit: number): number => Math.trunc(ms / unit);

/**
 * Coarse duration ("59s", "3m", "5h", "2d", "1y") with one unit. Negative durations of less than two seconds count
 * as "now" to tolerate clock skew; anything further in the future is "<invalid>".
 */
export function shortHumanDuration(ms: number): string {
  const seconds = whole(ms, SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60) return `${seconds}s`;
  const minutes = whole(ms, MINUTE);
  if (minutes < 60) return `${minutes}m`;
  const hours = whole(ms, HOUR);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${Math.trunc(hours / 24)}d`;
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** Duration with two to three significant figures ("70s", "3m10s", "70m", "7h59m", "2d1h", "367d", "2y1d"). */
export function humanDuration(ms: number): string {
  const seconds = whole(ms, SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = whole(ms, MINUTE);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = whole(ms, HOUR);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const d = days % 365;
    return d === 0 ? `${years}y` : `${years}y${d}d`;
  }
  return `${years}y`;
}

/** Parses an API timestamp (RFC3339); undefined when absent or unparseable, which callers print as "<unknown>". */
export function parseTime(value: unknown): Date | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** Upstream's translateTimestampSince: the age of an API timestamp, "<unknown>" when unset. */
export function humanAgeSince(timestamp: unknown, now: Date): string {
  const t = parseTime(timestamp);
  return t === undefined ? '<unknown>' : humanDuration(now.getTime() - t.getTime());
}

/** Go's time.Duration.String() of a duration in nanoseconds: "1h2m3.5s", "15.002s", "250ms", "0s". */
export function formatGoDuration(ns: number): string {
  let n = Math.round(ns);
  if (n === 0) return '0s';
  const sign = n < 0 ? '-' : '';
  n = Math.abs(n);
  const frac = (v: number, digits: number): string => {
    const s = String(v).padStart(digits, '0').replace(/0+$/, '');
    return s ? `.${s}` : '';
  };
  if (n < 1000) return `${sign}${n}ns`;
  if (n < 1e6) return `${sign}${Math.floor(n / 1e3)}${frac(n % 1e3, 3)}µs`;
  if (n < 1e9) return `${sign}${Math.floor(n / 1e6)}${frac(n % 1e6, 6)}ms`;
  const totalSeconds = Math.floor(n / 1e9);
  const seconds = `${totalSeconds % 60}${frac(n % 1e9, 9)}s`;
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes === 0) return `${sign}${seconds}`;
  const hours = Math.floor(minutes / 60);
  return `${sign}${hours > 0 ? `${hours}h` : ''}${minutes % 60}m${seconds}`;
}

/** Go's time.ParseDuration, in milliseconds ("15s", "1m30s", "500ms", "1.5h"); undefined when malformed. */
export function parseGoDuration(text: string): number | undefined {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const t = text.trim();
  if (t === '0') return 0;
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(t);
  if (!m) return undefined;
  let total = 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;
  for (let p = re.exec(t); p; p = re.exec(t)) total += Number(p[1]) * units[p[2]!]!;
  return m[1] === '-' ? -total : total;
}

// /livez, /readyz and /healthz in upstream's format: "ok"; with ?verbose one "[+]name ok" line per check and
// "<endpoint> check passed"; on failure every line, "[-]name failed: reason withheld", "<endpoint> check failed" and
// status 500. /livez/<check> runs one check; ?exclude=<check> skips one.
import type { ServerResponse } from 'node:http';

export interface HealthCheck {
  readonly name: string;
  /** Resolves when healthy; throws (or rejects) with the reason otherwise. */
  check(): void | Promise<void>;
}

export type HealthEndpoint = 'livez' | 'readyz' | 'healthz';
export type HealthChecks = Record<HealthEndpoint, readonly HealthCheck[]>;

export const pingCheck: HealthCheck = { name: 'ping', check: () => undefined };
/** Logging goes to stderr synchronously, so it can never be blocked behind a flusher as in upstream. */
export const logCheck: HealthCheck = { name: 'log', check: () => undefined };

/** Runs `probe` with a deadline; the check fails when the probe throws or is too slow. */
export function namedCheck(name: string, probe: () => Promise<unknown>, timeoutMs = 2000): HealthCheck {
  return {
    name,
    async check() {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${name} check timed out after ${timeoutMs}ms`)), timeoutMs);
      });
      try {
        await Promise.race([probe(), deadline]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Fails once shutdown has begun, so load balancers stop sending traffic (upstream's "shutdown" readyz check). */
export function shutdownCheck(isShuttingDown: () => boolean): HealthCheck {
  return {
    name: 'shutdown',
    check() {
      if (isShuttingDown()) throw new Error('process is shutting down');
    },
  };
}

export interface HealthLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
}

/** True for the health endpoints and their sub-checks. */
export function isHealthPath(path: string): boolean {
  return /^\/(livez|readyz|healthz)(\/.*)?$/.test(path);
}

function endpointOf(path: string): { endpoint: HealthEndpoint; check: string } | undefined {
  const m = /^\/(livez|readyz|healthz)(?:\/(.*))?$/.exec(path);
  return m ? { endpoint: m[1] as HealthEndpoint, check: m[2] ?? '' } : undefined;
}

function writeText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function run(check: HealthCheck): Promise<Error | undefined> {
  try {
    await check.check();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

/**
 * Serves a health path. Returns false when the path names no known check, so the caller answers 404.
 * Failures are logged with their reasons; the response withholds them (the endpoints are public).
 */
export async function serveHealth(
  checks: HealthChecks,
  path: string,
  query: URLSearchParams,
  res: ServerResponse,
  log?: HealthLogger,
): Promise<boolean> {
  const target = endpointOf(path.replace(/\/$/, ''));
  if (!target) return false;
  const list = checks[target.endpoint];

  if (target.check !== '') {
    const one = list.find((c) => c.name === target.check);
    if (!one) return false;
    const err = await run(one);
    if (err) writeText(res, 500, `internal server error: ${err.message}\n`);
    else writeText(res, 200, 'ok');
    return true;
  }

  const excluded = new Set(query.getAll('exclude'));
  // Set.delete reports whether the name was excluded; what remains afterwards matched no check.
  const skipped = list.map((c) => excluded.delete(c.name));
  const outcomes = await Promise.all(list.map((c, i) => (skipped[i] ? undefined : run(c))));
  let body = '';
  const failed: string[] = [];
  const reasons: string[] = [];
  list.forEach((c, i) => {
    const err = outcomes[i];
    if (skipped[i]) body += `[+]${c.name} excluded: ok\n`;
    else if (err) {
      body += `[-]${c.name} failed: reason withheld\n`;
      failed.push(c.name);
      reasons.push(`[-]${c.name} failed: ${err.message}`);
    } else body += `[+]${c.name} ok\n`;
  });
  if (excluded.size > 0) {
    body += `warn: some health checks cannot be excluded: no matches for ${[...excluded].map((n) => JSON.stringify(n)).join(',')}\n`;
  }
  if (failed.length) {
    log?.info(`${target.endpoint} check failed: ${failed.join(',')}`, { reasons: reasons.join('; ') });
    writeText(res, 500, `${body}${target.endpoint} check failed\n`);
    return true;
  }
  if (!query.has('verbose')) writeText(res, 200, 'ok');
  else writeText(res, 200, `${body}${target.endpoint} check passed\n`);
  return true;
}

// The API server's built-in metrics-server: every resolution period it reads each kubelet's /metrics/resource
// (HTTPS with the API server's kubelet client certificate, as pods/log), decodes it and stores one round in the
// MetricsStore. It runs only while someone asks for metrics (kubectl top, the HPA controller): the first request
// starts it, and it stops after IDLE_MS without one, so clusters nobody measures pay nothing.
import { request as httpsRequest } from 'node:https';
import { parseResourceMetrics } from '../../machinery/resource-metrics.js';
import { decodeScrape, MetricsStore, type NodeScrape } from './store.js';

export const DEFAULT_METRIC_RESOLUTION_MS = 15_000;
export const IDLE_MS = 10 * 60_000;
/** Kubelets scraped at once. */
const CONCURRENCY = 16;

export interface ScrapeTarget {
  name: string;
  host: string;
  port: number;
}

export interface ScraperOptions {
  /** The nodes to scrape now (those with a kubelet endpoint). */
  targets(): Promise<ScrapeTarget[]>;
  /** GET /metrics/resource of one kubelet (body text); rejects on failure. */
  fetch(target: ScrapeTarget, timeoutMs: number): Promise<string>;
  resolutionMs?: number;
  now?: () => number;
  onError?(node: string, err: Error): void;
}

export interface KubeletCredentials {
  certPem: string;
  keyPem: string;
}

/** GET https://host:port/metrics/resource with a client certificate; the kubelet's serving cert is not verified. */
export function httpsFetcher(creds: KubeletCredentials): ScraperOptions['fetch'] {
  return (t, timeoutMs) =>
    new Promise<string>((resolve, reject) => {
      const host = t.host.includes(':') ? `[${t.host}]` : t.host;
      const req = httpsRequest(
        `https://${host}:${t.port}/metrics/resource`,
        { method: 'GET', cert: creds.certPem, key: creds.keyPem, rejectUnauthorized: false, agent: false, timeout: timeoutMs },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => ((res.statusCode ?? 0) === 200 ? resolve(body) : reject(new Error(`kubelet answered ${res.statusCode}: ${body.slice(0, 200)}`))));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
}

export class MetricsScraper {
  readonly store = new MetricsStore();
  readonly resolutionMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private lastRequest = 0;
  private round: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: ScraperOptions) {
    this.resolutionMs = o.resolutionMs ?? DEFAULT_METRIC_RESOLUTION_MS;
    this.now = o.now ?? Date.now;
  }

  /** Marks a request for metrics: starts scraping when idle. */
  touch(): void {
    this.lastRequest = this.now();
    if (this.stopped || this.timer || this.round) return;
    this.tick();
  }

  get running(): boolean {
    return this.timer !== undefined || this.round !== undefined;
  }

  private tick(): void {
    this.timer = undefined;
    if (this.stopped) return;
    if (this.now() - this.lastRequest > IDLE_MS) return; // idle: the next request starts it again
    this.round = this.scrapeOnce().finally(() => {
      this.round = undefined;
      if (!this.stopped) {
        this.timer = setTimeout(() => this.tick(), this.resolutionMs);
        this.timer.unref();
      }
    });
  }

  /** One round: every target, CONCURRENCY at a time; failures leave that node out of the round. */
  async scrapeOnce(): Promise<void> {
    let targets: ScrapeTarget[];
    try {
      targets = await this.o.targets();
    } catch (err) {
      this.o.onError?.('', err as Error);
      return;
    }
    const batch = new Map<string, NodeScrape>();
    const timeoutMs = Math.max(1000, Math.floor(this.resolutionMs * 0.9));
    let next = 0;
    const worker = async () => {
      while (next < targets.length) {
        const t = targets[next++]!;
        try {
          const text = await this.o.fetch(t, timeoutMs);
          batch.set(t.name, decodeScrape(parseResourceMetrics(text), this.now()));
        } catch (err) {
          this.o.onError?.(t.name, err as Error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, targets.length) }, worker));
    this.store.store(batch);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

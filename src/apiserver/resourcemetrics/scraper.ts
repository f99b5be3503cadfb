// The API server's built-in metrics-server: every resolution period it reads each kubelet's /metrics/resource
// (through the API server's kubelet dialer, as pods/log), decodes it and stores one round in the
// MetricsStore. It runs only while someone asks for metrics (kubectl top, the HPA controller): the first request
// starts it, and it stops after IDLE_MS without one, so clusters nobody measures pay nothing.
import { parseResourceMetrics } from '../../machinery/resource-metrics.js';
import { decodeScrape, MetricsStore, type NodeScrape } from './store.js';
import type { KubeletDialer } from '../endpoints/kubelet-dialer.js';

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

/** GET /metrics/resource through the API server's kubelet dialer (its client certificate; the kubelet's serving
 * certificate verified against the cluster CA when one is configured, as for pods/log). */
export function kubeletFetcher(dialer: KubeletDialer): ScraperOptions['fetch'] {
  return (t, timeoutMs) =>
    new Promise<string>((resolve, reject) => {
      const req = dialer.request({ nodeName: t.name, host: t.host, port: t.port }, { method: 'GET', path: '/metrics/resource' }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => ((res.statusCode ?? 0) === 200 ? resolve(body) : reject(new Error(`kubelet answered ${res.statusCode}: ${body.slice(0, 200)}`))));
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
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

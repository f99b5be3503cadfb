// Certificate rotation while the agent runs, as upstream's kubelet certificate manager: each node certificate (the
// client one the kubelet calls the API server with, the serving one the API server calls the kubelet on) is renewed
// at a jittered point between 70 % and 90 % of its lifetime, with a new key; the new pair is written under
// <data-dir>/agent and handed to the running client or server without a restart. A failed renewal is retried with
// backoff (2 s doubling to 5 min), and again whenever the previous deadline passes.
import { X509Certificate } from 'node:crypto';
import { realClock, type Clock, type TimerHandle } from '../client/index.js';
import type { Logger } from '../apiserver/log.js';
import { issueNodeCertificate, type CertificateKind, type NodeCertificateRequest } from './certs.js';

const RETRY_MIN_MS = 2000;
const RETRY_MAX_MS = 5 * 60 * 1000;
/** Timers wake at least daily (setTimeout cannot wait the months a year-long certificate allows). */
const MAX_WAIT_MS = 24 * 60 * 60 * 1000;

/** When to renew: notBefore + (70 % + up to 20 %) of the lifetime (upstream's nextRotationDeadline). */
export function rotationDeadline(certPem: string, random: number): number {
  const cert = new X509Certificate(certPem);
  const notBefore = Date.parse(cert.validFrom);
  const total = Date.parse(cert.validTo) - notBefore;
  return notBefore + total * (0.7 + 0.2 * random);
}

export interface RotatorOptions {
  kind: CertificateKind;
  request: NodeCertificateRequest;
  /** Receives each new pair once it is written. */
  onRotated(cert: string, key: string): void;
  log: Logger;
  clock?: Clock;
  random?: () => number;
  /** Issues the new pair (default: a new key, signed through request.sign, written under the agent dir). */
  issue?: (request: NodeCertificateRequest, kind: CertificateKind) => Promise<{ cert: string; key: string }>;
}

export class CertificateRotator {
  private timer?: TimerHandle;
  private stopped = false;
  private failures = 0;
  /** Renewals done (tests, logs). */
  rotations = 0;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(private readonly o: RotatorOptions) {
    this.clock = o.clock ?? realClock;
    this.random = o.random ?? Math.random;
  }

  /** Schedules the renewal of `certPem` (the pair in use now). */
  start(certPem: string): void {
    if (this.stopped) return;
    const deadline = rotationDeadline(certPem, this.random());
    this.o.log.info('certificate rotation scheduled', { kind: this.o.kind, node: this.o.request.nodeName, inSeconds: Math.round((deadline - this.clock.now()) / 1000) });
    this.waitUntil(deadline);
  }

  private waitUntil(deadline: number): void {
    const waitMs = Math.max(0, deadline - this.clock.now());
    this.timer = this.clock.setTimer(() => (this.clock.now() >= deadline ? void this.rotate() : this.waitUntil(deadline)), Math.min(waitMs, MAX_WAIT_MS));
  }

  private async rotate(): Promise<void> {
    if (this.stopped) return;
    let pair: { cert: string; key: string };
    try {
      pair = await (this.o.issue ?? issueNodeCertificate)(this.o.request, this.o.kind);
    } catch (err) {
      const wait = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** this.failures++);
      this.o.log.warn('certificate rotation failed; retrying', { kind: this.o.kind, err: (err as Error).message, inSeconds: wait / 1000 });
      if (!this.stopped) this.timer = this.clock.setTimer(() => void this.rotate(), wait);
      return;
    }
    this.failures = 0;
    this.rotations++;
    if (this.stopped) return;
    this.o.onRotated(pair.cert, pair.key);
    this.o.log.info('certificate rotated', { kind: this.o.kind, node: this.o.request.nodeName, notAfter: new X509Certificate(pair.cert).validTo });
    this.start(pair.cert);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }
}

/** Rotates both node certificates for a running agent: the client one into `transport`, the serving one into the kubelet. */
export function startCertificateRotation(o: {
  request: NodeCertificateRequest;
  clientCertPem: string;
  servingCertPem: string;
  transport: { setClientCertificate(cert: string, key: string): void };
  kubelet: { setServingCertificate(cert: string, key: string): void };
  log: Logger;
}): { rotators: CertificateRotator[]; stop(): void } {
  const client = new CertificateRotator({ kind: 'client', request: o.request, log: o.log, onRotated: (c, k) => o.transport.setClientCertificate(c, k) });
  const serving = new CertificateRotator({ kind: 'serving', request: o.request, log: o.log, onRotated: (c, k) => o.kubelet.setServingCertificate(c, k) });
  client.start(o.clientCertPem);
  serving.start(o.servingCertPem);
  return {
    rotators: [client, serving],
    stop: () => {
      client.stop();
      serving.stop();
    },
  };
}

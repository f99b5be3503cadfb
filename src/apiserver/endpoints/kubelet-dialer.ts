// How the API server reaches a node's kubelet (pods/log, exec, attach, port-forward): the node's InternalIP (else its
// Hostname address) and the port in status.daemonEndpoints, over TLS with the API server's kubelet client
// certificate. The kubelet's serving certificate is verified against the cluster CA when one is configured (upstream's
// --kubelet-certificate-authority), by the address dialled. Every caller goes through one KubeletDialer.
// When the node's agent holds a reverse tunnel to the server (tunnel/server.ts, k3s's remotedialer), the TCP
// connection is a stream of that tunnel instead of a direct dial, and TLS runs over it end to end as before; without
// a tunnel for the node (or with --egress-selector-mode=disabled) the kubelet is dialled directly, as k3s does.
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import { ApiError } from '../../machinery/errors.js';
import type { Registry } from '../registry/registry.js';
import type { KubeletTunnel } from '../tunnel/server.js';

export interface KubeletClientConfig {
  /** The API server's client certificate towards kubelets (a cluster-CA certificate). */
  certPem: string;
  keyPem: string;
  /** The CA kubelet serving certificates must chain to; without it they are not verified (upstream's default). */
  caPem?: string;
  /** Agents' reverse tunnels; absent = always dial directly (--egress-selector-mode=disabled). */
  tunnel?: KubeletTunnel;
}

interface NodeShape {
  status?: { addresses?: { type: string; address: string }[]; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
}

/** Where a node's kubelet listens. */
export interface KubeletEndpoint {
  nodeName: string;
  host: string;
  port: number;
}

export interface KubeletRequest {
  method: string;
  /** Path and query on the kubelet, e.g. /containerLogs/ns/pod/c?follow=true. */
  path: string;
  headers?: OutgoingHttpHeaders;
}

export interface KubeletDialer {
  /** The node's kubelet endpoint; a 400 naming `what` (e.g. "log") when the node has none. */
  endpoint(nodeName: string, what: string): Promise<KubeletEndpoint>;
  /** An HTTPS request to the kubelet (end() it; for upgrades listen to 'upgrade'). */
  request(endpoint: KubeletEndpoint, req: KubeletRequest, onResponse?: (res: IncomingMessage) => void): ClientRequest;
  /** The URL a request goes to, for error messages ("Get https://...": ...). */
  url(endpoint: KubeletEndpoint, path: string): string;
}

function hostPart(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** TLS options towards a kubelet: client certificate, and the cluster CA when verification is on. */
export function kubeletTlsOptions(config: KubeletClientConfig): RequestOptions {
  return {
    cert: config.certPem,
    key: config.keyPem,
    ...(config.caPem ? { ca: config.caPem, rejectUnauthorized: true } : { rejectUnauthorized: false }),
  };
}

function tlsOverStream(stream: Duplex, host: string, tls: RequestOptions): Duplex {
  const socket = tlsConnect({
    socket: stream,
    host,
    ...(tls.cert ? { cert: tls.cert } : {}),
    ...(tls.key ? { key: tls.key } : {}),
    ...(tls.ca ? { ca: tls.ca } : {}),
    rejectUnauthorized: tls.rejectUnauthorized ?? true,
  });
  // The TLS socket does not always pass on the stream's end of life; a reset tunnel stream fails the request.
  stream.once('error', (err) => socket.destroy(err));
  socket.once('close', () => stream.destroy());
  return socket;
}

/** Dials kubelets at their node's address: through the node's tunnel when it has one, else directly. */
export function directKubeletDialer(registry: Registry, config: KubeletClientConfig | undefined): KubeletDialer {
  return {
    async endpoint(nodeName, what) {
      const node = (await registry.store('', 'nodes').get(undefined, nodeName)) as NodeShape;
      const addrs = node.status?.addresses ?? [];
      const host = addrs.find((a) => a.type === 'InternalIP')?.address ?? addrs.find((a) => a.type === 'Hostname')?.address;
      const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
      if (!host || !port || !config) throw ApiError.badRequest(`${what} is not available: node ${nodeName} has no kubelet endpoint`);
      return { nodeName, host, port };
    },
    url(endpoint, path) {
      return `https://${hostPart(endpoint.host)}:${endpoint.port}${path}`;
    },
    request(endpoint, req, onResponse) {
      if (!config) throw ApiError.badRequest(`node ${endpoint.nodeName}: no kubelet client certificate configured`);
      const tls = kubeletTlsOptions(config);
      const stream = config.tunnel?.dial(endpoint.nodeName, { host: endpoint.host, port: endpoint.port });
      const options: RequestOptions = stream
        ? // TLS over the tunnel stream, checking the serving certificate against the same address as a direct dial.
          { method: req.method, ...(req.headers ? { headers: req.headers } : {}), createConnection: () => tlsOverStream(stream, endpoint.host, tls) }
        : { method: req.method, ...(req.headers ? { headers: req.headers } : {}), ...tls, agent: false };
      return httpsRequest(this.url(endpoint, req.path), options, onResponse);
    },
  };
}

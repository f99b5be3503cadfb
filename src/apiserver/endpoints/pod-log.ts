// GET pods/{name}/log: the API server finds the pod's node and streams the container log from that node's kubelet
// (https://<InternalIP>:<daemonEndpoints.kubeletEndpoint.Port>/containerLogs/...), authenticating with its kubelet
// client certificate, verifying the kubelet's serving certificate against the cluster CA (kubelet-dialer.ts).
import type { IncomingMessage } from 'node:http';
import { ApiError } from '../../machinery/errors.js';
import type { Registry } from '../registry/registry.js';
import type { ResourceRequest } from './resource.js';
import { directKubeletDialer, type KubeletClientConfig } from './kubelet-dialer.js';

export type { KubeletClientConfig } from './kubelet-dialer.js';

interface PodShape {
  metadata: { name?: string; namespace?: string };
  spec?: { nodeName?: string; containers?: { name: string }[]; initContainers?: { name: string }[]; ephemeralContainers?: { name: string }[] };
}

/** The log options upstream's PodLogOptions carries to the kubelet. */
const PASSED = ['follow', 'previous', 'sinceSeconds', 'sinceTime', 'timestamps', 'tailLines', 'limitBytes'];

function checkInt(query: URLSearchParams, name: string, min: number): void {
  const v = query.get(name);
  if (v === null) return;
  if (!/^-?\d+$/.test(v) || Number(v) < min) throw ApiError.badRequest(`${name}: Invalid value: "${v}": must be greater than or equal to ${min}`);
}

export async function handlePodLog(r: ResourceRequest, registry: Registry, kubelet: KubeletClientConfig | undefined): Promise<void> {
  if (r.req.method !== 'GET') throw ApiError.methodNotAllowed();
  const pod = (await registry.store('', 'pods').get(r.namespace, r.name!)) as PodShape;
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].map((c) => c.name);
  let container = r.query.get('container') ?? '';
  if (!container) {
    const app = (pod.spec?.containers ?? []).map((c) => c.name);
    if (app.length !== 1) {
      throw ApiError.badRequest(`a container name must be specified for pod ${r.name}, choose one of: [${app.join(' ')}]${pod.spec?.initContainers?.length ? ` or one of the init containers: [${pod.spec.initContainers.map((c) => c.name).join(' ')}]` : ''}`);
    }
    container = app[0]!;
  }
  if (!all.includes(container)) throw ApiError.badRequest(`container ${container} is not valid for pod ${r.name}`);
  checkInt(r.query, 'tailLines', 0);
  checkInt(r.query, 'limitBytes', 1);
  checkInt(r.query, 'sinceSeconds', 1);
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw ApiError.badRequest(`pod ${r.name} does not have a host assigned`);
  const dialer = directKubeletDialer(registry, kubelet);
  const endpoint = await dialer.endpoint(nodeName, 'log');
  const q = new URLSearchParams();
  for (const k of PASSED) {
    const v = r.query.get(k);
    if (v !== null) q.set(k, v);
  }
  const path = `/containerLogs/${encodeURIComponent(r.namespace ?? '')}/${encodeURIComponent(r.name!)}/${encodeURIComponent(container)}${q.size ? `?${q}` : ''}`;
  await new Promise<void>((resolve, reject) => {
    const upstream = dialer.request(
      endpoint,
      { method: 'GET', path },
      (res: IncomingMessage) => {
        const code = res.statusCode ?? 502;
        if (code !== 200) {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => {
            try {
              const st = JSON.parse(body) as { message?: string; reason?: string };
              reject(new ApiError({ message: st.message ?? body, reason: (st.reason as 'BadRequest') ?? 'BadRequest', code }));
            } catch {
              reject(new ApiError({ message: body || `kubelet answered ${code}`, reason: 'InternalError', code: 500 }));
            }
          });
          return;
        }
        r.res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
        r.res.flushHeaders();
        res.pipe(r.res);
        res.on('end', resolve);
        res.on('error', () => resolve());
        r.res.on('close', () => {
          res.destroy();
          resolve();
        });
      },
    );
    upstream.on('error', (err) => {
      if (r.res.headersSent) {
        r.res.end();
        resolve();
      } else reject(new ApiError({ message: `Get "${dialer.url(endpoint, path)}": ${err.message}`, reason: 'InternalError', code: 500 }));
    });
    r.req.on('close', () => upstream.destroy());
    upstream.end();
  });
}

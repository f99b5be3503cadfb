// A CRI client: runtime.v1 RuntimeService and ImageService over gRPC on the runtime's unix socket, from our own
// api.proto (parsed at run time by protobufjs, which encodes requests and decodes replies); the calls go through the
// small unary client in grpc.ts. Every call has a deadline; failures carry the gRPC code.
import protobuf from 'protobufjs';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type {
  Container,
  ContainerConfig,
  ContainerState,
  ContainerStats,
  ContainerStatus,
  ExecSyncResult,
  AuthConfig,
  Image,
  ImageSpec,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxState,
  PodSandboxStatus,
  RuntimeCondition,
} from './types.js';
import { GRPC_STATUS, GrpcChannel, GrpcError, grpcStatusName } from './grpc.js';
import { decodeContainerList, decodeSandboxList, type RelistItem } from './relist-wire.js';

/**
 * api.proto stays in src/ next to this file's source (dist/src/kubelet/cri/client.js -> src/kubelet/cri/api.proto;
 * from the agent bundle, dist/src/cli/agent.bundle.js, it is one folder less up).
 */
function protoPath(): string {
  const candidates = ['./api.proto', '../../../../src/kubelet/cri/api.proto', '../../../src/kubelet/cri/api.proto'].map((p) => new URL(p, import.meta.url));
  for (const c of candidates) {
    const p = fileURLToPath(c);
    if (existsSync(p)) return p;
  }
  throw new Error('CRI api.proto not found next to the kubelet sources');
}

/** A method's path and (de)serializers. */
interface MethodCodec {
  path: string;
  requestSerialize(req: object): Uint8Array;
  responseDeserialize(buf: Uint8Array): unknown;
}
type ServiceCodecs = Record<string, MethodCodec>;

/**
 * How replies become objects: camelCase fields, int64 as numbers, enums by name, and every field present (defaults,
 * empty arrays and maps), as @grpc/proto-loader's options { longs: Number, enums: String, defaults, arrays, objects }.
 */
const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true, arrays: true, objects: true };

function serviceCodecs(root: protobuf.Root, name: string): ServiceCodecs {
  const codecs: ServiceCodecs = {};
  for (const m of root.lookupService(name).methodsArray) {
    const req = m.resolvedRequestType!;
    const res = m.resolvedResponseType!;
    codecs[m.name] = {
      path: `/${name}/${m.name}`,
      requestSerialize: (o) => req.encode(req.fromObject(o)).finish(),
      responseDeserialize: (b) => res.toObject(res.decode(b), TO_OBJECT),
    };
  }
  return codecs;
}

let services: { runtime: ServiceCodecs; images: ServiceCodecs } | undefined;
function runtimeServices(): { runtime: ServiceCodecs; images: ServiceCodecs } {
  if (!services) {
    const root = new protobuf.Root();
    protobuf.parse(readFileSync(protoPath(), 'utf8'), root, { keepCase: false });
    root.resolveAll();
    services = { runtime: serviceCodecs(root, 'runtime.v1.RuntimeService'), images: serviceCodecs(root, 'runtime.v1.ImageService') };
  }
  return services;
}

/** A CRI call failed: the gRPC status code and the runtime's message. */
export class CriError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly details: string,
  ) {
    super(`${method}: ${details || grpcStatusName(code)}`);
  }
  get notFound(): boolean {
    return this.code === GRPC_STATUS.NOT_FOUND;
  }
}

export interface CriClientOptions {
  /** Deadline of ordinary calls (default 2 min, as the kubelet's runtime request timeout). */
  timeoutMs?: number;
}

export class CriClient {
  private readonly channel: GrpcChannel;
  private readonly runtime: ServiceCodecs;
  private readonly images: ServiceCodecs;
  private readonly timeoutMs: number;

  /** `endpoint`: a socket path, or unix:///path as --container-runtime-endpoint takes it. */
  constructor(
    readonly endpoint: string,
    opts: CriClientOptions = {},
  ) {
    const { runtime, images } = runtimeServices();
    this.runtime = runtime;
    this.images = images;
    this.channel = new GrpcChannel(endpoint.startsWith('unix:') ? endpoint : `unix://${endpoint}`);
    this.timeoutMs = opts.timeoutMs ?? 120_000;
  }

  /** The reply's bytes, undecoded. */
  private async callRaw(service: ServiceCodecs, method: string, req: object, timeoutMs = this.timeoutMs): Promise<Uint8Array> {
    const m = service[method];
    if (!m) throw new CriError(method, GRPC_STATUS.UNIMPLEMENTED, `unknown method ${method}`);
    try {
      return await this.channel.unary(m.path, m.requestSerialize(req), timeoutMs);
    } catch (err) {
      if (err instanceof GrpcError) throw new CriError(method, err.code, err.details);
      throw err;
    }
  }

  private async call<R>(service: ServiceCodecs, method: string, req: object, timeoutMs = this.timeoutMs): Promise<R> {
    return service[method]!.responseDeserialize(await this.callRaw(service, method, req, timeoutMs)) as R;
  }

  private rt<R>(method: string, req: object, timeoutMs?: number): Promise<R> {
    return this.call<R>(this.runtime, method, req, timeoutMs);
  }

  private img<R>(method: string, req: object, timeoutMs?: number): Promise<R> {
    return this.call<R>(this.images, method, req, timeoutMs);
  }

  close(): void {
    this.channel.close();
  }

  version(timeoutMs?: number): Promise<{ version: string; runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }> {
    return this.rt('Version', { version: 'v1' }, timeoutMs);
  }

  async status(): Promise<RuntimeCondition[]> {
    const r = await this.rt<{ status: { conditions: RuntimeCondition[] } | null }>('Status', {});
    return r.status?.conditions ?? [];
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    const r = await this.rt<{ podSandboxId: string }>('RunPodSandbox', { config, runtimeHandler });
    return r.podSandboxId;
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    await this.rt('StopPodSandbox', { podSandboxId });
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    await this.rt('RemovePodSandbox', { podSandboxId });
  }

  async podSandboxStatus(podSandboxId: string): Promise<PodSandboxStatus> {
    const r = await this.rt<{ status: PodSandboxStatus }>('PodSandboxStatus', { podSandboxId });
    return r.status;
  }

  async listPodSandbox(filter: { id?: string; state?: PodSandboxState; labelSelector?: Record<string, string> } = {}): Promise<PodSandbox[]> {
    const r = await this.rt<{ items: PodSandbox[] }>('ListPodSandbox', {
      filter: { id: filter.id ?? '', ...(filter.state ? { state: { state: filter.state } } : {}), labelSelector: filter.labelSelector ?? {} },
    });
    return r.items;
  }

  /** The relist's view of the sandboxes the selector picks: id, state and the value of label `labelKey` only. */
  async listPodSandboxStates(labelSelector: Record<string, string>, labelKey: string): Promise<RelistItem[]> {
    return decodeSandboxList(await this.callRaw(this.runtime, 'ListPodSandbox', { filter: { id: '', labelSelector } }), labelKey);
  }

  /** The relist's view of the containers the selector picks: id, state and the value of label `labelKey` only. */
  async listContainerStates(labelSelector: Record<string, string>, labelKey: string): Promise<RelistItem[]> {
    return decodeContainerList(await this.callRaw(this.runtime, 'ListContainers', { filter: { id: '', podSandboxId: '', labelSelector } }), labelKey);
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const r = await this.rt<{ containerId: string }>('CreateContainer', { podSandboxId, config, sandboxConfig });
    return r.containerId;
  }

  async startContainer(containerId: string): Promise<void> {
    await this.rt('StartContainer', { containerId });
  }

  /** Stops with SIGTERM (or the image's stop signal), then SIGKILL after `timeoutSeconds`. */
  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    // The call itself may last the whole grace period.
    await this.rt('StopContainer', { containerId, timeout: timeoutSeconds }, this.timeoutMs + timeoutSeconds * 1000);
  }

  async removeContainer(containerId: string): Promise<void> {
    await this.rt('RemoveContainer', { containerId });
  }

  async listContainers(filter: { id?: string; podSandboxId?: string; state?: ContainerState; labelSelector?: Record<string, string> } = {}): Promise<Container[]> {
    const r = await this.rt<{ containers: Container[] }>('ListContainers', {
      filter: {
        id: filter.id ?? '',
        podSandboxId: filter.podSandboxId ?? '',
        ...(filter.state ? { state: { state: filter.state } } : {}),
        labelSelector: filter.labelSelector ?? {},
      },
    });
    return r.containers;
  }

  async containerStatus(containerId: string): Promise<ContainerStatus> {
    const r = await this.rt<{ status: ContainerStatus }>('ContainerStatus', { containerId });
    return r.status;
  }

  async execSync(containerId: string, cmd: string[], timeoutSeconds = 0): Promise<ExecSyncResult> {
    const deadline = timeoutSeconds > 0 ? timeoutSeconds * 1000 + 10_000 : this.timeoutMs;
    return this.rt<ExecSyncResult>('ExecSync', { containerId, cmd, timeout: timeoutSeconds }, deadline);
  }

  /** Usage of every running container (or those the filter picks). */
  async listContainerStats(filter: { id?: string; podSandboxId?: string; labelSelector?: Record<string, string> } = {}): Promise<ContainerStats[]> {
    const r = await this.rt<{ stats: ContainerStats[] }>('ListContainerStats', {
      filter: { id: filter.id ?? '', podSandboxId: filter.podSandboxId ?? '', labelSelector: filter.labelSelector ?? {} },
    }, 30_000);
    return r.stats;
  }

  /** Streaming exec: the URL on the runtime's streaming server where the session continues. */
  async exec(req: { containerId: string; cmd: string[]; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }): Promise<string> {
    return (await this.rt<{ url: string }>('Exec', req)).url;
  }

  /** Attach to a running container's streams: the URL on the runtime's streaming server. */
  async attach(req: { containerId: string; stdin: boolean; tty: boolean; stdout: boolean; stderr: boolean }): Promise<string> {
    return (await this.rt<{ url: string }>('Attach', req)).url;
  }

  /** Port forwarding into a sandbox's network namespace: the URL on the runtime's streaming server. */
  async portForward(podSandboxId: string, ports: number[]): Promise<string> {
    return (await this.rt<{ url: string }>('PortForward', { podSandboxId, port: ports })).url;
  }

  async listImages(): Promise<Image[]> {
    const r = await this.img<{ images: Image[] }>('ListImages', {});
    return r.images;
  }

  /** The image, or undefined when the runtime does not have it. */
  async imageStatus(image: ImageSpec): Promise<Image | undefined> {
    const r = await this.img<{ image: Image | null }>('ImageStatus', { image });
    return r.image ?? undefined;
  }

  /** Pulls with the registry credentials in `auth` (none: anonymously or as the runtime's registry config says). */
  async pullImage(image: ImageSpec, sandboxConfig?: PodSandboxConfig, auth?: AuthConfig): Promise<string> {
    const r = await this.img<{ imageRef: string }>('PullImage', { image, ...(sandboxConfig ? { sandboxConfig } : {}), ...(auth ? { auth } : {}) });
    return r.imageRef;
  }

  async removeImage(image: ImageSpec): Promise<void> {
    await this.img('RemoveImage', { image });
  }
}

// The kubelet's image manager (upstream's EnsureImageExists): before a container is created its image must be in the
// runtime. imagePullPolicy decides (Never: only a present image; IfNotPresent: pull when missing; Always: pull every
// time), the pod's imagePullSecrets give the credentials (each matching one is tried in turn), and a failed pull puts
// the image in back-off per pod (10 s doubling to 5 min) during which the container waits as ImagePullBackOff.
// Reasons, messages and events follow upstream: InvalidImageName, ErrImageNeverPull, ErrImagePull, ImagePullBackOff;
// Pulling / Pulled / Failed / BackOff.
import type { Container, Pod, Secret } from 'kubernetes-types/core/v1.js';
import type { Clock } from '../../client/index.js';
import { formatGoDuration } from '../../machinery/duration.js';
import { CriError } from '../cri/client.js';
import { grpcStatusName } from '../cri/grpc.js';
import type { Image, ImageSpec, PodSandboxConfig } from '../cri/types.js';
import { Backoff } from '../pods/backoff.js';
import { DockerKeyring, type RegistryAuth } from './credentials.js';
import { applyDefaultImageTag, defaultPullPolicy } from './reference.js';

/** What the image manager needs of the runtime's image service (the CRI client has it). */
export interface ImageService {
  imageStatus(image: ImageSpec): Promise<Image | undefined>;
  pullImage(image: ImageSpec, sandboxConfig?: PodSandboxConfig, auth?: RegistryAuth): Promise<string>;
}

export type ImageErrorReason = 'InvalidImageName' | 'ImageInspectError' | 'ErrImageNeverPull' | 'ErrImagePull' | 'ImagePullBackOff';

export type EnsureImageResult =
  | { ok: true; imageRef: string }
  | { ok: false; reason: ImageErrorReason; message: string; /** Try again after this long. */ retryAfterMs: number };

export type ImageEvent = (pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string) => void;

export interface ImageManagerOptions {
  images: ImageService;
  clock: Clock;
  event: ImageEvent;
  /** Pull back-off (default 10 s doubling to 5 min, as upstream's kubelet). */
  backoff?: Backoff;
}

/** Errors that are not pulls (inspecting, a bad name) are retried at the pod resync pace. */
const RETRY_MS = 5000;

/** The message of a CRI error as Go's gRPC status prints it ("rpc error: code = NotFound desc = …"). */
export function errorText(err: unknown): string {
  if (err instanceof CriError) {
    const code = grpcStatusName(err.code).toLowerCase().replace(/(^|_)([a-z])/g, (_m, _u: string, c: string) => c.toUpperCase());
    return `rpc error: code = ${code} desc = ${err.details}`;
  }
  return (err as Error).message;
}

export class ImageManager {
  readonly backoff: Backoff;

  constructor(private readonly o: ImageManagerOptions) {
    this.backoff = o.backoff ?? new Backoff(o.clock);
  }

  /** Makes sure `container`'s image is present (pulling it as its policy says); the image ID, or why it is not there. */
  async ensureImageExists(pod: Pod, container: Container, pullSecrets: Secret[], sandboxConfig?: PodSandboxConfig): Promise<EnsureImageResult> {
    const requested = container.image ?? '';
    let image: string;
    try {
      image = applyDefaultImageTag(requested);
    } catch (err) {
      const message = `Failed to apply default image tag ${JSON.stringify(requested)}: ${(err as Error).message}`;
      this.o.event(pod, 'Warning', 'InspectFailed', message);
      return { ok: false, reason: 'InvalidImageName', message, retryAfterMs: RETRY_MS };
    }
    const spec: ImageSpec = { image, userSpecifiedImage: requested };

    let present: Image | undefined;
    try {
      present = await this.o.images.imageStatus(spec);
    } catch (err) {
      const message = `Failed to inspect image ${JSON.stringify(requested)}: ${errorText(err)}`;
      this.o.event(pod, 'Warning', 'InspectFailed', message);
      return { ok: false, reason: 'ImageInspectError', message, retryAfterMs: RETRY_MS };
    }

    const policy = container.imagePullPolicy ?? defaultPullPolicy(requested);
    const mustPull = policy === 'Always' || (policy === 'IfNotPresent' && !present);
    if (!mustPull) {
      if (present) {
        this.o.event(pod, 'Normal', 'Pulled', `Container image ${JSON.stringify(requested)} already present on machine`);
        return { ok: true, imageRef: present.id };
      }
      const message = `Container image ${JSON.stringify(requested)} is not present with pull policy of Never`;
      this.o.event(pod, 'Warning', 'ErrImageNeverPull', message);
      return { ok: false, reason: 'ErrImageNeverPull', message, retryAfterMs: RETRY_MS };
    }

    const key = `${pod.metadata?.uid ?? ''}_${requested}`;
    if (this.backoff.isInBackOffSinceUpdate(key)) {
      const message = `Back-off pulling image ${JSON.stringify(requested)}`;
      this.o.event(pod, 'Normal', 'BackOff', message);
      return { ok: false, reason: 'ImagePullBackOff', message, retryAfterMs: this.backoff.remainingSinceUpdate(key) + 50 };
    }

    this.o.event(pod, 'Normal', 'Pulling', `Pulling image ${JSON.stringify(requested)}`);
    const start = this.o.clock.now();
    const creds = DockerKeyring.fromSecrets(pullSecrets).lookup(image);
    const errors: string[] = [];
    let imageRef: string | undefined;
    // Anonymously when no secret matches; otherwise each matching credential in turn until one works.
    for (const auth of creds.length === 0 ? [undefined] : creds) {
      try {
        imageRef = await this.o.images.pullImage(spec, sandboxConfig, auth);
        break;
      } catch (err) {
        errors.push(errorText(err));
      }
    }
    if (imageRef === undefined) {
      const text = errors.length === 1 ? errors[0]! : `[${errors.join(', ')}]`;
      this.o.event(pod, 'Warning', 'Failed', `Failed to pull image ${JSON.stringify(requested)}: ${text}`);
      this.backoff.next(key, this.o.clock.now());
      // Looked at again halfway through the back-off: ErrImagePull shows for the first half, ImagePullBackOff after.
      return { ok: false, reason: 'ErrImagePull', message: text, retryAfterMs: Math.ceil(this.backoff.get(key) / 2) };
    }
    const took = formatGoDuration((this.o.clock.now() - start) * 1e6);
    let size = 0;
    try {
      size = (await this.o.images.imageStatus({ image: imageRef }))?.size ?? 0;
    } catch {
      // the size is only for the event
    }
    this.o.event(pod, 'Normal', 'Pulled', `Successfully pulled image ${JSON.stringify(requested)} in ${took} (${took} including waiting). Image size: ${size} bytes.`);
    return { ok: true, imageRef };
  }

  /** The pod is gone: drop its pull back-offs. */
  forgetPod(uid: string): void {
    this.backoff.forgetPrefix(`${uid}_`);
  }
}

/**
 * The Secrets a pod's imagePullSecrets name, read with `read`; the ones that cannot be read are skipped with upstream's
 * FailedToRetrieveImagePullSecret warning (the pull is tried anyway).
 */
export async function pullSecretsFor(pod: Pod, read: (namespace: string, name: string) => Promise<Secret>, event: ImageEvent): Promise<Secret[]> {
  const ns = pod.metadata?.namespace ?? 'default';
  const secrets: Secret[] = [];
  const failed: string[] = [];
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    if (!ref.name) continue;
    try {
      secrets.push(await read(ns, ref.name));
    } catch {
      failed.push(ref.name);
    }
  }
  if (failed.length > 0) {
    event(pod, 'Warning', 'FailedToRetrieveImagePullSecret', `Unable to retrieve some image pull secrets (${failed.join(', ')}); attempting to pull the image may not succeed.`);
  }
  return secrets;
}

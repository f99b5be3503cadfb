// Image references as the kubelet reads them (the distribution reference grammar, normalized the docker way):
// `busybox` is docker.io/library/busybox, a first component with a dot, a colon or "localhost" names a registry, a
// reference without tag or digest gets ":latest" (upstream's applyDefaultImageTag keeps the short name for the CRI).

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const HEX64 = /^[a-f0-9]{64}$/;

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';

export interface ImageReference {
  /** The registry host (and port): docker.io when the reference names none. */
  domain: string;
  /** The repository path in that registry (library/busybox for docker.io's short names). */
  path: string;
  tag?: string;
  digest?: string;
}

/** docker's splitDockerDomain: which part of `name` is the registry. */
function splitDomain(name: string): { domain: string; path: string } {
  const i = name.indexOf('/');
  const first = i < 0 ? '' : name.slice(0, i);
  let domain: string;
  let path: string;
  if (i < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    path = name;
  } else {
    domain = first;
    path = name.slice(i + 1);
  }
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`;
  return { domain, path };
}

/** ParseNormalizedNamed: throws an Error with the reference library's message when `image` is not a valid reference. */
export function parseImageReference(image: string): ImageReference {
  if (HEX64.test(image)) throw new Error(`invalid repository name (${image}), cannot specify 64-byte hexadecimal strings`);
  // The name part ends at the tag's colon (after the last slash) or at the digest.
  const at = image.indexOf('@');
  const nameAndTag = at < 0 ? image : image.slice(0, at);
  const slash = nameAndTag.lastIndexOf('/');
  const colon = nameAndTag.lastIndexOf(':');
  const name = colon > slash ? nameAndTag.slice(0, colon) : nameAndTag;
  const { domain, path } = splitDomain(name);
  if (path.toLowerCase() !== path) throw new Error(`invalid reference format: repository name (${path}) must be lowercase`);
  const m = REFERENCE.exec(`${domain}/${path}${image.slice(name.length)}`);
  if (!m) throw new Error('invalid reference format');
  if (m[1]!.length > 255) throw new Error('invalid reference format: repository name must not be more than 255 characters');
  return { domain, path, ...(m[2] ? { tag: m[2] } : {}), ...(m[3] ? { digest: m[3] } : {}) };
}

/**
 * Upstream's applyDefaultImageTag: the image as given plus ":latest" when it has neither tag nor digest. Throws
 * with the kubelet's "couldn't parse image name" message for an invalid reference.
 */
export function applyDefaultImageTag(image: string): string {
  let ref: ImageReference;
  try {
    ref = parseImageReference(image);
  } catch (err) {
    throw new Error(`couldn't parse image name ${JSON.stringify(image)}: ${(err as Error).message}`);
  }
  return ref.tag === undefined && ref.digest === undefined ? `${image}:${DEFAULT_TAG}` : image;
}

/** The repository an image is pulled from, as credentials are matched against it: `domain/path`. */
export function repositoryOf(image: string): string {
  const ref = parseImageReference(image);
  return `${ref.domain}/${ref.path}`;
}

/** Upstream's default imagePullPolicy: Always for :latest or an untagged image, IfNotPresent otherwise. */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.slice(image.lastIndexOf('/') + 1);
  const colon = last.indexOf(':');
  return colon < 0 || last.slice(colon + 1) === DEFAULT_TAG ? 'Always' : 'IfNotPresent';
}

// API discovery from the resource catalog: legacy APIVersions (/api), APIGroupList (/apis), APIGroup (/apis/G),
// APIResourceList (/api/v1, /apis/G/V), and the aggregated apidiscovery.k8s.io v2/v2beta1 APIGroupDiscoveryList
// for /api and /apis when the Accept header asks for it. Bodies are computed once and cached until resources change.
import { createHash } from 'node:crypto';
import { BUILTIN_RESOURCES, GROUP_ORDER, type ResourceInfo } from '../../api/catalog.js';
import { apiVersionOf } from '../../api/object.js';
import { acceptsPlainJson, parseAccept } from './accept.js';

export interface DiscoveryAnswer {
  body: Buffer;
  contentType: string;
  /** Hex digest of the body; send quoted as the ETag header. */
  etag: string;
  /** Extra response headers: Vary: Accept where the shape depends on the Accept header (/api, /apis). */
  headers?: Record<string, string>;
}

export type AggregatedVersion = 'v2' | 'v2beta1';

export const AGGREGATED_CONTENT_TYPE: Readonly<Record<AggregatedVersion, string>> = {
  v2: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
  v2beta1: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
};

export interface DiscoveryOptions {
  resources?: readonly ResourceInfo[];
  groupOrder?: readonly { group: string; versions: readonly string[] }[];
  /** Advertised in APIVersions.serverAddressByClientCIDRs, "host:port". */
  serverAddress?: string;
}

/** Resources whose objects are stored under another group-version (the storage version hash names that one). */
const STORAGE_KIND: Readonly<Record<string, { group: string; version: string; kind: string }>> = {
  'autoscaling/horizontalpodautoscalers': { group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler' },
  'events.k8s.io/events': { group: '', version: 'v1', kind: 'Event' },
};

/** Upstream's storageVersionHash: base64 of the first 8 bytes of sha256("group/version/Kind"). */
export function storageVersionHash(group: string, version: string, kind: string): string {
  return createHash('sha256').update(`${group}/${version}/${kind}`).digest().subarray(0, 8).toString('base64');
}

/** Kubernetes version priority: GA before beta before alpha, higher numbers first, others last alphabetically. */
export function compareKubeVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return { tier: 3, major: 0, minor: 0 };
    return { tier: m[2] === undefined ? 0 : m[2] === 'beta' ? 1 : 2, major: Number(m[1]), minor: Number(m[3] ?? 0) };
  };
  const x = parse(a);
  const y = parse(b);
  if (x.tier !== y.tier) return x.tier - y.tier;
  if (x.tier === 3) return a.localeCompare(b);
  return y.major - x.major || y.minor - x.minor;
}

/** A storage-backed resource: everything but create-only virtual resources such as bindings. */
function hasStorage(r: ResourceInfo): boolean {
  return r.verbs.includes('get') || r.verbs.includes('list');
}

function answer(body: unknown, contentType: string): DiscoveryAnswer {
  const buf = Buffer.from(JSON.stringify(body));
  return { body: buf, contentType, etag: createHash('sha512').update(buf).digest('hex').toUpperCase() };
}

export class Discovery {
  private resources: ResourceInfo[];
  private groupOrder: { group: string; versions: string[] }[];
  private readonly serverAddress: string;
  private readonly cache = new Map<string, DiscoveryAnswer>();
  /** "group/resource" -> version objects are stored in, for custom resources served in several versions. */
  private readonly storageVersions = new Map<string, string>();

  constructor(opts: DiscoveryOptions = {}) {
    this.resources = [...(opts.resources ?? BUILTIN_RESOURCES)];
    this.groupOrder = (opts.groupOrder ?? GROUP_ORDER).map((g) => ({ group: g.group, versions: [...g.versions] }));
    this.serverAddress = opts.serverAddress ?? '127.0.0.1:6443';
  }

  /**
   * Adds (or replaces, by group/version/resource) resources, e.g. those of a CustomResourceDefinition; the
   * storage version (a CRD's `storage: true` version) names the storageVersionHash of every version.
   */
  addResources(resources: readonly ResourceInfo[], opts: { storageVersion?: string } = {}): void {
    for (const r of resources) {
      if (opts.storageVersion) this.storageVersions.set(`${r.group}/${r.resource}`, opts.storageVersion);
      this.resources = this.resources.filter((x) => !(x.group === r.group && x.version === r.version && x.resource === r.resource));
      this.resources.push(r);
      let g = this.groupOrder.find((x) => x.group === r.group);
      if (!g) this.groupOrder.push((g = { group: r.group, versions: [] }));
      if (!g.versions.includes(r.version)) g.versions = [...g.versions, r.version].sort(compareKubeVersions);
    }
    this.cache.clear();
  }

  /** Removes one resource, or every resource of a group-version when `resource` is omitted. */
  removeResources(group: string, version: string, resource?: string): void {
    this.resources = this.resources.filter((x) => !(x.group === group && x.version === version && (resource === undefined || x.resource === resource)));
    for (const g of this.groupOrder) {
      if (g.group !== group) continue;
      g.versions = g.versions.filter((v) => v !== version || this.resources.some((r) => r.group === group && r.version === v));
    }
    this.groupOrder = this.groupOrder.filter((g) => g.versions.length > 0);
    for (const key of this.storageVersions.keys()) if (!this.resources.some((r) => `${r.group}/${r.resource}` === key)) this.storageVersions.delete(key);
    this.cache.clear();
  }

  /** The discovery document for a path, in the shape the Accept header asks for; undefined when the path is not discovery. */
  discovery(path: string, acceptHeader: string | undefined): DiscoveryAnswer | undefined {
    const p = path.replace(/\/+$/, '');
    const segs = p.split('/').filter(Boolean);
    let key: string;
    if (p === '/api' || p === '/apis') {
      const shape = this.aggregatedVersion(acceptHeader);
      key = `${p}|${shape ?? 'legacy'}`;
    } else if (segs[0] === 'api' && segs.length === 2) {
      if (!this.servesGroupVersion('', segs[1])) return undefined;
      key = p;
    } else if (segs[0] === 'apis' && (segs.length === 2 || segs.length === 3)) {
      if (segs.length === 2 ? !this.groupOrder.some((g) => g.group === segs[1] && g.group !== '') : !this.servesGroupVersion(segs[1], segs[2])) return undefined;
      key = p;
    } else {
      return undefined;
    }
    let hit = this.cache.get(key);
    if (!hit) {
      hit = this.compute(segs, key.split('|')[1] as AggregatedVersion | 'legacy' | undefined);
      if (segs.length === 1) hit.headers = { Vary: 'Accept' };
      this.cache.set(key, hit);
    }
    return hit;
  }

  private servesGroupVersion(group: string, version: string): boolean {
    return this.groupOrder.some((g) => g.group === group && g.versions.includes(version));
  }

  /** The aggregated version the client prefers, or undefined when a plain JSON answer comes first. */
  private aggregatedVersion(accept: string | undefined): AggregatedVersion | undefined {
    for (const r of parseAccept(accept)) {
      const v = r.params.v;
      if (r.mediaType === 'application/json' && r.params.g === 'apidiscovery.k8s.io' && r.params.as === 'APIGroupDiscoveryList' && (v === 'v2' || v === 'v2beta1')) return v;
      if (acceptsPlainJson(r)) return undefined;
    }
    return undefined;
  }

  private compute(segs: string[], shape: AggregatedVersion | 'legacy' | undefined): DiscoveryAnswer {
    if (segs.length === 1) {
      const legacy = segs[0] === 'api';
      if (shape && shape !== 'legacy') return answer(this.aggregated(legacy, shape), AGGREGATED_CONTENT_TYPE[shape]);
      return answer(legacy ? this.apiVersions() : this.groupList(), 'application/json');
    }
    if (segs[0] === 'api') return answer(this.resourceList('', segs[1]), 'application/json');
    if (segs.length === 2) return answer({ kind: 'APIGroup', apiVersion: 'v1', ...this.group(segs[1]) }, 'application/json');
    return answer(this.resourceList(segs[1], segs[2]), 'application/json');
  }

  private apiVersions(): unknown {
    const core = this.groupOrder.find((g) => g.group === '');
    return {
      kind: 'APIVersions',
      versions: core?.versions ?? [],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: this.serverAddress }],
    };
  }

  private group(name: string): { name: string; versions: { groupVersion: string; version: string }[]; preferredVersion: { groupVersion: string; version: string } } {
    const g = this.groupOrder.find((x) => x.group === name);
    const versions = (g?.versions ?? []).map((version) => ({ groupVersion: apiVersionOf(name, version), version }));
    return { name, versions, preferredVersion: versions[0] };
  }

  private groupList(): unknown {
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: this.groupOrder.filter((g) => g.group !== '').map((g) => this.group(g.group)) };
  }

  private resourcesOf(group: string, version: string): ResourceInfo[] {
    return this.resources.filter((r) => r.group === group && r.version === version).sort((a, b) => (a.resource < b.resource ? -1 : 1));
  }

  private resourceList(group: string, version: string): unknown {
    const entries: Record<string, unknown>[] = [];
    for (const r of this.resourcesOf(group, version)) {
      const key = `${r.group}/${r.resource}`;
      const storageVersion = this.storageVersions.get(key);
      const storage = STORAGE_KIND[key] ?? (storageVersion ? { ...r, version: storageVersion } : r);
      entries.push({
        name: r.resource,
        singularName: r.singular,
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: r.verbs,
        ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
        ...(r.categories.length ? { categories: r.categories } : {}),
        ...(hasStorage(r) ? { storageVersionHash: storageVersionHash(storage.group, storage.version, storage.kind) } : {}),
      });
      for (const s of r.subresources) {
        const foreign = s.kind.group !== group || s.kind.version !== version;
        entries.push({
          name: `${r.resource}/${s.name}`,
          singularName: '',
          namespaced: r.namespaced,
          ...(foreign ? { group: s.kind.group, version: s.kind.version } : {}),
          kind: s.kind.kind,
          verbs: s.verbs,
        });
      }
    }
    entries.sort((a, b) => ((a.name as string) < (b.name as string) ? -1 : 1));
    return group === ''
      ? { kind: 'APIResourceList', groupVersion: version, resources: entries }
      : { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(group, version), resources: entries };
  }

  private aggregated(legacy: boolean, shape: AggregatedVersion): unknown {
    const groups = this.groupOrder.filter((g) => (g.group === '') === legacy);
    const responseKind = (gk: { group: string; version: string; kind: string }, group: string, version: string) =>
      gk.group === group && gk.version === version ? { group: '', version: '', kind: gk.kind } : { group: gk.group, version: gk.version, kind: gk.kind };
    return {
      kind: 'APIGroupDiscoveryList',
      apiVersion: `apidiscovery.k8s.io/${shape}`,
      metadata: {},
      items: groups.map((g) => ({
        metadata: g.group === '' ? { creationTimestamp: null } : { name: g.group, creationTimestamp: null },
        versions: g.versions.map((version) => ({
          version,
          resources: this.resourcesOf(g.group, version).map((r) => ({
            resource: r.resource,
            responseKind: { group: '', version: '', kind: r.kind },
            scope: r.namespaced ? 'Namespaced' : 'Cluster',
            singularResource: r.singular,
            verbs: r.verbs,
            ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
            ...(r.categories.length ? { categories: r.categories } : {}),
            ...(r.subresources.length
              ? {
                  subresources: [...r.subresources]
                    .sort((a, b) => (a.name < b.name ? -1 : 1))
                    .map((s) => ({ subresource: s.name, responseKind: responseKind(s.kind, g.group, version), verbs: s.verbs })),
                }
              : {}),
          })),
          freshness: 'Current',
        })),
      })),
    };
  }
}

export function createDiscovery(opts: DiscoveryOptions = {}): Discovery {
  return new Discovery(opts);
}

/** Discovery over the built-in catalog alone, for callers without custom resources. */
const builtinDiscovery = new Discovery();

export function discovery(path: string, acceptHeader: string | undefined): DiscoveryAnswer | undefined {
  return builtinDiscovery.discovery(path, acceptHeader);
}

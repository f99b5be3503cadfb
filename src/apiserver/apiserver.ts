// Assembles the API server's request handling from its parts: storage → registry (stores + strategies +
// admission) → REST handlers, discovery and OpenAPI. The HTTPS server, authentication and authorization wrap this.
import type { KubeletClientConfig } from './endpoints/pod-log.js';
import type { Logger } from './log.js';
import type { KubeObject } from '../api/object.js';
import type { ResourceInfo } from '../api/catalog.js';
import type { Storage } from '../storage/types.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from '../machinery/patch/index.js';
import { Registry, type Converter } from './registry/registry.js';
import { strategyKey, type Strategy } from './registry/strategy.js';
import { coreStrategies } from './registry/core-strategies.js';
import { groupStrategies } from './registry/group-strategies.js';
import { builtinConverters } from './registry/converters.js';
import { NamespaceLifecycle } from './admission/namespace-lifecycle.js';
import { NamespaceCache, ObjectCache } from './admission/namespace-cache.js';
import { DefaultTolerationSeconds } from './admission/default-toleration-seconds.js';
import { PriorityAdmission } from './admission/priority.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import { NodeRestriction } from './admission/node-restriction.js';
import { ServiceAccountAdmission } from './admission/service-account.js';
import { QuotaPresence, ResourceQuotaAdmission } from './admission/resourcequota/admission.js';
import { csrRequester } from './registry/certificatesigningrequests/strategy.js';
import { ServiceAllocator, firstServiceIP } from './registry/services/allocator.js';
import { parseCidr } from './pki/cidr.js';
import { createApiHandler, type ApiHandler } from './endpoints/handler.js';
import { goTypeError, type SchemaLookup } from './endpoints/go-decode.js';
import type { SchemaObject } from './openapi/types.js';
import type { ApiServices, PatchType } from './endpoints/services.js';
import { printerFor, toTable } from './tables/index.js';
import { loadOpenAPI, type OpenAPI } from './openapi/index.js';
import { Discovery } from './discovery/index.js';
import { createFieldManager } from './fieldmanager.js';
import { bootstrapCluster } from './bootstrap.js';
import { METRICS_GROUP, METRICS_RESOURCES, MetricsApi } from './resourcemetrics/api.js';
import { LEGACY_TOKEN_LAST_USED_LABEL, type ServiceAccountTokenAuthenticator, type ServiceAccountTokens } from './auth/serviceaccount.js';
import { TokenObjectCaches } from './auth/token-objects.js';
import { issuerDiscovery, joinHostPort, type IssuerDiscovery } from './auth/issuer-discovery.js';
import { RbacCaches } from './auth/rbac/caches.js';
import type { RbacWiring } from './auth/rbac/chain.js';
import { RbacEscalationCheck } from './auth/rbac/escalation.js';
import { AUTHORIZATION_RESOURCES, isReviewRequest, serveReview } from './auth/rbac/reviews.js';
import { requestInfoOf } from './request-info.js';
import { writeError } from './endpoints/negotiation.js';
import { ApiError, isApiError } from '../machinery/errors.js';
import type { UserInfo } from './auth/user.js';
import type { MutatingAdmission, ValidatingAdmission } from './admission/types.js';
import { getIfExists } from './endpoints/token-request.js';
import type { NodeGraph } from './auth/node-graph.js';
import { admissionPluginEnabled, type AdmissionPluginFlags } from './admission/plugins.js';

export interface ApiServerOptions {
  serviceCIDR: string;
  advertiseAddress: string;
  securePort: number;
  now?: () => Date;
  /** Close long-running requests on shutdown: register returns an unregister function. */
  registerLongRunning(close: () => void): () => void;
  onWatchStart?(resource: string, group: string): void;
  onWatchStop?(resource: string, group: string): void;
  /** --default-not-ready-toleration-seconds / --default-unreachable-toleration-seconds (300 each). */
  defaultNotReadyTolerationSeconds?: number;
  defaultUnreachableTolerationSeconds?: number;
  /** The client certificate shown to kubelets when proxying pods/log. */
  kubeletClient?: KubeletClientConfig;
  /** How often the built-in metrics-server scrapes kubelets (--metric-resolution, default 15 s). */
  metricResolutionMs?: number;
  /** The service-account token signer and authenticator (serviceaccounts/token, TokenReview, bound-token checks). */
  serviceAccountTokens?: ServiceAccountTokens;
  serviceAccountAuthenticator?: ServiceAccountTokenAuthenticator;
  /** --service-account-max-token-expiration (seconds) and --service-account-extend-token-expiration (default true). */
  serviceAccountMaxTokenExpirationSeconds?: number;
  serviceAccountExtendTokenExpiration?: boolean;
  /** --service-account-jwks-uri: the key set's URL in the issuer discovery document (default: this server's). */
  serviceAccountJwksUri?: string;
  /** --authorization-mode (read by the server when it builds its authorizer chain). */
  authorizationMode?: readonly ('AlwaysAllow' | 'AlwaysDeny' | 'Node' | 'RBAC')[];
  /** The RBAC authorizer's objects, filled from this server's caches, and the chain reviews and escalation checks ask. */
  rbac?: RbacWiring;
  /**
   * Where start-up work reports: what the bootstrap policy reconcile changed, a problem that keeps issuer discovery
   * off (upstream logs it and serves none).
   */
  log?: Pick<Logger, 'info' | 'warn'>;
  /** The node authorizer's graph: fed here from the pod, claim and volume stores. */
  nodeGraph?: NodeGraph;
  /** --enable-admission-plugins / --disable-admission-plugins (upstream names; checked by admissionFlagErrors). */
  admissionPlugins?: AdmissionPluginFlags;
}

export interface ApiServer {
  handler: ApiHandler;
  registry: Registry;
  openapi: OpenAPI;
  discovery: Discovery;
  /** Stops background work (the namespace cache's watch). */
  close(): void;
}

function mergeStrategies(...maps: ReadonlyMap<string, Strategy>[]): Map<string, Strategy> {
  const merged = new Map<string, Strategy>();
  for (const m of maps) {
    for (const [k, v] of m) {
      if (merged.has(k)) throw new Error(`strategy for ${k} registered twice`);
      merged.set(k, v);
    }
  }
  return merged;
}

export async function createApiServer(storage: Storage, opts: ApiServerOptions): Promise<ApiServer> {
  const now = opts.now ?? (() => new Date());
  const strategies = mergeStrategies(coreStrategies, groupStrategies);
  const serviceCidr = parseCidr(opts.serviceCIDR);
  // Admission needs the registry and the registry needs admission: the plugins read through this late binding.
  const late: { registry?: Registry; namespaces?: NamespaceCache; priorityClasses?: ObjectCache; quotas?: ObjectCache; serviceAccounts?: ObjectCache } = {};
  const lifecycle = new NamespaceLifecycle((name) => late.namespaces!.get(name));
  const allocator = new ServiceAllocator(serviceCidr, async () => (await late.registry!.store('', 'services').list({})).items);
  const enabled = <T extends { readonly name: string }>(plugins: T[]): T[] => plugins.filter((p) => admissionPluginEnabled(opts.admissionPlugins ?? {}, p.name));
  // Privilege-escalation prevention for RBAC writes, asking the same authorizer chain as requests.
  const rbac = opts.rbac;
  const escalation = rbac
    ? new RbacEscalationCheck({ authorizer: rbac.authorizer, resolver: rbac.rbac.resolver, rulesFor: (user, ns) => rbac.rbac.rulesFor(user, ns) })
    : undefined;
  const registry = new Registry({
    storage,
    strategies,
    converters: builtinConverters as ReadonlyMap<string, Converter>,
    mutating: [
      ...enabled<MutatingAdmission>([
        lifecycle,
        allocator,
        csrRequester,
        // A ServiceAccount created a moment ago may not have reached the watch yet: read it then.
        new ServiceAccountAdmission(async (ns, name) => late.serviceAccounts!.cached(ns, name) ?? (await getIfExists(late.registry!, 'serviceaccounts', ns, name))),
        new DefaultTolerationSeconds(opts.defaultNotReadyTolerationSeconds, opts.defaultUnreachableTolerationSeconds),
        // Upstream's Priority plugin reads a PriorityClass informer; this is the same, from a watch.
        new PriorityAdmission(async () => late.priorityClasses!.list() as unknown as PriorityClass[]),
      ]),
      // Upstream's RBAC storage checks escalation after mutating admission and before validation.
      ...(escalation ? [escalation] : []),
    ],
    validating: enabled<ValidatingAdmission>([
      new NodeRestriction(),
      new ResourceQuotaAdmission(
        () => late.registry!.store('', 'resourcequotas'),
        () => now().getTime(),
        new QuotaPresence((ns) => late.quotas!.list(ns).length, () => late.registry!.store('', 'resourcequotas'), () => now().getTime()),
      ),
    ]),
    now,
  });
  late.registry = registry;
  late.namespaces = new NamespaceCache(registry.store('', 'namespaces'));
  late.priorityClasses = new ObjectCache(registry.store('scheduling.k8s.io', 'priorityclasses'));
  late.quotas = new ObjectCache(registry.store('', 'resourcequotas'));
  late.serviceAccounts = new ObjectCache(registry.store('', 'serviceaccounts'));

  const openapi = loadOpenAPI();
  const discovery = new Discovery({ serverAddress: `${opts.advertiseAddress}:${opts.securePort}` });
  const schemaName = (info: ResourceInfo) => openapi.schemaNameFor(info.group, info.version, info.kind);
  // One lookup function per set of schemas (a new set when custom resources change it): the Go type checker keeps the
  // types it derived from a set for as long as that lookup is used.
  let typeLookupOf: { all: Readonly<Record<string, SchemaObject>>; lookup: SchemaLookup } | undefined;
  const typeLookup = (): SchemaLookup => {
    const all = openapi.schemas();
    if (typeLookupOf?.all !== all) typeLookupOf = { all, lookup: (n) => (Object.hasOwn(all, n) ? all[n] : undefined) };
    return typeLookupOf.lookup;
  };
  const services: ApiServices = {
    now,
    tables: { printerFor, toTable },
    fieldManager: createFieldManager(openapi, schemaName, now),
    patcher: {
      patch(info: ResourceInfo, type: PatchType, live: KubeObject, patch: unknown): KubeObject {
        switch (type) {
          case 'json-patch':
            return applyJsonPatch(live, patch) as KubeObject;
          case 'merge-patch':
            return applyMergePatch(live, patch) as KubeObject;
          case 'strategic-merge-patch':
            return applyStrategicMergePatch(live, patch, { schemas: openapi.schemas(), rootSchema: schemaName(info) }) as KubeObject;
        }
      },
    },
    unknownFields(info, obj, prune) {
      const name = schemaName(info);
      return name ? openapi.unknownFields(obj, name, prune) : [];
    },
    pruneUnknownFields(info, obj) {
      const name = schemaName(info);
      if (name) openapi.pruneUnknownFields(obj, name);
    },
    knownKind(group, version, kind) {
      return openapi.schemaNameFor(group, version, kind)?.startsWith('io.k8s.') ?? false;
    },
    typeError(info, obj) {
      const name = schemaName(info);
      return name ? goTypeError(obj, name, typeLookup()) : undefined;
    },
    selectableFields(info, obj) {
      const strategy = strategies.get(strategyKey(info.group, info.resource));
      return {
        'metadata.name': obj.metadata.name ?? '',
        ...(info.namespaced ? { 'metadata.namespace': obj.metadata.namespace ?? '' } : {}),
        ...(strategy?.selectableFields?.(obj) ?? {}),
      };
    },
  };

  // metrics.k8s.io: scraped from the kubelets with the same client certificate as pods/log.
  const metrics = opts.kubeletClient ? new MetricsApi({ registry, kubelet: opts.kubeletClient, now, ...(opts.metricResolutionMs ? { resolutionMs: opts.metricResolutionMs } : {}) }) : undefined;
  if (metrics) discovery.addResources(METRICS_RESOURCES);
  if (rbac) discovery.addResources(AUTHORIZATION_RESOURCES);
  const handler = createApiHandler({
    registry,
    services,
    watch: {
      registerLongRunning: opts.registerLongRunning,
      onStart: opts.onWatchStart,
      onStop: opts.onWatchStop,
    },
    discovery: (path, accept) => discovery.discovery(path, accept),
    openapi: (path, query, accept, ifNoneMatch) =>
      path === '/openapi/v2' ? openapi.respondV2({ accept, ifNoneMatch }) : openapi.respondV3(path, query, { accept, ifNoneMatch }),
    ...(opts.kubeletClient ? { kubeletClient: opts.kubeletClient } : {}),
    ...(metrics ? { metrics: { group: METRICS_GROUP, handle: (info, query, req, res) => metrics.handle(info, query, req, res) } } : {}),
    ...(opts.serviceAccountTokens
      ? {
          tokenIssuing: {
            tokens: opts.serviceAccountTokens,
            maxExpirationSeconds: opts.serviceAccountMaxTokenExpirationSeconds,
            extendExpiration: opts.serviceAccountExtendTokenExpiration ?? true,
            authenticator: opts.serviceAccountAuthenticator,
          },
        }
      : {}),
  });
  // Service account issuer discovery (/.well-known/openid-configuration, /openid/v1/jwks) in front of the API paths.
  let discoveryDocs: IssuerDiscovery | undefined;
  if (opts.serviceAccountTokens) {
    try {
      discoveryDocs = issuerDiscovery({
        tokens: opts.serviceAccountTokens,
        jwksUri: opts.serviceAccountJwksUri,
        externalAddress: joinHostPort(opts.advertiseAddress, opts.securePort),
      });
    } catch (err) {
      opts.log?.warn('service account issuer discovery is not served', { err: String(err) });
    }
  }
  const reviews = rbac ? { authorizer: rbac.authorizer, rulesFor: (user: UserInfo, ns: string) => rbac.rulesFor(user, ns) } : undefined;
  const apiHandler: ApiHandler =
    discoveryDocs || reviews
      ? async (req, res, user) => {
          // authorization.k8s.io reviews (kubectl auth can-i) are answered by the authorizer, never stored.
          if (reviews && req.url?.startsWith('/apis/authorization.k8s.io/')) {
            const info = requestInfoOf(req);
            if (isReviewRequest(info)) {
              try {
                await serveReview(reviews, info, req, res, user);
              } catch (err) {
                writeError(res, isApiError(err) ? err : ApiError.internal(err instanceof Error ? err.message : String(err), err));
              }
              return;
            }
          }
          if (!discoveryDocs?.serve(req, res)) await handler(req, res, user);
        }
      : handler;
  // Bound service account tokens are checked against the objects they name (upstream's --service-account-lookup), from
  // watched caches.
  const tokenObjects = opts.serviceAccountAuthenticator
    ? new TokenObjectCaches(
        { pods: registry.store('', 'pods'), secrets: registry.store('', 'secrets'), nodes: registry.store('', 'nodes') },
        late.serviceAccounts,
        (resource, ns, name) => getIfExists(registry, resource, ns, name),
        // Upstream patches the label through its loopback client; the same write, as the API server itself.
        async (ns, name, uid, day) => {
          await registry.store('', 'secrets').update(
            ns,
            name,
            (cur) => {
              if (!cur || cur.metadata.uid !== uid) throw new Error(`secret ${ns}/${name} was replaced`);
              cur.metadata.labels = { ...cur.metadata.labels, [LEGACY_TOKEN_LAST_USED_LABEL]: day };
              return cur;
            },
            { user: { name: 'system:apiserver', groups: ['system:masters'] }, dryRun: false },
          );
        },
      )
    : undefined;

  const rbacCaches = rbac
    ? new RbacCaches({
        roles: registry.store('rbac.authorization.k8s.io', 'roles'),
        roleBindings: registry.store('rbac.authorization.k8s.io', 'rolebindings'),
        clusterRoles: registry.store('rbac.authorization.k8s.io', 'clusterroles'),
        clusterRoleBindings: registry.store('rbac.authorization.k8s.io', 'clusterrolebindings'),
      })
    : undefined;
  await Promise.all([
    rbacCaches?.start(),
    late.priorityClasses.start(),
    late.quotas.start(),
    late.serviceAccounts.start(),
    tokenObjects?.start(),
    opts.nodeGraph?.start({ pods: registry.store('', 'pods'), claims: registry.store('', 'persistentvolumeclaims'), volumes: registry.store('', 'persistentvolumes') }),
  ]);
  await bootstrapCluster(registry, {
    serviceIP: firstServiceIP(serviceCidr),
    advertiseAddress: opts.advertiseAddress,
    securePort: opts.securePort,
    ...(opts.log ? { log: opts.log } : {}),
  });
  await late.namespaces.start();
  // RBAC decides from its caches once they hold the bootstrap policy.
  if (rbacCaches) {
    await rbacCaches.caughtUp();
    rbac!.objects.attach(rbacCaches);
  }
  if (tokenObjects && opts.serviceAccountAuthenticator) opts.serviceAccountAuthenticator.getter = tokenObjects.getter();
  const caches = [late.namespaces, late.priorityClasses, late.quotas, late.serviceAccounts];
  return { handler: apiHandler, registry, openapi, discovery, close: () => {
    for (const c of caches) c.stop();
    rbacCaches?.stop();
    tokenObjects?.stop();
    opts.nodeGraph?.stop();
    metrics?.close();
  } };
}

// Upstream's tokens controller ("serviceaccount-token"): a Secret of type kubernetes.io/service-account-token that
// names a ServiceAccount (annotation kubernetes.io/service-account.name) gets a non-expiring token signed with the
// service-account key (legacy claims), the cluster CA (ca.crt) and its namespace, and the service account's uid
// annotation. A token Secret whose service account is gone (or was replaced: another uid) is deleted, and deleting a
// service account deletes its token Secrets. Two queues as upstream: service accounts and secrets, keys
// "namespace/name".
import type { Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { isConflict, isNotFound } from '../../machinery/errors.js';
import {
  RateLimitingQueue,
  SharedIndexInformer,
  deletedObject,
  listWatcherFor,
  type ResourceClient,
} from '../../client/index.js';
import {
  SERVICE_ACCOUNT_NAME_ANNOTATION,
  SERVICE_ACCOUNT_TOKEN_SECRET_TYPE,
  SERVICE_ACCOUNT_UID_ANNOTATION,
  ServiceAccountTokens,
} from '../../apiserver/auth/serviceaccount.js';
import type { KubeObject } from '../../api/object.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';
import { runQueueController } from '../run.js';

export const TOKENS_CONTROLLER_NAME = 'serviceaccount-token';
const BY_SERVICE_ACCOUNT = 'serviceAccount';

const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
const splitKey = (key: string): [string, string] => {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
};
const b64 = (s: string) => Buffer.from(s).toString('base64');

export class TokensController implements Controller {
  readonly serviceAccountQueue: RateLimitingQueue<string>;
  readonly secretQueue: RateLimitingQueue<string>;
  private readonly serviceAccounts: SharedIndexInformer<ServiceAccount>;
  /** Only token Secrets (field selector type=...), indexed by "namespace/service account name". */
  readonly secrets: SharedIndexInformer<Secret>;
  private readonly secretClient: ResourceClient<Secret>;
  private readonly serviceAccountClient: ResourceClient<ServiceAccount>;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly tokens: ServiceAccountTokens,
    private readonly rootCA: string | undefined,
  ) {
    this.serviceAccountQueue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.secretQueue = new RateLimitingQueue<string>({ clock: ctx.clock });
    this.secretClient = ctx.client.resource<Secret>({ group: '', version: 'v1', resource: 'secrets' });
    this.serviceAccountClient = ctx.client.resource<ServiceAccount>({ group: '', version: 'v1', resource: 'serviceaccounts' });
    this.serviceAccounts = ctx.informers.informerFor<ServiceAccount>({ group: '', version: 'v1', resource: 'serviceaccounts' });
    this.secrets = new SharedIndexInformer<Secret>(listWatcherFor(this.secretClient, { fieldSelector: `type=${SERVICE_ACCOUNT_TOKEN_SECRET_TYPE}` }), {
      clock: ctx.clock,
      reflector: { name: 'serviceaccount-token secrets' },
      indexers: {
        [BY_SERVICE_ACCOUNT]: (s) => {
          const sa = s.metadata?.annotations?.[SERVICE_ACCOUNT_NAME_ANNOTATION];
          return sa ? [`${s.metadata?.namespace ?? ''}/${sa}`] : [];
        },
      },
    });
    const enqueueSa = (sa: ServiceAccount) => this.serviceAccountQueue.add(keyOf(sa));
    this.serviceAccounts.addEventHandler({ onAdd: enqueueSa, onUpdate: (_o, sa) => enqueueSa(sa), onDelete: (obj) => enqueueSa(deletedObject(obj)) });
    const enqueueSecret = (s: Secret) => this.secretQueue.add(keyOf(s));
    this.secrets.addEventHandler({ onAdd: enqueueSecret, onUpdate: (_o, s) => enqueueSecret(s) });
  }

  async run(signal: AbortSignal): Promise<void> {
    this.secrets.run();
    try {
      const waitForSync = async () => (await this.serviceAccounts.waitForCacheSync()) && (await this.secrets.waitForCacheSync());
      const log = this.ctx.log;
      await Promise.all([
        runQueueController({ name: `${TOKENS_CONTROLLER_NAME} serviceaccounts`, waitForSync, queue: this.serviceAccountQueue, workers: 1, sync: (k) => this.syncServiceAccount(k), log }, signal),
        runQueueController({ name: `${TOKENS_CONTROLLER_NAME} secrets`, waitForSync, queue: this.secretQueue, workers: 1, sync: (k) => this.syncSecret(k), log }, signal),
      ]);
    } finally {
      await this.secrets.stop();
    }
  }

  /** A service account that is gone takes its token Secrets with it. */
  async syncServiceAccount(key: string): Promise<void> {
    const [namespace, name] = splitKey(key);
    if (this.serviceAccounts.lister().namespace(namespace).get(name)) return;
    for (const secret of this.secrets.indexer.byIndex(BY_SERVICE_ACCOUNT, key)) await this.deleteSecret(secret);
  }

  async syncSecret(key: string): Promise<void> {
    const [namespace, name] = splitKey(key);
    const secret = this.secrets.lister().namespace(namespace).get(name);
    if (!secret || secret.type !== SERVICE_ACCOUNT_TOKEN_SECRET_TYPE || secret.metadata?.deletionTimestamp) return;
    const saName = secret.metadata?.annotations?.[SERVICE_ACCOUNT_NAME_ANNOTATION];
    if (!saName) return;
    const sa = await this.serviceAccount(namespace, saName, secret.metadata?.annotations?.[SERVICE_ACCOUNT_UID_ANNOTATION]);
    if (!sa) {
      await this.deleteSecret(secret);
      return;
    }
    await this.fillIn(secret, sa);
  }

  /** The service account a Secret names, from the cache or (a miss: it may be new) from the server; uid must match. */
  private async serviceAccount(namespace: string, name: string, uid: string | undefined): Promise<ServiceAccount | undefined> {
    const matches = (sa: ServiceAccount | undefined) => (sa && (!uid || sa.metadata?.uid === uid) ? sa : undefined);
    const cached = matches(this.serviceAccounts.lister().namespace(namespace).get(name));
    if (cached) return cached;
    try {
      return matches(await this.serviceAccountClient.get(name, { namespace }));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async deleteSecret(secret: Secret): Promise<void> {
    try {
      await this.secretClient.delete(secret.metadata?.name ?? '', { namespace: secret.metadata?.namespace, preconditions: { uid: secret.metadata?.uid } });
    } catch (err) {
      // Already gone, or replaced by another Secret of that name (which gets its own sync).
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }

  /** ca.crt, namespace, token and the uid annotation, when one is missing or stale (upstream's generateTokenIfNeeded). */
  private async fillIn(cached: Secret, sa: ServiceAccount): Promise<void> {
    const namespace = cached.metadata?.namespace ?? '';
    const name = cached.metadata?.name ?? '';
    const data = cached.data ?? {};
    const needsCA = this.rootCA !== undefined && data['ca.crt'] !== b64(this.rootCA);
    const needsNamespace = data.namespace !== b64(namespace);
    const needsToken = !data.token;
    const needsUid = cached.metadata?.annotations?.[SERVICE_ACCOUNT_UID_ANNOTATION] !== sa.metadata?.uid;
    if (!needsCA && !needsNamespace && !needsToken && !needsUid) return;
    const next = structuredClone(cached);
    next.data = { ...next.data };
    if (needsCA) next.data['ca.crt'] = b64(this.rootCA!);
    if (needsNamespace) next.data.namespace = b64(namespace);
    if (needsToken) next.data.token = b64(this.tokens.sign(this.tokens.legacyClaims(sa as KubeObject, name)));
    next.metadata = {
      ...next.metadata,
      annotations: { ...next.metadata?.annotations, [SERVICE_ACCOUNT_NAME_ANNOTATION]: sa.metadata?.name ?? '', [SERVICE_ACCOUNT_UID_ANNOTATION]: sa.metadata?.uid ?? '' },
    };
    try {
      await this.secretClient.update(next);
    } catch (err) {
      // Gone meanwhile: nothing to fill. A conflict: the update event brings the Secret back here.
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }
}

export const tokensControllerDescriptor: ControllerDescriptor = {
  name: TOKENS_CONTROLLER_NAME,
  create: (ctx) => {
    const key = ctx.options?.serviceAccountPrivateKeyPem;
    if (!key) {
      // As kube-controller-manager without --service-account-private-key-file: the controller does not run.
      ctx.log.warn(`${TOKENS_CONTROLLER_NAME}: no service account private key; token Secrets are not filled in`);
      return { run: async () => undefined };
    }
    return new TokensController(ctx, new ServiceAccountTokens(key), ctx.options?.rootCaPem);
  },
};

// Upstream's legacy-serviceaccount-token-cleaner (pkg/controller/serviceaccount/legacy_serviceaccount_token_cleaner.go):
// once a day (and at start) it looks at the auto-generated, Secret-held service account tokens: one that nobody has
// used for --legacy-service-account-token-clean-up-period (the API server's kubernetes.io/legacy-token-last-used
// label, else its creation) and that no pod of its namespace references is first labelled
// kubernetes.io/legacy-token-invalid-since=<today> (its token stops authenticating), and deleted once that label is
// older than the period too. Nothing happens until the API server has tracked usage for longer than the period (the
// date in kube-system/kube-apiserver-legacy-service-account-token-tracking).
import type { Pod, Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { isConflict, isNotFound } from '../../machinery/errors.js';
import { podReferences } from '../../machinery/pod-references.js';
import { formatDate } from '../../machinery/time.js';
import type { SharedIndexInformer } from '../../client/index.js';
import {
  LEGACY_TOKEN_INVALID_SINCE_LABEL,
  LEGACY_TOKEN_LAST_USED_LABEL,
  LEGACY_TOKEN_TRACKING_CONFIGMAP,
  LEGACY_TOKEN_TRACKING_SINCE_KEY,
  SERVICE_ACCOUNT_NAME_ANNOTATION,
  SERVICE_ACCOUNT_TOKEN_SECRET_TYPE,
  SERVICE_ACCOUNT_UID_ANNOTATION,
} from '../../apiserver/auth/serviceaccount.js';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.js';

export const LEGACY_TOKEN_CLEANER_NAME = 'legacy-serviceaccount-token-cleaner';
/** --legacy-service-account-token-clean-up-period's default: a year. */
export const DEFAULT_LEGACY_TOKEN_CLEAN_UP_PERIOD_MS = 365 * 24 * 3600_000;
/** Upstream's DefaultCleanerSyncInterval. */
export const LEGACY_TOKEN_CLEANER_SYNC_INTERVAL_MS = 24 * 3600_000;

const DAY_MS = 24 * 3600_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const parseDate = (s: string | undefined): number | undefined => {
  if (!s || !DATE.test(s)) return undefined;
  const t = Date.parse(`${s}T00:00:00Z`);
  return Number.isNaN(t) || formatDate(t) !== s ? undefined : t;
};

const gvr = (resource: string) => ({ group: '', version: 'v1', resource });

export class LegacyTokenCleaner implements Controller {
  private readonly serviceAccounts: SharedIndexInformer<ServiceAccount>;
  private readonly secrets: SharedIndexInformer<Secret>;
  private readonly pods: SharedIndexInformer<Pod>;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly cleanUpPeriodMs: number,
    private readonly syncIntervalMs = LEGACY_TOKEN_CLEANER_SYNC_INTERVAL_MS,
  ) {
    if (!(cleanUpPeriodMs > 0)) throw new Error(`invalid CleanUpPeriod: ${cleanUpPeriodMs}ms`);
    this.serviceAccounts = ctx.informers.informerFor<ServiceAccount>(gvr('serviceaccounts'));
    this.secrets = ctx.informers.informerFor<Secret>(gvr('secrets'));
    this.pods = ctx.informers.informerFor<Pod>(gvr('pods'));
  }

  async run(signal: AbortSignal): Promise<void> {
    for (const i of [this.serviceAccounts, this.secrets, this.pods]) if (!(await i.waitForCacheSync()) || signal.aborted) return;
    while (!signal.aborted) {
      try {
        await this.evaluate();
      } catch (err) {
        this.ctx.log.warn(`${LEGACY_TOKEN_CLEANER_NAME}: pass failed`, { err: String(err) });
      }
      await this.ctx.clock.sleep(this.syncIntervalMs, signal);
    }
  }

  /** One pass over the token Secrets (upstream's evaluateSATokens). */
  async evaluate(): Promise<void> {
    const now = this.ctx.clock.now();
    const trackedSince = await this.trackedSince();
    if (trackedSince === undefined || now < trackedSince + this.cleanUpPeriodMs) return;
    const preserveCreatedOnOrAfter = now - this.cleanUpPeriodMs;
    const preserveUsedOnOrAfter = formatDate(now - this.cleanUpPeriodMs);
    const referenced = new Map<string, Set<string>>();
    const secretsApi = this.ctx.client.resource<Secret>(gvr('secrets'));
    for (const secret of this.secrets.indexer.list()) {
      const meta = secret.metadata ?? {};
      const ns = meta.namespace ?? '';
      const name = meta.name ?? '';
      if (secret.type !== SERVICE_ACCOUNT_TOKEN_SECRET_TYPE || meta.deletionTimestamp) continue;
      if (!(Date.parse(meta.creationTimestamp ?? '') < preserveCreatedOnOrAfter)) continue;
      // No last-used label: not used since tracking began.
      const lastUsed = meta.labels?.[LEGACY_TOKEN_LAST_USED_LABEL];
      if (lastUsed !== undefined) {
        if (parseDate(lastUsed) === undefined) {
          this.ctx.log.warn(`${LEGACY_TOKEN_CLEANER_NAME}: malformed ${LEGACY_TOKEN_LAST_USED_LABEL}`, { secret: `${ns}/${name}`, value: lastUsed });
          continue;
        }
        if (lastUsed >= preserveUsedOnOrAfter) continue;
      }
      // Only tokens the tokens controller made: the service account (of the annotated uid) lists the Secret.
      const sa = this.serviceAccountOf(secret);
      if (!sa?.secrets?.some((r) => r.name === name)) continue;
      if (this.referencedSecrets(ns, referenced).has(name)) continue;
      const invalidSince = meta.labels?.[LEGACY_TOKEN_INVALID_SINCE_LABEL];
      if (parseDate(invalidSince) === undefined) {
        const today = formatDate(now);
        this.ctx.log.info(`${LEGACY_TOKEN_CLEANER_NAME}: marking the auto-generated service account token invalid`, { secret: `${ns}/${name}`, invalidSince: today });
        try {
          await secretsApi.patch(name, { metadata: { uid: meta.uid, labels: { [LEGACY_TOKEN_INVALID_SINCE_LABEL]: today } } }, { namespace: ns, type: 'merge' });
        } catch (err) {
          this.ctx.log.warn(`${LEGACY_TOKEN_CLEANER_NAME}: labelling failed`, { secret: `${ns}/${name}`, err: String(err) });
        }
        continue;
      }
      if (invalidSince! >= preserveUsedOnOrAfter) continue;
      this.ctx.log.info(`${LEGACY_TOKEN_CLEANER_NAME}: deleting the auto-generated service account token`, { secret: `${ns}/${name}`, lastUsed, invalidSince });
      try {
        await secretsApi.delete(name, { namespace: ns, preconditions: { resourceVersion: meta.resourceVersion } });
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) this.ctx.log.warn(`${LEGACY_TOKEN_CLEANER_NAME}: delete failed`, { secret: `${ns}/${name}`, err: String(err) });
      }
    }
  }

  /** The day after the API server began tracking (00:00 UTC), or undefined while unknown. */
  private async trackedSince(): Promise<number | undefined> {
    let cm: { data?: Record<string, string> };
    try {
      cm = await this.ctx.client.resource<{ data?: Record<string, string> } & { metadata?: object }>(gvr('configmaps')).get(LEGACY_TOKEN_TRACKING_CONFIGMAP, { namespace: 'kube-system' });
    } catch (err) {
      this.ctx.log.warn(`${LEGACY_TOKEN_CLEANER_NAME}: no tracked-since date`, { err: String(err) });
      return undefined;
    }
    const since = parseDate(cm.data?.[LEGACY_TOKEN_TRACKING_SINCE_KEY]);
    return since === undefined ? undefined : since + DAY_MS;
  }

  private serviceAccountOf(secret: Secret): ServiceAccount | undefined {
    const name = secret.metadata?.annotations?.[SERVICE_ACCOUNT_NAME_ANNOTATION];
    if (!name) return undefined;
    const sa = this.serviceAccounts.indexer.getByKey(`${secret.metadata?.namespace ?? ''}/${name}`);
    const uid = secret.metadata?.annotations?.[SERVICE_ACCOUNT_UID_ANNOTATION];
    return sa && (!uid || uid === sa.metadata?.uid) ? sa : undefined;
  }

  /** The Secrets the namespace's pods name (upstream's VisitPodSecretNames), once per pass and namespace. */
  private referencedSecrets(ns: string, cache: Map<string, Set<string>>): Set<string> {
    let names = cache.get(ns);
    if (!names) {
      names = new Set();
      for (const pod of this.pods.indexer.byIndex('namespace', ns)) for (const r of podReferences(pod)) if (r.kind === 'secret') names.add(r.name);
      cache.set(ns, names);
    }
    return names;
  }
}

export const legacyTokenCleanerDescriptor: ControllerDescriptor = {
  name: LEGACY_TOKEN_CLEANER_NAME,
  create: (ctx) => new LegacyTokenCleaner(ctx, ctx.options?.legacyServiceAccountTokenCleanUpPeriodMs ?? DEFAULT_LEGACY_TOKEN_CLEAN_UP_PERIOD_MS),
};

// admissionregistration.k8s.io/v1 MutatingWebhookConfiguration: validating-webhook rules plus reinvocationPolicy.
import type { MutatingWebhookConfiguration } from 'kubernetes-types/admissionregistration/v1.js';
import type { Strategy as KindStrategy } from '../strategy.js';
import { defaultWebhook, validateWebhooks, type Webhook } from '../validatingwebhookconfigurations/strategy.js';

export const Strategy: KindStrategy = {
  defaults(obj) {
    for (const hook of (obj as unknown as MutatingWebhookConfiguration).webhooks ?? []) {
      defaultWebhook(hook as Webhook);
      hook.reinvocationPolicy ??= 'Never';
    }
  },
  validate: (obj) => validateWebhooks((obj as unknown as MutatingWebhookConfiguration).webhooks as Webhook[] | undefined, true),
};

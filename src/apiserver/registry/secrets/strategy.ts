// Secrets (upstream ValidateSecret/ValidateSecretUpdate; stringData is merged into data as the v1 conversion does).
import { fieldErr, type FieldError } from '../../../machinery/errors.js';
import { invalidEach, isConfigMapKey, validateImmutableField } from '../../../machinery/validation.js';
import type { Strategy } from '../strategy.js';
import { asObject, asString, ensureObject } from '../group-validation.js';
import { MAX_DATA_SIZE, validateImmutableData } from '../configmaps/strategy.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decoded(data: Record<string, unknown>, key: string): Buffer | undefined {
  const v = data[key];
  return typeof v === 'string' && BASE64.test(v) ? Buffer.from(v, 'base64') : undefined;
}

export const secretStrategy: Strategy = {
  defaults(obj) {
    if (!obj.type) obj.type = 'Opaque';
    // stringData is write-only: its entries win over data's and it is never stored.
    const stringData = asObject(obj.stringData);
    if (stringData) {
      const data = ensureObject(obj, 'data');
      for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(asString(v)).toString('base64');
      delete obj.stringData;
    }
  },
  validate(obj) {
    const errs: FieldError[] = [];
    const data = asObject(obj.data) ?? {};
    let total = 0;
    for (const [key, value] of Object.entries(data)) {
      errs.push(...invalidEach(`data[${key}]`, key, isConfigMapKey(key)));
      const bytes = decoded(data, key);
      if (!bytes) errs.push(fieldErr.invalid(`data[${key}]`, '<secret contents redacted>', 'must be base64-encoded bytes'));
      total += bytes?.length ?? asString(value).length;
    }
    if (total > MAX_DATA_SIZE) errs.push(fieldErr.tooLong('data', '', MAX_DATA_SIZE));
    const has = (k: string): boolean => k in data;
    switch (asString(obj.type)) {
      case 'kubernetes.io/service-account-token':
        if (!obj.metadata.annotations?.['kubernetes.io/service-account.name']) {
          errs.push(fieldErr.required('metadata.annotations[kubernetes.io/service-account.name]', ''));
        }
        break;
      case 'kubernetes.io/dockercfg':
      case 'kubernetes.io/dockerconfigjson': {
        const key = obj.type === 'kubernetes.io/dockercfg' ? '.dockercfg' : '.dockerconfigjson';
        if (!has(key)) {
          errs.push(fieldErr.required(`data[${key}]`, ''));
          break;
        }
        try {
          JSON.parse((decoded(data, key) ?? Buffer.alloc(0)).toString('utf8'));
        } catch (e) {
          errs.push(fieldErr.invalid(`data[${key}]`, '<secret contents redacted>', (e as Error).message));
        }
        break;
      }
      case 'kubernetes.io/basic-auth':
        if (!has('username') && !has('password')) {
          errs.push(fieldErr.required('data[username]', ''), fieldErr.required('data[password]', ''));
        }
        break;
      case 'kubernetes.io/ssh-auth':
        if (!decoded(data, 'ssh-privatekey')?.length) errs.push(fieldErr.required('data[ssh-privatekey]', ''));
        break;
      case 'kubernetes.io/tls':
        if (!has('tls.crt')) errs.push(fieldErr.required('data[tls.crt]', ''));
        if (!has('tls.key')) errs.push(fieldErr.required('data[tls.key]', ''));
        break;
    }
    return errs;
  },
  validateUpdate(obj, old) {
    return [...validateImmutableField(obj.type, old.type, 'type'), ...validateImmutableData(obj, old, ['data'])];
  },
  selectableFields(obj) {
    return { type: asString(obj.type) };
  },
};

export { secretStrategy as Strategy };

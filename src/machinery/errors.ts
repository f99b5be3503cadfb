// One error type for the whole API surface: its body is a metav1.Status, exactly as upstream returns it.
import type { Status, StatusCause } from '../api/object.js';

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'Invalid'
  | 'TooManyRequests'
  | 'InternalError'
  | 'Timeout'
  | 'ServiceUnavailable';

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueDuplicate'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'InternalError'
  | 'FieldValueTypeInvalid'
  | 'FieldValueNotFound';

/** A validation failure at one field path, like upstream's field.Error. */
export interface FieldError {
  type: FieldErrorType;
  /** Dotted path with indices, e.g. "spec.containers[0].image". */
  field: string;
  value?: unknown;
  detail?: string;
}

/** Field error constructors mirroring upstream's field.Required, field.Invalid, ... */
export const fieldErr = {
  required: (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, detail }),
  invalid: (field: string, value: unknown, detail = ''): FieldError => ({ type: 'FieldValueInvalid', field, value, detail }),
  duplicate: (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, value }),
  notSupported: (field: string, value: unknown, supported: string[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field,
    value,
    detail: supported.length ? `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` : '',
  }),
  forbidden: (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail }),
  tooLong: (field: string, value: unknown, max: number): FieldError => ({
    type: 'FieldValueTooLong',
    field,
    value,
    detail: `must have at most ${max} bytes`,
  }),
  tooMany: (field: string, actual: number, max: number): FieldError => ({
    type: 'FieldValueTooMany',
    field,
    value: actual,
    detail: `must have at most ${max} items`,
  }),
  notFound: (field: string, value: unknown): FieldError => ({ type: 'FieldValueNotFound', field, value }),
  typeInvalid: (field: string, value: unknown, detail: string): FieldError => ({ type: 'FieldValueTypeInvalid', field, value, detail }),
};

/** Renders a field error as upstream's ErrorBody()/Error() text. */
export function fieldErrorMessage(e: FieldError): string {
  const head = `${e.field}: ${fieldErrorTypeText(e.type)}`;
  const showValue = !['FieldValueRequired', 'FieldValueForbidden', 'FieldValueTooLong', 'InternalError'].includes(e.type);
  let s = head;
  if (showValue && e.value !== undefined) s += `: ${formatValue(e.value)}`;
  if (e.detail) s += `: ${e.detail}`;
  return s;
}

function fieldErrorTypeText(t: FieldErrorType): string {
  switch (t) {
    case 'FieldValueRequired':
      return 'Required value';
    case 'FieldValueInvalid':
      return 'Invalid value';
    case 'FieldValueDuplicate':
      return 'Duplicate value';
    case 'FieldValueNotSupported':
      return 'Unsupported value';
    case 'FieldValueForbidden':
      return 'Forbidden';
    case 'FieldValueTooLong':
      return 'Too long';
    case 'FieldValueTooMany':
      return 'Too many';
    case 'InternalError':
      return 'Internal error';
    case 'FieldValueTypeInvalid':
      return 'Invalid value';
    case 'FieldValueNotFound':
      return 'Not found';
  }
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  return JSON.stringify(v);
}

export interface QualifiedKind {
  group: string;
  /** Plural resource name for NotFound/AlreadyExists ("pods", "deployments.apps"), or Kind for Invalid. */
  resource: string;
}

/** Upstream's qualified resource string: "pods", "deployments.apps". */
export function qualifiedResource(group: string, resource: string): string {
  return group ? `${resource}.${group}` : resource;
}

export class ApiError extends Error {
  readonly status: Status;
  constructor(status: Status, options?: { cause?: unknown }) {
    super(status.message ?? status.reason ?? 'error', options);
    this.name = 'ApiError';
    this.status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', ...status };
  }
  get code(): number {
    return this.status.code ?? 500;
  }
  get reason(): StatusReason | undefined {
    return this.status.reason as StatusReason | undefined;
  }

  static badRequest(message: string, causes?: StatusCause[]): ApiError {
    return new ApiError({ message, reason: 'BadRequest', code: 400, ...(causes ? { details: { causes } } : {}) });
  }
  static unauthorized(message = 'Unauthorized'): ApiError {
    return new ApiError({ message, reason: 'Unauthorized', code: 401 });
  }
  static forbidden(group: string, resource: string, name: string, message: string): ApiError {
    const qr = qualifiedResource(group, resource);
    const what = name ? `${qr} "${name}"` : qr;
    return new ApiError({
      message: `${what} is forbidden: ${message}`,
      reason: 'Forbidden',
      code: 403,
      details: { name, group, kind: resource },
    });
  }
  static notFound(group: string, resource: string, name: string): ApiError {
    const qr = qualifiedResource(group, resource);
    return new ApiError({
      message: name ? `${qr} "${name}" not found` : `${qr} not found`,
      reason: 'NotFound',
      code: 404,
      details: { name, group, kind: resource },
    });
  }
  /** 404 for a URL that names no resource at all. */
  static pageNotFound(): ApiError {
    return new ApiError({ message: 'the server could not find the requested resource', reason: 'NotFound', code: 404, details: {} });
  }
  static methodNotAllowed(message = 'the server does not allow this method on the requested resource'): ApiError {
    return new ApiError({ message, reason: 'MethodNotAllowed', code: 405, details: {} });
  }
  static notAcceptable(message: string): ApiError {
    return new ApiError({ message, reason: 'NotAcceptable', code: 406 });
  }
  static alreadyExists(group: string, resource: string, name: string): ApiError {
    const qr = qualifiedResource(group, resource);
    return new ApiError({
      message: `${qr} "${name}" already exists`,
      reason: 'AlreadyExists',
      code: 409,
      details: { name, group, kind: resource },
    });
  }
  /** Optimistic-concurrency failure, with upstream's exact wording. */
  static conflict(group: string, resource: string, name: string, detail?: string): ApiError {
    const qr = qualifiedResource(group, resource);
    const why = detail ?? 'the object has been modified; please apply your changes to the latest version and try again';
    return new ApiError({
      message: `Operation cannot be fulfilled on ${qr} "${name}": ${why}`,
      reason: 'Conflict',
      code: 409,
      details: { name, group, kind: resource },
    });
  }
  static gone(message: string): ApiError {
    return new ApiError({ message, reason: 'Gone', code: 410 });
  }
  static expired(message: string): ApiError {
    return new ApiError({ message, reason: 'Expired', code: 410 });
  }
  static tooLarge(message = 'Request entity too large: limit is 3145728'): ApiError {
    return new ApiError({ message, reason: 'RequestEntityTooLarge', code: 413 });
  }
  /** Upstream's wording; `detail` (ours) says what about the body could not be read. */
  static unsupportedMediaType(detail?: string): ApiError {
    return new ApiError({
      message: `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf${detail ? ` (${detail})` : ''}`,
      reason: 'UnsupportedMediaType',
      code: 415,
    });
  }
  /** 422 Invalid: `<Kind>.<group> "name" is invalid: [causes]`. */
  static invalid(group: string, kind: string, name: string, errors: FieldError[]): ApiError {
    const qk = group ? `${kind}.${group}` : kind;
    const msgs = errors.map(fieldErrorMessage);
    const joined = msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`;
    return new ApiError({
      message: `${qk} "${name}" is invalid: ${joined}`,
      reason: 'Invalid',
      code: 422,
      details: {
        name,
        group,
        kind,
        causes: errors.map((e) => ({ reason: e.type, message: fieldErrorMessage(e).slice(e.field.length + 2), field: e.field })),
      },
    });
  }
  static tooManyRequests(message: string, retryAfterSeconds = 1): ApiError {
    return new ApiError({ message, reason: 'TooManyRequests', code: 429, details: { retryAfterSeconds } });
  }
  static internal(message: string, cause?: unknown): ApiError {
    return new ApiError(
      { message: `Internal error occurred: ${message}`, reason: 'InternalError', code: 500, details: { causes: [{ message }] } },
      { cause },
    );
  }
  static timeout(message: string): ApiError {
    return new ApiError({ message, reason: 'Timeout', code: 504 });
  }
  static serviceUnavailable(message: string): ApiError {
    return new ApiError({ message, reason: 'ServiceUnavailable', code: 503 });
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

export function isNotFound(e: unknown): boolean {
  return e instanceof ApiError && e.code === 404;
}
export function isConflict(e: unknown): boolean {
  return e instanceof ApiError && e.reason === 'Conflict';
}
export function isAlreadyExists(e: unknown): boolean {
  return e instanceof ApiError && e.reason === 'AlreadyExists';
}

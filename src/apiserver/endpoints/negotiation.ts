// Request bodies in, response bodies out: size limit, media types (JSON, YAML, protobuf object bodies),
// Accept negotiation (plain JSON, YAML, meta.k8s.io Table and PartialObjectMetadata).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml, parseAllDocuments, stringify as stringifyYaml, type YAMLError } from 'yaml';
import { ApiError } from '../../machinery/errors.js';
import { parseAccept } from '../discovery/accept.js';
import { isPlainObject } from '../../api/object.js';
import { jsonKind, parseJsonAsGo, summarizeBody, typeMetaError } from './go-decode.js';
import { decodeProtobufObject } from './protobuf.js';

/** Upstream's limit for request bodies (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/**
 * The whole request body, refused with 413 beyond `limit` (declared or as it arrives; the rest is then drained so the
 * connection can carry the error response). Read through 'data'/'end' listeners: an async iterator over the request
 * costs more than the decoding of a small object body.
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? -1);
  if (declared > limit) {
    req.resume();
    return Promise.reject(ApiError.tooLarge(`Request entity too large: limit is ${limit}`));
  }
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  if (req.destroyed) return Promise.reject(prematureClose());
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        stop();
        req.resume();
        reject(ApiError.tooLarge(`Request entity too large: limit is ${limit}`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      stop();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      stop();
      reject(err);
    };
    // Closed before its end: the client went away mid-body.
    const onClose = (): void => {
      stop();
      reject(prematureClose());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

export type BodyMediaType =
  | 'json'
  | 'yaml'
  | 'json-patch'
  | 'merge-patch'
  | 'strategic-merge-patch'
  | 'apply-patch';

export function mediaTypeOf(req: IncomingMessage): string {
  return String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
}

export type ObjectMediaType = 'json' | 'yaml' | 'protobuf';

/** Media types accepted for object bodies (POST/PUT and subresource writes). */
export function objectMediaType(contentType: string): ObjectMediaType {
  switch (contentType) {
    case '':
    case 'application/json':
      return 'json';
    case 'application/yaml':
      return 'yaml';
    case 'application/vnd.kubernetes.protobuf':
      return 'protobuf';
    default:
      throw ApiError.unsupportedMediaType();
  }
}

export function patchMediaType(contentType: string): Exclude<BodyMediaType, 'json' | 'yaml'> {
  switch (contentType) {
    case 'application/json-patch+json':
      return 'json-patch';
    case 'application/merge-patch+json':
      return 'merge-patch';
    case 'application/strategic-merge-patch+json':
      return 'strategic-merge-patch';
    case 'application/apply-patch+yaml':
      return 'apply-patch';
    default:
      // Upstream's router refuses these before the handler runs, with its own terse message.
      throw new ApiError({ message: '415: Unsupported Media Type', reason: 'UnsupportedMediaType', code: 415, details: {} });
  }
}

/** go-yaml's wording for the syntax errors people make most; others keep the yaml library's own text. */
function goYamlError(err: YAMLError): string {
  const line = err.linePos?.[0].line;
  let text = err.message.split(/ at line \d+/)[0];
  if (err.code === 'BLOCK_AS_IMPLICIT_KEY') text = 'mapping values are not allowed in this context';
  else if (err.code === 'TAB_AS_INDENT') text = 'found character that cannot start any token';
  return `yaml: ${line ? `line ${line}: ` : ''}${text}`;
}

/**
 * Decodes a PATCH body with the wording of upstream's patchers: JSON syntax errors in Go's words (a merge patch
 * says "Invalid JSON Patch"), apply patches read as YAML into a map.
 */
export function decodePatch(body: Buffer, type: Exclude<BodyMediaType, 'json' | 'yaml'>): unknown {
  if (type === 'apply-patch') {
    const first = parseAllDocuments(body.toString('utf8'), { version: '1.1' })[0];
    if (first?.errors.length) throw ApiError.badRequest(`error decoding YAML: error converting YAML to JSON: ${goYamlError(first.errors[0])}`);
    const value: unknown = first ? first.toJS({ maxAliasCount: 100 }) : null;
    if (value !== null && !isPlainObject(value)) {
      throw ApiError.badRequest(
        `error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${jsonKind(value)} into Go value of type map[string]interface {}`,
      );
    }
    return value ?? {};
  }
  const parsed = parseJsonAsGo(body);
  if ('error' in parsed) throw ApiError.badRequest(type === 'merge-patch' ? 'Invalid JSON Patch' : parsed.error);
  return parsed.value;
}

/**
 * Reads an object body as upstream's decoder does before it knows the type: JSON syntax (Go's messages), YAML
 * (first document only, as go-yaml), then apiVersion/kind. Failures are 400 BadRequest worded as upstream's
 * "the object provided is unrecognized (must be of type <Kind>): ... (<body summary>)".
 */
export function decodeObject(body: Buffer, format: ObjectMediaType, intoKind = 'Object'): Record<string, unknown> {
  if (format === 'protobuf') return decodeProtobufObject(body, intoKind);
  const unrecognized = (why: string) =>
    ApiError.badRequest(`the object provided is unrecognized (must be of type ${intoKind}): ${why} (${summarizeBody(body)})`);
  let value: unknown;
  if (format === 'json') {
    const parsed = parseJsonAsGo(body);
    if ('error' in parsed) throw unrecognized(`couldn't get version/kind; json parse error: ${parsed.error}`);
    value = parsed.value;
  } else {
    const docs = parseAllDocuments(body.toString('utf8'), { version: '1.1' });
    const first = docs[0];
    if (first?.errors.length) throw unrecognized(goYamlError(first.errors[0]));
    value = first ? first.toJS({ maxAliasCount: 100 }) : null;
  }
  const metaError = typeMetaError(value);
  if (metaError) throw unrecognized(`couldn't get version/kind; json parse error: ${metaError}`);
  return isPlainObject(value) ? value : {};
}

export { parseYaml };

export type OutputKind = 'object' | 'table' | 'metadata';

export interface Negotiated {
  output: OutputKind;
  yaml: boolean;
  /** For Table: includeObject=None|Metadata|Object. */
  includeObject: 'None' | 'Metadata' | 'Object';
}

/**
 * Picks the response representation from Accept, in client order: `as=Table` and `as=PartialObjectMetadata(List)`
 * in meta.k8s.io v1/v1beta1 first, then JSON or YAML. Protobuf-only Accept is 406 (we speak no protobuf yet).
 */
export function negotiate(accept: string | undefined, includeObject: string | null): Negotiated {
  const include: Negotiated['includeObject'] = includeObject === 'None' || includeObject === 'Object' ? includeObject : 'Metadata';
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return { output: 'object', yaml: false, includeObject: include };
  for (const { mediaType, params } of ranges) {
    const isJson = mediaType === 'application/json' || mediaType === '*/*' || mediaType === 'application/*';
    const isYaml = mediaType === 'application/yaml';
    if (!isJson && !isYaml) continue;
    if (!params.as) return { output: 'object', yaml: isYaml, includeObject: include };
    if (params.g !== 'meta.k8s.io' || (params.v !== 'v1' && params.v !== 'v1beta1')) continue;
    if (params.as === 'Table') return { output: 'table', yaml: isYaml, includeObject: include };
    if (params.as === 'PartialObjectMetadata' || params.as === 'PartialObjectMetadataList') {
      return { output: 'metadata', yaml: isYaml, includeObject: include };
    }
  }
  throw ApiError.notAcceptable(
    'only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io',
  );
}

export function writeJson(res: ServerResponse, code: number, body: unknown, opts: { yaml?: boolean; headers?: Record<string, string> } = {}): void {
  if (!opts.yaml) {
    writeJsonText(res, code, JSON.stringify(body), opts.headers);
    return;
  }
  const text = stringifyYaml(body);
  res.writeHead(code, { 'Content-Type': 'application/yaml', 'Content-Length': Buffer.byteLength(text), ...opts.headers });
  res.end(text);
}

/** A response whose body is JSON text encoded already. */
export function writeJsonText(res: ServerResponse, code: number, text: string, headers?: Record<string, string>): void {
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Items per piece of a large JSON list response; the event loop gets a turn between pieces. */
export const LIST_CHUNK_ITEMS = 500;

/**
 * A 200 JSON response made of `head`, the already encoded `items` joined by commas, and `tail`. Up to LIST_CHUNK_ITEMS
 * items go out in one piece with a Content-Length; a longer list is written in pieces of that many items (chunked
 * transfer encoding), yielding to the event loop between them so other requests are served meanwhile.
 */
export async function writeJsonItems(res: ServerResponse, head: string, items: readonly string[], tail: string): Promise<void> {
  if (items.length <= LIST_CHUNK_ITEMS) {
    writeJsonText(res, 200, `${head}${items.join(',')}${tail}`);
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.write(head);
  for (let i = 0; i < items.length; i += LIST_CHUNK_ITEMS) {
    if (i > 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (res.destroyed) return;
    }
    res.write(`${i > 0 ? ',' : ''}${items.slice(i, i + LIST_CHUNK_ITEMS).join(',')}`);
  }
  res.end(tail);
}

export function writeError(res: ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = {};
  const retry = err.status.details?.retryAfterSeconds;
  if (retry && (err.code === 429 || err.code === 503 || err.code === 504)) headers['Retry-After'] = String(retry);
  writeJson(res, err.code, wireStatus(err.status), { headers });
}

/** A Status as Go serializes it: empty details fields are omitted (omitempty), but details itself stays. */
export function wireStatus<T extends { details?: object }>(status: T): T {
  if (!status.details) return status;
  const details = Object.fromEntries(
    Object.entries(status.details).filter(([, v]) => v !== '' && v !== 0 && v !== undefined && !(Array.isArray(v) && v.length === 0)),
  );
  return { ...status, details };
}

// Value and metadata validation with upstream apimachinery's exact messages (pkg/util/validation,
// pkg/api/validation/objectmeta.go, pkg/apis/meta/v1/validation). Value checks return a list of problem
// descriptions (empty = valid); the validate* helpers turn them into FieldErrors at upstream-style paths.
import type { LabelSelector, LabelSelectorRequirement, ManagedFieldsEntry, ObjectMeta, OwnerReference } from 'kubernetes-types/meta/v1.js';
import { fieldErr, type FieldError } from './errors.js';
import type { Quantity } from './quantity.js';

// ---------------------------------------------------------------------------------------------------------------
// Message builders (upstream's MaxLenError, RegexError, EmptyError, InclusiveRangeError)

export function maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

/** Upstream's RegexError: the message, then the examples and the regex used. */
export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;
}

export function emptyError(): string {
  return 'must be non-empty';
}

export function inclusiveRangeError(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

/** Byte length as Go's len() counts it: names are compared against limits in UTF-8 bytes. */
function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

const anchored = (fmt: string): RegExp => new RegExp(`^(?:${fmt})$`);

// ---------------------------------------------------------------------------------------------------------------
// Names and keys

const qnameCharFmt = '[A-Za-z0-9]';
const qnameExtCharFmt = '[-A-Za-z0-9_.]';
const qualifiedNameFmt = `(${qnameCharFmt}${qnameExtCharFmt}*)?${qnameCharFmt}`;
const qualifiedNameErrMsg = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const qualifiedNameMaxLength = 63;
const qualifiedNameRegexp = anchored(qualifiedNameFmt);

/** A "qualified name" (label key, annotation key, finalizer): optional DNS-subdomain prefix and '/', then a name. */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0];
  } else if (parts.length === 2) {
    const prefix = parts[0];
    name = parts[1];
    if (prefix.length === 0) errs.push(`prefix part ${emptyError()}`);
    else errs.push(...isDNS1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [
      `a qualified name ${regexError(qualifiedNameErrMsg, qualifiedNameFmt, 'MyName', 'my.name', '123-abc')}` +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errs.push(`name part ${emptyError()}`);
  else if (byteLength(name) > qualifiedNameMaxLength) errs.push(`name part ${maxLenError(qualifiedNameMaxLength)}`);
  if (!qualifiedNameRegexp.test(name)) {
    errs.push(`name part ${regexError(qualifiedNameErrMsg, qualifiedNameFmt, 'MyName', 'my.name', '123-abc')}`);
  }
  return errs;
}

const labelValueFmt = `(${qualifiedNameFmt})?`;
const labelValueErrMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
export const LABEL_VALUE_MAX_LENGTH = 63;
const labelValueRegexp = anchored(labelValueFmt);

export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > LABEL_VALUE_MAX_LENGTH) errs.push(maxLenError(LABEL_VALUE_MAX_LENGTH));
  if (!labelValueRegexp.test(value)) errs.push(regexError(labelValueErrMsg, labelValueFmt, 'MyValue', 'my_value', '12345'));
  return errs;
}

const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dns1123LabelErrMsg =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
export const DNS1123_LABEL_MAX_LENGTH = 63;
const dns1123LabelRegexp = anchored(dns1123LabelFmt);

export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_LABEL_MAX_LENGTH) errs.push(maxLenError(DNS1123_LABEL_MAX_LENGTH));
  if (!dns1123LabelRegexp.test(value)) errs.push(regexError(dns1123LabelErrMsg, dns1123LabelFmt, 'my-name', '123-abc'));
  return errs;
}

const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const dns1123SubdomainErrMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
const dns1123SubdomainRegexp = anchored(dns1123SubdomainFmt);

export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!dns1123SubdomainRegexp.test(value)) errs.push(regexError(dns1123SubdomainErrMsg, dns1123SubdomainFmt, 'example.com'));
  return errs;
}

const dns1035LabelFmt = '[a-z]([-a-z0-9]*[a-z0-9])?';
const dns1035LabelErrMsg =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
export const DNS1035_LABEL_MAX_LENGTH = 63;
const dns1035LabelRegexp = anchored(dns1035LabelFmt);

export function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1035_LABEL_MAX_LENGTH) errs.push(maxLenError(DNS1035_LABEL_MAX_LENGTH));
  if (!dns1035LabelRegexp.test(value)) errs.push(regexError(dns1035LabelErrMsg, dns1035LabelFmt, 'my-name', 'abc-123'));
  return errs;
}

const wildcardDNS1123SubdomainFmt = `\\*\\.${dns1123SubdomainFmt}`;
const wildcardDNS1123SubdomainErrMsg =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";
const wildcardDNS1123SubdomainRegexp = anchored(wildcardDNS1123SubdomainFmt);

/** A wildcard subdomain as RFC 1034 4.3.3 allows: "*.example.com". */
export function isWildcardDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!wildcardDNS1123SubdomainRegexp.test(value)) {
    errs.push(regexError(wildcardDNS1123SubdomainErrMsg, wildcardDNS1123SubdomainFmt, '*.example.com'));
  }
  return errs;
}

const cIdentifierFmt = '[A-Za-z_][A-Za-z0-9_]*';
const cIdentifierErrMsg = "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_'";
const cIdentifierRegexp = anchored(cIdentifierFmt);

export function isCIdentifier(value: string): string[] {
  return cIdentifierRegexp.test(value) ? [] : [regexError(cIdentifierErrMsg, cIdentifierFmt, 'my_name', 'MY_NAME', 'MyName')];
}

/** Rejects "." and ".." and names starting with "..", which would escape a projected directory. */
function hasChDirPrefix(value: string): string[] {
  if (value === '.') return ["must not be '.'"];
  if (value === '..') return ["must not be '..'"];
  if (value.startsWith('..')) return ["must not start with '..'"];
  return [];
}

const envVarNameFmt = '[-._a-zA-Z][-._a-zA-Z0-9]*';
const envVarNameErrMsg =
  "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit";
const envVarNameRegexp = anchored(envVarNameFmt);

export function isEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (!envVarNameRegexp.test(value)) errs.push(regexError(envVarNameErrMsg, envVarNameFmt, 'my.env-name', 'MY_ENV.NAME', 'MyEnvName1'));
  errs.push(...hasChDirPrefix(value));
  return errs;
}

/** The relaxed rule (RelaxedEnvironmentVariableValidation): any printable ASCII except '='. */
export function isRelaxedEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (value.length === 0) errs.push(`environment variable name ${emptyError()}`);
  for (const ch of value) {
    const c = ch.codePointAt(0) ?? 0;
    if (c < 0x20 || c > 0x7e || ch === '=') {
      errs.push("a valid environment variable name must consist only of printable ASCII characters other than '='");
      break;
    }
  }
  return errs;
}

const configMapKeyFmt = '[-._a-zA-Z0-9]+';
const configMapKeyErrMsg = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
const configMapKeyRegexp = anchored(configMapKeyFmt);

/** A key in a ConfigMap's or Secret's data. */
export function isConfigMapKey(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!configMapKeyRegexp.test(value)) errs.push(regexError(configMapKeyErrMsg, configMapKeyFmt, 'key.name', 'KEY_NAME', 'key-name'));
  errs.push(...hasChDirPrefix(value));
  return errs;
}

const percentFmt = '[0-9]+%';
const percentErrMsg = "a valid percent string must be a numeric string followed by an ending '%'";
const percentRegexp = anchored(percentFmt);

export function isValidPercent(value: string): string[] {
  return percentRegexp.test(value) ? [] : [regexError(percentErrMsg, percentFmt, '1%', '93%')];
}

const httpHeaderNameFmt = '[-A-Za-z0-9]+';
const httpHeaderNameErrMsg = "a valid HTTP header must consist of alphanumeric characters or '-'";
const httpHeaderNameRegexp = anchored(httpHeaderNameFmt);

export function isHTTPHeaderName(value: string): string[] {
  return httpHeaderNameRegexp.test(value) ? [] : [regexError(httpHeaderNameErrMsg, httpHeaderNameFmt, 'X-Header-Name')];
}

// ---------------------------------------------------------------------------------------------------------------
// Numbers and ports

export function isInRange(value: number, min: number, max: number): string[] {
  return value >= min && value <= max ? [] : [inclusiveRangeError(min, max)];
}

/** A valid, non-zero port number. */
export function isValidPortNum(port: number): string[] {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : [inclusiveRangeError(1, 65535)];
}

const MAX_UNIX_ID = 0xffffffff;

export function isValidUserID(uid: number): string[] {
  return isInRange(uid, 0, MAX_UNIX_ID);
}

export function isValidGroupID(gid: number): string[] {
  return isInRange(gid, 0, MAX_UNIX_ID);
}

const portNameCharsetRegexp = /^[-a-z0-9]+$/;
const portNameOneLetterRegexp = /[a-z]/;

/** An IANA_SVC_NAME (RFC 6335), lower case only: at most 15 characters, at least one letter, no '--'. */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (byteLength(port) > 15) errs.push(maxLenError(15));
  if (!portNameCharsetRegexp.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!portNameOneLetterRegexp.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

// ---------------------------------------------------------------------------------------------------------------
// IP addresses. Upstream parses "sloppily" (Go's pre-1.17 net.ParseIP): IPv4 octets may carry leading zeros,
// which are read as decimal. Zones ("%eth0") are not accepted.

/** Parses an IPv4 address into 4 bytes, or undefined. */
function parseIPv4Sloppy(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^[0-9]{1,}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

/** Parses an IPv6 address (optionally with an embedded IPv4 tail) into 16 bytes, or undefined. */
function parseIPv6(s: string): number[] | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (part: string, allowV4Tail: boolean): number[] | undefined => {
    if (part === '') return [];
    const groups = part.split(':');
    const bytes: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (allowV4Tail && i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIPv4Sloppy(g);
        if (!v4) return undefined;
        bytes.push(...v4);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      const n = parseInt(g, 16);
      bytes.push(n >> 8, n & 0xff);
    }
    return bytes;
  };
  if (halves.length === 1) {
    const bytes = parseGroups(halves[0], true);
    return bytes && bytes.length === 16 ? bytes : undefined;
  }
  const head = parseGroups(halves[0], false);
  const tail = parseGroups(halves[1], true);
  if (!head || !tail || head.length + tail.length > 14) return undefined;
  return [...head, ...new Array<number>(16 - head.length - tail.length).fill(0), ...tail];
}

/** Parses an IP address as upstream's ParseIPSloppy does; IPv4 yields 4 bytes, IPv6 16. */
export function parseIPSloppy(value: string): number[] | undefined {
  if (value.includes(':')) return parseIPv6(value);
  return parseIPv4Sloppy(value);
}

/** True for IPv4 addresses, including IPv4-mapped IPv6 ("::ffff:1.2.3.4"), as Go's To4() decides. */
function isIPv4Bytes(bytes: number[]): boolean {
  if (bytes.length === 4) return true;
  return bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}

export function isValidIP(value: string): string[] {
  return parseIPSloppy(value) ? [] : ['must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'];
}

export function isValidIPv4Address(value: string): string[] {
  const ip = parseIPSloppy(value);
  return ip && isIPv4Bytes(ip) ? [] : ['must be a valid IPv4 address'];
}

export function isValidIPv6Address(value: string): string[] {
  const ip = parseIPSloppy(value);
  return ip && !isIPv4Bytes(ip) ? [] : ['must be a valid IPv6 address'];
}

/** Parses "ip/prefix" as upstream's ParseCIDRSloppy does. */
export function parseCIDRSloppy(value: string): { ip: number[]; prefixLength: number } | undefined {
  const slash = value.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIPSloppy(value.slice(0, slash));
  const mask = value.slice(slash + 1);
  if (!ip || !/^[0-9]+$/.test(mask)) return undefined;
  const prefixLength = Number(mask);
  if (prefixLength > ip.length * 8) return undefined;
  return { ip, prefixLength };
}

export function isValidCIDR(value: string): string[] {
  return parseCIDRSloppy(value) ? [] : ['must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'];
}

// ---------------------------------------------------------------------------------------------------------------
// Field-path checks that produce FieldErrors directly, as upstream's do

/** A name with at least three dot-separated segments, e.g. an API group "stable.example.com". */
export function isFullyQualifiedName(path: string, name: string): FieldError[] {
  if (name.length === 0) return [fieldErr.required(path)];
  const errs = isDNS1123Subdomain(name);
  if (errs.length > 0) return [fieldErr.invalid(path, name, errs.join(','))];
  if (name.split('.').length < 3) return [fieldErr.invalid(path, name, 'should be a domain with at least three segments separated by dots')];
  return [];
}

/** A domain with at least two segments; a trailing dot is allowed. */
export function isFullyQualifiedDomainName(path: string, name: string): FieldError[] {
  if (name.length === 0) return [fieldErr.required(path)];
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  const errs = isDNS1123Subdomain(bare);
  if (errs.length > 0) return [fieldErr.invalid(path, bare, errs.join(','))];
  const labels = bare.split('.');
  if (labels.length < 2) return [fieldErr.invalid(path, bare, 'should be a domain with at least two segments separated by dots')];
  for (const label of labels) {
    const labelErrs = isDNS1123Label(label);
    if (labelErrs.length > 0) return [fieldErr.invalid(path, label, labelErrs.join(','))];
  }
  return [];
}

// RFC 3986 path characters: unreserved, percent-encoded octets, sub-delims and ':'.
const httpPathFmt = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const httpPathRegexp = anchored(httpPathFmt);

/** A domain-prefixed path such as "acme.io/foo" (IngressClass controllers, CSI drivers, ...). */
export function isDomainPrefixedPath(path: string, dpPath: string): FieldError[] {
  if (dpPath.length === 0) return [fieldErr.required(path)];
  const slash = dpPath.indexOf('/');
  const host = slash < 0 ? dpPath : dpPath.slice(0, slash);
  const rest = slash < 0 ? '' : dpPath.slice(slash + 1);
  if (slash < 0 || host.length === 0 || rest.length === 0) {
    return [fieldErr.invalid(path, dpPath, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  }
  const errs = isDNS1123Subdomain(host).map((m) => fieldErr.invalid(path, host, m));
  if (!httpPathRegexp.test(rest)) errs.push(fieldErr.invalid(path, rest, regexError('Invalid path', httpPathFmt)));
  return errs;
}

/** Turns a value check's messages into Invalid errors at one path. */
export function invalidEach(path: string, value: unknown, messages: string[]): FieldError[] {
  return messages.map((m) => fieldErr.invalid(path, value, m));
}

export function validateDNS1123Label(value: string, path: string): FieldError[] {
  return invalidEach(path, value, isDNS1123Label(value));
}

export function validateDNS1123Subdomain(value: string, path: string): FieldError[] {
  return invalidEach(path, value, isDNS1123Subdomain(value));
}

export const IS_NEGATIVE_ERROR_MSG = 'must be greater than or equal to 0';
export const FIELD_IMMUTABLE_ERROR_MSG = 'field is immutable';

export function validateNonnegativeField(value: number, path: string): FieldError[] {
  return value < 0 ? [fieldErr.invalid(path, value, IS_NEGATIVE_ERROR_MSG)] : [];
}

/** A resource quantity that must not be negative (upstream's ValidateNonnegativeQuantity). */
export function validateNonnegativeQuantity(value: Quantity, path: string): FieldError[] {
  return value.sign() < 0 ? [fieldErr.invalid(path, value.toString(), IS_NEGATIVE_ERROR_MSG)] : [];
}

/** A resource quantity that must be above zero (upstream's ValidatePositiveQuantityValue). */
export function validatePositiveQuantity(value: Quantity, path: string): FieldError[] {
  return value.sign() <= 0 ? [fieldErr.invalid(path, value.toString(), 'must be greater than zero')] : [];
}

/** Invalid "field is immutable" unless both values are deeply equal (undefined and null count as unset). */
export function validateImmutableField(newValue: unknown, oldValue: unknown, path: string): FieldError[] {
  return semanticEqual(newValue, oldValue) ? [] : [fieldErr.invalid(path, newValue, FIELD_IMMUTABLE_ERROR_MSG)];
}

function semanticEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a == null || b == null) return a == null && b == null;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => semanticEqual(v, b[i]));
  }
  if (typeof a === 'object' && typeof b === 'object') {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
    for (const k of keys) if (!semanticEqual(ao[k], bo[k])) return false;
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// Name rules for metadata.name (upstream's ValidateNameFunc family)

/** Checks a metadata.name; returns problem descriptions like the value checks above. */
export type NameValidator = (name: string) => string[];

export const nameIsDNSSubdomain: NameValidator = isDNS1123Subdomain;
export const nameIsDNSLabel: NameValidator = isDNS1123Label;
export const nameIsDNS1035Label: NameValidator = isDNS1035Label;
export const validateNamespaceName: NameValidator = isDNS1123Label;

/** Path segment names (ClusterRoles, ...): anything but ".", ".." and names containing '/' or '%'. */
export function isValidPathSegmentName(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const errs: string[] = [];
  for (const illegal of ['/', '%']) if (name.includes(illegal)) errs.push(`may not contain '${illegal}'`);
  return errs;
}

/** A generateName may end in '-' since random characters follow; check it with that dash masked. */
function maskTrailingDash(name: string): string {
  return name.endsWith('-') ? `${name.slice(0, -1)}a` : name;
}

// ---------------------------------------------------------------------------------------------------------------
// Labels, annotations, selectors

export function validateLabelName(key: string, path: string): FieldError[] {
  return invalidEach(path, key, isQualifiedName(key));
}

export function validateLabels(labels: Record<string, string> | undefined | null, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    errs.push(...validateLabelName(k, path));
    if (typeof v !== 'string') errs.push(fieldErr.invalid(path, v, 'must be a string'));
    else errs.push(...invalidEach(path, v, isValidLabelValue(v)));
  }
  return errs;
}

export const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES = 256 * 1024;

export function annotationsSize(annotations: Record<string, string> | undefined | null): number {
  let total = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) total += byteLength(k) + byteLength(typeof v === 'string' ? v : '');
  return total;
}

export function validateAnnotations(annotations: Record<string, string> | undefined | null, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(annotations ?? {})) {
    // Upstream: a qualified name, except that case does not matter.
    errs.push(...invalidEach(path, k, isQualifiedName(k.toLowerCase())));
    if (typeof v !== 'string') errs.push(fieldErr.invalid(`${path}[${k}]`, v, 'must be a string'));
  }
  if (annotationsSize(annotations) > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES) {
    errs.push(fieldErr.tooLong(path, '', TOTAL_ANNOTATION_SIZE_LIMIT_BYTES));
  }
  return errs;
}

export interface LabelSelectorValidationOptions {
  /** Skip label-value syntax checks on matchExpressions values (for objects stored before the check existed). */
  allowInvalidLabelValueInSelector?: boolean;
}

export function validateLabelSelectorRequirement(
  req: LabelSelectorRequirement,
  path: string,
  opts: LabelSelectorValidationOptions = {},
): FieldError[] {
  const errs: FieldError[] = [];
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) errs.push(fieldErr.required(`${path}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) {
        errs.push(fieldErr.forbidden(`${path}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      }
      break;
    default:
      errs.push(fieldErr.invalid(`${path}.operator`, req.operator ?? '', 'not a valid selector operator'));
  }
  errs.push(...validateLabelName(req.key ?? '', `${path}.key`));
  if (!opts.allowInvalidLabelValueInSelector) {
    values.forEach((v, i) => errs.push(...invalidEach(`${path}.values[${i}]`, v, isValidLabelValue(String(v)))));
  }
  return errs;
}

/** Validates a metav1.LabelSelector; an absent selector is valid (callers that need one check that). */
export function validateLabelSelector(
  selector: LabelSelector | undefined | null,
  path: string,
  opts: LabelSelectorValidationOptions = {},
): FieldError[] {
  if (!selector) return [];
  const errs = validateLabels(selector.matchLabels, `${path}.matchLabels`);
  (selector.matchExpressions ?? []).forEach((req, i) => {
    errs.push(...validateLabelSelectorRequirement(req, `${path}.matchExpressions[${i}]`, opts));
  });
  return errs;
}

// ---------------------------------------------------------------------------------------------------------------
// ObjectMeta

/** Kinds that may never own other objects (upstream's BannedOwners). */
const BANNED_OWNERS = new Set(['/v1, Kind=Event']);

/** Upstream's schema.FromAPIVersionAndKind(...).String(): an unparsable apiVersion yields an empty group and version. */
function ownerGvkString(apiVersion: string, kind: string): { text: string; version: string } {
  const parts = apiVersion === '' ? ['', ''] : apiVersion.split('/');
  let group = '';
  let version = '';
  if (parts.length === 1) version = parts[0];
  else if (parts.length === 2) [group, version] = parts;
  return { text: `${group}/${version}, Kind=${kind}`, version };
}

function validateOwnerReference(ref: OwnerReference, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const { text, version } = ownerGvkString(ref.apiVersion ?? '', ref.kind ?? '');
  if (!version) errs.push(fieldErr.invalid(`${path}.apiVersion`, ref.apiVersion ?? '', 'version must not be empty'));
  if (!ref.kind) errs.push(fieldErr.invalid(`${path}.kind`, ref.kind ?? '', 'must not be empty'));
  if (!ref.name) errs.push(fieldErr.invalid(`${path}.name`, ref.name ?? '', 'must not be empty'));
  if (!ref.uid) errs.push(fieldErr.invalid(`${path}.uid`, ref.uid ?? '', 'must not be empty'));
  if (BANNED_OWNERS.has(text)) errs.push(fieldErr.invalid(path, ref, `${text} is disallowed from being an owner`));
  return errs;
}

/** Each reference complete, at most one controller. Upstream reports at the list path, without an index. */
export function validateOwnerReferences(refs: OwnerReference[] | undefined | null, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let firstController = '';
  for (const ref of refs ?? []) {
    errs.push(...validateOwnerReference(ref, path));
    if (ref.controller === true) {
      const current = `${ref.kind}/${ref.name}`;
      if (firstController) {
        errs.push(
          fieldErr.invalid(
            path,
            refs,
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`,
          ),
        );
      } else {
        firstController = current;
      }
    }
  }
  return errs;
}

export const FINALIZER_ORPHAN_DEPENDENTS = 'orphan';
export const FINALIZER_DELETE_DEPENDENTS = 'foregroundDeletion';
export const FINALIZER_KUBERNETES = 'kubernetes';
const STANDARD_FINALIZERS = new Set([FINALIZER_KUBERNETES, FINALIZER_ORPHAN_DEPENDENTS, FINALIZER_DELETE_DEPENDENTS]);

export function validateFinalizerName(name: string, path: string): FieldError[] {
  return invalidEach(path, name, isQualifiedName(name));
}

/** Qualified names; "orphan" and "foregroundDeletion" are mutually exclusive. */
export function validateFinalizers(finalizers: string[] | undefined | null, path: string): FieldError[] {
  const list = finalizers ?? [];
  const errs: FieldError[] = [];
  for (const f of list) errs.push(...validateFinalizerName(f, path));
  if (list.includes(FINALIZER_ORPHAN_DEPENDENTS) && list.includes(FINALIZER_DELETE_DEPENDENTS)) {
    errs.push(
      fieldErr.invalid(path, list, `finalizer ${FINALIZER_ORPHAN_DEPENDENTS} and ${FINALIZER_DELETE_DEPENDENTS} cannot be both set`),
    );
  }
  return errs;
}

/**
 * Built-in kinds (not custom resources) also require an unqualified finalizer to be one of the standard ones
 * (upstream's validateKubeFinalizerName in pkg/apis/core/validation).
 */
export function validateKubeFinalizers(finalizers: string[] | undefined | null, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (finalizers ?? []).forEach((f, i) => {
    if (!f.includes('/') && !STANDARD_FINALIZERS.has(f)) {
      errs.push(fieldErr.invalid(`${path}[${i}]`, f, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  });
  return errs;
}

/** When the object is being deleted, finalizers may only be removed. */
export function validateNoNewFinalizers(newFinalizers: string[] | undefined, oldFinalizers: string[] | undefined, path: string): FieldError[] {
  const old = new Set(oldFinalizers ?? []);
  const extra = [...new Set((newFinalizers ?? []).filter((f) => !old.has(f)))].sort();
  if (extra.length === 0) return [];
  const goList = `[]string{${extra.map((f) => JSON.stringify(f)).join(', ')}}`;
  return [fieldErr.forbidden(path, `no new finalizers can be added if the object is being deleted, found new finalizers ${goList}`)];
}

const FIELD_MANAGER_MAX_LENGTH = 128;
const MAX_SUBRESOURCE_NAME_LENGTH = 256;

export function validateFieldManager(manager: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (byteLength(manager) > FIELD_MANAGER_MAX_LENGTH) errs.push(fieldErr.tooLong(path, manager, FIELD_MANAGER_MAX_LENGTH));
  let bytePos = 0;
  for (const ch of manager) {
    if (/[\p{C}\p{Z}]/u.test(ch) && ch !== ' ') {
      const cp = ch.codePointAt(0) ?? 0;
      const hex = cp.toString(16).toUpperCase().padStart(4, '0');
      errs.push(fieldErr.invalid(path, manager, `invalid character U+${hex} (at position ${bytePos})`));
    }
    bytePos += byteLength(ch);
  }
  return errs;
}

export function validateManagedFields(entries: ManagedFieldsEntry[] | undefined | null, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (entries ?? []).forEach((e, i) => {
    const p = `${path}[${i}]`;
    if (e.operation !== 'Apply' && e.operation !== 'Update') {
      errs.push(fieldErr.invalid(`${p}.operation`, e.operation ?? '', 'must be `Apply` or `Update`'));
    }
    if (e.fieldsType && e.fieldsType !== 'FieldsV1') errs.push(fieldErr.invalid(`${p}.fieldsType`, e.fieldsType, 'must be `FieldsV1`'));
    errs.push(...validateFieldManager(e.manager ?? '', `${p}.manager`));
    if (e.subresource && byteLength(e.subresource) > MAX_SUBRESOURCE_NAME_LENGTH) {
      errs.push(fieldErr.tooLong(`${p}.subresource`, e.subresource, MAX_SUBRESOURCE_NAME_LENGTH));
    }
  });
  return errs;
}

export interface ObjectMetaValidationOptions {
  /** Whether the kind lives in a namespace: then metadata.namespace is required, else forbidden. */
  namespaced: boolean;
  /** Rule for metadata.name (and generateName); DNS-1123 subdomain when absent. */
  validateName?: NameValidator;
  /**
   * Custom resources accept any qualified finalizer; built-in kinds (the default) additionally require unqualified
   * finalizers to be standard ones.
   */
  customResource?: boolean;
}

/** Upstream's ValidateObjectMeta for create; name generation is expected to have happened already. */
export function validateObjectMeta(meta: ObjectMeta | undefined | null, opts: ObjectMetaValidationOptions, path = 'metadata'): FieldError[] {
  const m = meta ?? {};
  const validateName = opts.validateName ?? nameIsDNSSubdomain;
  const errs: FieldError[] = [];
  if (m.generateName) {
    errs.push(...invalidEach(`${path}.generateName`, m.generateName, validateName(maskTrailingDash(m.generateName))));
  }
  if (!m.name) errs.push(fieldErr.required(`${path}.name`, 'name or generateName is required'));
  else errs.push(...invalidEach(`${path}.name`, m.name, validateName(m.name)));
  errs.push(...validateObjectMetaCommon(m, opts, path));
  return errs;
}

function validateObjectMetaCommon(m: ObjectMeta, opts: ObjectMetaValidationOptions, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (opts.namespaced) {
    if (!m.namespace) errs.push(fieldErr.required(`${path}.namespace`));
    else errs.push(...invalidEach(`${path}.namespace`, m.namespace, validateNamespaceName(m.namespace)));
  } else if (m.namespace) {
    errs.push(fieldErr.forbidden(`${path}.namespace`, 'not allowed on this type'));
  }
  errs.push(...validateNonnegativeField(m.generation ?? 0, `${path}.generation`));
  errs.push(...validateLabels(m.labels, `${path}.labels`));
  errs.push(...validateAnnotations(m.annotations, `${path}.annotations`));
  errs.push(...validateOwnerReferences(m.ownerReferences, `${path}.ownerReferences`));
  errs.push(...validateFinalizers(m.finalizers, `${path}.finalizers`));
  errs.push(...validateManagedFields(m.managedFields, `${path}.managedFields`));
  if (!opts.customResource) errs.push(...validateKubeFinalizers(m.finalizers, `${path}.finalizers`));
  return errs;
}

export interface ObjectMetaUpdateOptions {
  /** See ObjectMetaValidationOptions.customResource. */
  customResource?: boolean;
}

/** Upstream's ValidateObjectMetaUpdate: identity fields are immutable, resourceVersion must be sent. */
export function validateObjectMetaUpdate(
  newMeta: ObjectMeta | undefined | null,
  oldMeta: ObjectMeta | undefined | null,
  path = 'metadata',
  opts: ObjectMetaUpdateOptions = {},
): FieldError[] {
  const n = newMeta ?? {};
  const o = oldMeta ?? {};
  const errs: FieldError[] = [];
  if (o.deletionTimestamp) errs.push(...validateNoNewFinalizers(n.finalizers, o.finalizers, `${path}.finalizers`));
  if (!n.resourceVersion) errs.push(fieldErr.invalid(`${path}.resourceVersion`, n.resourceVersion ?? '', 'must be specified for an update'));
  if ((n.generation ?? 0) < (o.generation ?? 0)) errs.push(fieldErr.invalid(`${path}.generation`, n.generation ?? 0, 'must not be decremented'));
  errs.push(...validateImmutableField(n.name ?? '', o.name ?? '', `${path}.name`));
  errs.push(...validateImmutableField(n.namespace ?? '', o.namespace ?? '', `${path}.namespace`));
  errs.push(...validateImmutableField(n.uid ?? '', o.uid ?? '', `${path}.uid`));
  // Unset timestamps and pointers print as null, as upstream shows them.
  errs.push(...validateImmutableField(n.creationTimestamp ?? null, o.creationTimestamp ?? null, `${path}.creationTimestamp`));
  errs.push(...validateImmutableField(n.deletionTimestamp ?? null, o.deletionTimestamp ?? null, `${path}.deletionTimestamp`));
  errs.push(
    ...validateImmutableField(n.deletionGracePeriodSeconds ?? null, o.deletionGracePeriodSeconds ?? null, `${path}.deletionGracePeriodSeconds`),
  );
  errs.push(...validateLabels(n.labels, `${path}.labels`));
  errs.push(...validateAnnotations(n.annotations, `${path}.annotations`));
  errs.push(...validateOwnerReferences(n.ownerReferences, `${path}.ownerReferences`));
  errs.push(...validateManagedFields(n.managedFields, `${path}.managedFields`));
  if (!opts.customResource) errs.push(...validateKubeFinalizers(n.finalizers, `${path}.finalizers`));
  return errs;
}

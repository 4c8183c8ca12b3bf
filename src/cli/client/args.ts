/**
 * Parsers for the client commands' option values. Each runs while commander parses the command line, so a bad
 * value stops the command before any file is read or any request is sent; each throws commander's
 * InvalidArgumentError, which commander reports as `error: option '--x <v>' argument '...' is invalid. <why>`.
 */
import { InvalidArgumentError } from 'commander';
import { LIMITS } from '../../core/limits.js';
import { TOKEN_TTL_SECONDS } from '../../identity/tokens.js';
import { APPROVAL_STATUSES } from '../../ports/storage.js';
import { CliError } from './io.js';

/**
 * Request limits that are part of the API contract: the server's own table (the AWS KMS limits). The CLI checks
 * them first only to give a clear message without a round trip; the server stays the authority.
 */
export const CLI_LIMITS = {
  plaintextBytes: LIMITS.plaintextBytes,
  dataKeyBytes: LIMITS.dataKeyBytes,
  pendingWindowDays: LIMITS.pendingWindowDays,
  rotationPeriodDays: LIMITS.rotationPeriodDays,
  listLimit: LIMITS.listKeys,
  /** Principal, role and policy names (IAM's name characters; the server may allow fewer for some kinds). */
  nameChars: { min: 1, max: 128 },
  /** Access key expiry, as the server checks it (src/identity/access-keys.ts). */
  accessKeyExpiryDays: { min: 1, max: 3650 },
  tokenTtlSeconds: { min: TOKEN_TTL_SECONDS.min, max: TOKEN_TTL_SECONDS.max },
  tagKeyChars: LIMITS.tagKeyChars,
  descriptionChars: LIMITS.descriptionChars,
  /** A policy document's text (the REST API's schema). */
  policyDocumentChars: { min: 1, max: 65_536 },
} as const;

/** The states of a dual-control approval request, for `approval list --status`. */
export const APPROVAL_STATUS_CHOICES: readonly string[] = APPROVAL_STATUSES;

export interface IntegerRange {
  min: number;
  max: number;
}

/** Parses a decimal integer within `range` (no sign, no exponent, no fraction). @throws InvalidArgumentError */
export function parseInteger(value: string, range: IntegerRange): number {
  const n = /^[0-9]{1,15}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < range.min || n > range.max) {
    throw new InvalidArgumentError(`Expected an integer from ${range.min} to ${range.max}.`);
  }
  return n;
}

/** An option argParser for integers within `range`. */
export function integerIn(range: IntegerRange): (value: string) => number {
  return (value) => parseInteger(value, range);
}

/**
 * Parses one `k=v` pair, split on the first `=` (the value may contain `=` and may be empty; the key may not).
 * @throws InvalidArgumentError when there is no `=` or the key is empty.
 */
export function parseKeyValue(value: string): [key: string, value: string] {
  const at = value.indexOf('=');
  if (at < 0) throw new InvalidArgumentError(`Expected key=value, got no "=".`);
  if (at === 0) throw new InvalidArgumentError('Expected key=value, got an empty key.');
  return [value.slice(0, at), value.slice(at + 1)];
}

/**
 * An option argParser for repeatable `k=v` options (`--context`, `--tag`) that collects them into one object.
 * Giving the same key twice is an error rather than "last one wins": an encryption context must be exactly what
 * the caller meant, and a silent overwrite would make decryption fail far from the typo.
 */
export function collectKeyValue(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const [key, v] = parseKeyValue(value);
  const pairs: Record<string, string> = { ...(previous ?? {}) };
  if (Object.prototype.hasOwnProperty.call(pairs, key)) throw new InvalidArgumentError(`The key "${key}" is given twice.`);
  // Object.defineProperty so that a key such as "__proto__" is stored as data, not as the prototype.
  Object.defineProperty(pairs, key, { value: v, enumerable: true, writable: true, configurable: true });
  return pairs;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Whether `value` is canonical standard base64 (what the server accepts). */
export function isBase64(value: string): boolean {
  return value.length > 0 && BASE64.test(value);
}

const NAME = /^[A-Za-z0-9+=,.@_-]+$/;

/**
 * Parses a principal, role or policy name: 1 to 128 of IAM's name characters (letters, digits and +=,.@_-).
 * @throws InvalidArgumentError
 */
export function parseName(value: string): string {
  const { min, max } = CLI_LIMITS.nameChars;
  if (value.length < min || value.length > max || !NAME.test(value)) {
    throw new InvalidArgumentError(`Expected ${min} to ${max} characters of letters, digits and +=,.@_-.`);
  }
  return value;
}

/**
 * An argParser for repeatable options whose values are names (`--role`, `--policy`), collected into an array.
 * A name given twice is an error, as for `--tag`.
 */
export function collectName(value: string, previous: string[] | undefined): string[] {
  const name = parseName(value);
  if (previous?.includes(name)) throw new InvalidArgumentError(`"${name}" is given twice.`);
  return [...(previous ?? []), name];
}

/** An argParser for repeatable `--tag-key` options: 1 to 128 characters each, collected into an array. */
export function collectTagKey(value: string, previous: string[] | undefined): string[] {
  const { min, max } = CLI_LIMITS.tagKeyChars;
  if (value.length < min || value.length > max) throw new InvalidArgumentError(`Expected a tag key of ${min} to ${max} characters.`);
  if (previous?.includes(value)) throw new InvalidArgumentError(`The tag key "${value}" is given twice.`);
  return [...(previous ?? []), value];
}

/** Parses an access key id: 16 to 128 letters and digits (AWS's AccessKeyId rule). @throws InvalidArgumentError */
export function parseAccessKeyId(value: string): string {
  if (!/^[A-Za-z0-9]{16,128}$/.test(value)) throw new InvalidArgumentError('Expected an access key id: 16 to 128 letters and digits (see access-key list).');
  return value;
}

/**
 * Parses a token accessor (16 to 128 of `A-Za-z0-9_-`). A bearer token itself (`ddt_...`) is refused: it would
 * travel in the URL path, where proxies and access logs keep it. That refusal is a CliError rather than commander's
 * InvalidArgumentError, whose message would repeat the token on the terminal.
 * @throws InvalidArgumentError, CliError
 */
export function parseAccessor(value: string): string {
  if (value.startsWith('ddt_')) {
    throw new CliError('This is a bearer token, not its accessor; nothing was sent. Pass the accessor (token list shows them), never the token itself.');
  }
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(value)) throw new InvalidArgumentError('Expected a token accessor: 16 to 128 of A-Z a-z 0-9 _ - (see token list).');
  return value;
}

/**
 * Parses a certificate's SHA-256 fingerprint, `abcd...` or `AB:CD:...` (as `openssl x509 -fingerprint -sha256`
 * prints it), into 64 lower-case hex digits.
 * @throws InvalidArgumentError
 */
export function parseFingerprint(value: string): string {
  const hex = value.replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new InvalidArgumentError('Expected a SHA-256 fingerprint: 64 hex digits, with or without colons.');
  return hex;
}

/** Parses an approval request id (a UUID), into lower case. @throws InvalidArgumentError */
export function parseApprovalId(value: string): string {
  const id = value.toLowerCase();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
    throw new InvalidArgumentError('Expected an approval request id (a UUID, see approval list).');
  }
  return id;
}

/** Parses a description of at most 8192 characters (`policy create --description`). @throws InvalidArgumentError */
export function parseDescription(value: string): string {
  const { max } = CLI_LIMITS.descriptionChars;
  if (value.length > max) throw new InvalidArgumentError(`Expected at most ${max} characters.`);
  return value;
}

/**
 * Parsers for the client commands' option values. Each runs while commander parses the command line, so a bad
 * value stops the command before any file is read or any request is sent; each throws commander's
 * InvalidArgumentError, which commander reports as `error: option '--x <v>' argument '...' is invalid. <why>`.
 */
import { InvalidArgumentError } from 'commander';
import { LIMITS } from '../../core/limits.js';

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
} as const;

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

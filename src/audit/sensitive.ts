/**
 * Values that may be sensitive in an audit event (encryption-context values, names a caller chose) are wrapped as
 * Sensitive by the core; the audit log replaces each with its keyed hash `hmac-sha256:<keyId>:<hex>` before the
 * event is chained or stored, so an investigator can search for a value (datadefender audit hash) without the trail
 * ever holding it.
 * Invariants: a Sensitive never serializes its value (toJSON and inspection give `<redacted>`); without an HMAC key
 * the value is dropped (`<redacted>`), never written; the HMAC key id is part of the output, so hashes made under an
 * older key stay searchable after the key changes.
 */
import { inspect } from 'node:util';
import { hmac, type SecretBytes } from '../crypto/index.js';

const VALUE = Symbol('sensitive');

export class Sensitive {
  readonly [VALUE]: string;
  constructor(value: string) {
    this[VALUE] = value;
  }
  toJSON(): string {
    return '<redacted>';
  }
  toString(): string {
    return '<redacted>';
  }
  [inspect.custom](): string {
    return 'Sensitive(<redacted>)';
  }
}

/** Marks each value of a string map (e.g. an encryption context) as sensitive; keys stay readable. */
export function sensitiveValues(map: Readonly<Record<string, string>> | undefined): Record<string, Sensitive> | undefined {
  if (map === undefined) return undefined;
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, new Sensitive(v)]));
}

/** The key an audit log hashes sensitive values with. */
export interface AuditHmacKey {
  readonly id: string;
  readonly key: SecretBytes;
}

/**
 * Exactly the keyed hashes keyedHash makes under the audit keyring's HMAC keys (ids `audit-hmac-<version>`, see
 * audit-keys.ts): `hmac-sha256:audit-hmac-<version>:<64 lowercase hex>`. Nothing else passes, in particular no `%`,
 * `_`, backslash, quote or upper-case letter, so a search may match a hash as a plain substring of the stored record.
 */
export const KEYED_HASH_PATTERN = /^hmac-sha256:audit-hmac-[1-9][0-9]{0,8}:[0-9a-f]{64}$/;

/** `hmac-sha256:<keyId>:<hex>` of `value` (UTF-8). */
export function keyedHash(key: AuditHmacKey, value: string): string {
  return `hmac-sha256:${key.id}:${hmac('sha256', key.key, Buffer.from(value, 'utf8')).toString('hex')}`;
}

/** A deep copy of `value` with every Sensitive replaced by its keyed hash (or `<redacted>` without a key). */
export function redact(value: unknown, key: AuditHmacKey | undefined): unknown {
  if (value instanceof Sensitive) return key ? keyedHash(key, value[VALUE]) : '<redacted>';
  if (Array.isArray(value)) return value.map((v) => redact(v, key));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redact(v, key)]));
  }
  return value;
}

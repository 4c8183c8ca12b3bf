/**
 * The digest of a request as received, for dual control: an approval serves only a repeat of the identical request.
 * Invariant: equal operation, target and parameters give equal digests, whatever the order of JSON members.
 */
import { sha256Hex } from '../crypto/index.js';

/** JSON with object members sorted by key, recursively. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** SHA-256 hex over the request's identifying parts (method, path or operation) and its parsed body. */
export function requestDigest(parts: readonly string[], body: unknown): string {
  return sha256Hex(`${parts.join('\n')}\n${canonicalJson(body ?? null)}`);
}

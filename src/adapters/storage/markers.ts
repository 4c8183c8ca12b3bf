/**
 * Pagination markers: base64url (no padding) of `<list>:<last returned id or name>`.
 * Opaque to callers; the list prefix makes a marker from one list invalid for another.
 * Anything that does not decode exactly (non-canonical base64url, bad UTF-8, wrong list) is an InvalidMarkerError.
 */
import { InvalidMarkerError } from '../../errors/index.js';

export type MarkerList = 'keys' | 'aliases' | 'grants' | 'retirable-grants';

const MAX_MARKER_LENGTH = 2048;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function encodeMarker(list: MarkerList, last: string): string {
  return Buffer.from(`${list}:${last}`, 'utf8').toString('base64url');
}

/** @throws InvalidMarkerError */
export function decodeMarker(list: MarkerList, marker: string): string {
  const invalid = () => new InvalidMarkerError('The pagination marker is not valid.');
  if (typeof marker !== 'string' || marker.length > MAX_MARKER_LENGTH || !BASE64URL.test(marker)) throw invalid();
  const bytes = Buffer.from(marker, 'base64url');
  if (bytes.toString('base64url') !== marker) throw invalid();
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw invalid();
  }
  const prefix = `${list}:`;
  if (!text.startsWith(prefix) || text.length === prefix.length) throw invalid();
  return text.slice(prefix.length);
}

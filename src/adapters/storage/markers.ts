/**
 * Pagination markers: base64url (no padding) of `<list>:<last returned id or name>`; lists ordered by a time and an
 * id (approvals) carry both, as `<list>:<epoch millis>:<id>`.
 * Opaque to callers; the list prefix makes a marker from one list invalid for another.
 * Anything that does not decode exactly (non-canonical base64url, bad UTF-8, wrong list) is an InvalidMarkerError.
 */
import { InvalidMarkerError } from '../../errors/index.js';

export type MarkerList = 'keys' | 'aliases' | 'grants' | 'retirable-grants' | 'principals' | 'policies' | 'approvals';

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

/** A marker for a list ordered by (time, id): the last item's epoch milliseconds and id. */
export function encodeTimeMarker(list: MarkerList, millis: number, id: string): string {
  return encodeMarker(list, `${millis}:${id}`);
}

/** @throws InvalidMarkerError */
export function decodeTimeMarker(list: MarkerList, marker: string): { millis: number; id: string } {
  const text = decodeMarker(list, marker);
  const match = /^(-?(?:0|[1-9][0-9]{0,15})):(.+)$/s.exec(text);
  const millis = match ? Number(match[1]) : Number.NaN;
  if (!match || !Number.isSafeInteger(millis) || match[1] === '-0') throw new InvalidMarkerError('The pagination marker is not valid.');
  return { millis, id: match[2]! };
}

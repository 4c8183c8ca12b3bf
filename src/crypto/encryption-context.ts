// Canonical, unambiguous encoding of an encryption context, authenticated as AAD (DESIGN §2).
// Format: u16 BE pair count, then for each pair sorted by the UTF-8 bytes of its key (byte-wise, Buffer.compare):
//   u16 BE key length, key UTF-8, u16 BE value length, value UTF-8.
// Invariants: every key and value is length-prefixed, so no two distinct contexts share an encoding
// (`{"ab":"c"}` != `{"a":"bc"}`); pair order does not matter; absent and `{}` encode identically (0x0000);
// strings with lone surrogates are refused because UTF-8 cannot represent them (they would collide with U+FFFD).
// Compare: AWS Encryption SDK message format, "Encryption Context" serialization.
import { ValidationError } from '../errors/index.js';

/** Non-secret key-value pairs bound to a ciphertext; decrypt must present exactly the same pairs. */
export type EncryptionContext = Record<string, string>;

const U16_MAX = 0xffff;
/** In Unicode mode, a surrogate range matches only surrogates that are not part of a valid pair. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function utf8(what: string, s: unknown): Buffer {
  if (typeof s !== 'string') throw new ValidationError(`Every encryption context ${what} must be a string.`);
  if (LONE_SURROGATE.test(s)) throw new ValidationError(`An encryption context ${what} is not valid Unicode.`);
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length > U16_MAX) throw new ValidationError(`An encryption context ${what} exceeds 65535 bytes.`);
  return bytes;
}

function u16(n: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(n, 0);
  return b;
}

/**
 * The canonical encoding of `ec` (see the file header); `undefined` and `{}` give the same two bytes 0x0000.
 * @throws ValidationError (ERR_VALIDATION) when `ec` is not a plain object, a key or value is not a well-formed
 * string, a key or value is longer than 65535 UTF-8 bytes, or there are more than 65535 pairs.
 */
export function encodeEncryptionContext(ec: EncryptionContext | undefined): Buffer {
  if (ec === undefined) return u16(0);
  if (typeof ec !== 'object' || ec === null || Array.isArray(ec)) {
    throw new ValidationError('The encryption context must be an object of string keys and string values.');
  }
  const keys = Object.keys(ec);
  if (keys.length > U16_MAX) throw new ValidationError('The encryption context has more than 65535 pairs.');
  const pairs = keys.map((k) => [utf8('key', k), utf8('value', ec[k])] as const);
  pairs.sort((a, b) => Buffer.compare(a[0], b[0]));
  const parts: Buffer[] = [u16(pairs.length)];
  for (const [k, v] of pairs) parts.push(u16(k.length), k, u16(v.length), v);
  return Buffer.concat(parts);
}

// The little DER this package needs: reading one TLV, and the SEQUENCE OF INTEGER of an ECDSA signature.
// Spec: ITU-T X.690 §8.1 (TLV), §8.3 (INTEGER), §10.1 (definite, minimal lengths); SEC 1 v2 §C.5 (ECDSA-Sig-Value).
// Invariants: decoding is strict DER: single-byte tags only, definite lengths in their shortest form, INTEGERs
// non-empty, minimal and non-negative, and nothing left over; any deviation reads as `undefined`, never as a value.

/** One TLV: its tag, and where its contents start and end in the input. */
export interface Tlv {
  tag: number;
  start: number;
  end: number;
}

/** Lengths of up to 4 bytes (2^32 - 1) are more than any key or signature needs. */
const MAX_LENGTH_BYTES = 4;

/** Reads the TLV at `offset`, or `undefined` if it is not strict DER or runs past the end of `der`. */
export function readTlv(der: Uint8Array, offset: number): Tlv | undefined {
  const tag = der[offset];
  const first = der[offset + 1];
  if (tag === undefined || first === undefined || (tag & 0x1f) === 0x1f) return undefined;
  let length = first;
  let start = offset + 2;
  if (first >= 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > MAX_LENGTH_BYTES || start + count > der.length || der[start] === 0) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[start + i] as number);
    if (length < 0x80) return undefined; // the short form was required
    start += count;
  }
  const end = start + length;
  return end <= der.length ? { tag, start, end } : undefined;
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;

/** True when `der` is exactly one strict-DER SEQUENCE, with no bytes after it. */
export function isOneDerSequence(der: Uint8Array): boolean {
  const tlv = readTlv(der, 0);
  return tlv !== undefined && tlv.tag === SEQUENCE && tlv.end === der.length;
}

/** The non-negative integer held by big-endian `bytes`. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  let x = 0n;
  for (const b of bytes) x = (x << 8n) | BigInt(b);
  return x;
}

/** `x` (non-negative) as exactly `length` big-endian bytes; the caller guarantees that it fits. */
export function bigIntToBytes(x: bigint, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = length - 1; i >= 0 && x > 0n; i--, x >>= 8n) out[i] = Number(x & 0xffn);
  return out;
}

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function encodeInteger(x: bigint): Buffer {
  let length = 1;
  while (x >> BigInt(8 * length - 1) !== 0n) length++; // room for a 0 sign bit
  return Buffer.concat([Buffer.from([INTEGER]), encodeLength(length), bigIntToBytes(x, length)]);
}

/** DER of SEQUENCE { INTEGER, ... } holding the non-negative `values` (e.g. ECDSA-Sig-Value (r, s)). */
export function encodeIntegerSequence(values: readonly bigint[]): Buffer {
  const body = Buffer.concat(values.map(encodeInteger));
  return Buffer.concat([Buffer.from([SEQUENCE]), encodeLength(body.length), body]);
}

/**
 * The `count` non-negative INTEGERs of a strict-DER SEQUENCE that spans all of `der`, or `undefined` for anything
 * else: another tag, a long-form length that fits the short form, a negative or zero-padded INTEGER, a missing or
 * extra element, trailing bytes.
 */
export function decodeIntegerSequence(der: Uint8Array, count: number): bigint[] | undefined {
  const seq = readTlv(der, 0);
  if (seq === undefined || seq.tag !== SEQUENCE || seq.end !== der.length) return undefined;
  const values: bigint[] = [];
  let offset = seq.start;
  for (let i = 0; i < count; i++) {
    const int = readTlv(der, offset);
    if (int === undefined || int.tag !== INTEGER || int.end > seq.end || int.end === int.start) return undefined;
    const lead = der[int.start] as number;
    if (lead >= 0x80) return undefined; // negative
    if (lead === 0 && int.end - int.start > 1 && (der[int.start + 1] as number) < 0x80) return undefined; // not minimal
    values.push(bytesToBigInt(der.subarray(int.start, int.end)));
    offset = int.end;
  }
  return offset === seq.end ? values : undefined;
}

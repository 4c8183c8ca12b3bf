// INTERNAL — AES-GCM encryption with an explicit IV. Only aead.ts (which always passes a fresh random IV) and the
// Wycheproof tests import this file; it is deliberately NOT re-exported from crypto/index.ts, and a test in
// test/crypto fails if anything else in src/ imports it. Product code never supplies a nonce (DESIGN §2).
// Invariants: IV is exactly 12 bytes (NIST SP 800-38D §8.2, §5.2.1.1: 96-bit IVs avoid GHASH-derived counters);
// tag is exactly 16 bytes; key is 16, 24 or 32 bytes. Reusing an IV under one key reveals the GHASH key and the
// XOR of plaintexts (NIST SP 800-38D §8, Appendix A).
import { createCipheriv } from 'node:crypto';
import { ValidationError } from '../errors/index.js';
import type { SecretBytes } from './secret-bytes.js';

/** GCM IV length in bytes (96 bits). */
export const GCM_IV_BYTES = 12;
/** GCM tag length in bytes (128 bits; no truncated tags). */
export const GCM_TAG_BYTES = 16;

/** Cipher name by key length in bytes. */
const GCM_CIPHERS: Readonly<Record<number, 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm'>> = {
  16: 'aes-128-gcm',
  24: 'aes-192-gcm',
  32: 'aes-256-gcm',
};

/** The node:crypto cipher name for an AES key of `keyLength` bytes, or undefined for any other length. */
export function gcmCipherFor(keyLength: number): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' | undefined {
  return Object.hasOwn(GCM_CIPHERS, keyLength) ? GCM_CIPHERS[keyLength] : undefined;
}

/**
 * AES-GCM encryption under a caller-chosen IV. INTERNAL: see the file header.
 * @throws ValidationError (ERR_VALIDATION) when the key is not 16/24/32 bytes or the IV is not 12 bytes.
 */
export function aesGcmEncryptWithFixedIv(
  key: SecretBytes,
  iv: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): { iv: Buffer; ciphertext: Buffer; tag: Buffer } {
  const cipherName = gcmCipherFor(key.length);
  if (cipherName === undefined) throw new ValidationError('The AES key must be 16, 24 or 32 bytes long.');
  if (iv.length !== GCM_IV_BYTES) throw new ValidationError('The AES-GCM IV must be 12 bytes long.');
  const cipher = createCipheriv(cipherName, key.reveal(), iv, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv: Buffer.from(iv), ciphertext, tag: cipher.getAuthTag() };
}

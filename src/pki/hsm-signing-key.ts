/**
 * A CA key that lives in an HSM (SigningKeyStore), as @peculiar/x509 sees a signing key: an opaque key handle and a
 * WebCrypto whose `subtle.sign` hands that handle's signatures to the HSM. The library passes the WebCrypto as the
 * `crypto` argument of its generators (certificates, CRLs, requests) and calls `subtle.sign(algorithm, key, tbs)`.
 *
 * Invariants:
 * - the handle holds no key material: it is a frozen object naming ECDSA P-256; Node's own WebCrypto refuses it, so
 *   it signs nothing but through this module's WebCrypto, and only in the HSM;
 * - only ECDSA with SHA-256 is signed with the handle (anything else throws before the HSM is asked); the HSM's
 *   r || s is exactly what WebCrypto returns for ECDSA, so the library encodes it as it would its own;
 * - every other WebCrypto call (digest, exportKey, importKey, verify, sign with another key, random) goes to Node's
 *   WebCrypto unchanged.
 */
import type { SigningKeyStore } from '../ports/signing-key-store.js';
import { ECDSA_P256 } from './key-pair.js';

/** A key to sign with and the WebCrypto that can use it. */
export interface SigningKey {
  readonly privateKey: CryptoKey;
  readonly crypto: Crypto;
}

const hashName = (hash: unknown): unknown => (typeof hash === 'object' && hash !== null ? (hash as { name?: unknown }).name : hash);
const bytesOf = (data: BufferSource): Uint8Array =>
  ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);

/** The key labelled `label` in `store`, for @peculiar/x509 and WebCrypto-style callers. */
export function hsmSigningKey(store: SigningKeyStore, label: string): SigningKey {
  const handle = Object.freeze({ type: 'private', extractable: false, algorithm: Object.freeze({ ...ECDSA_P256 }), usages: Object.freeze(['sign']) }) as unknown as CryptoKey;
  const real = globalThis.crypto;
  const sign = async (algorithm: AlgorithmIdentifier | EcdsaParams, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer> => {
    if (key !== handle) return real.subtle.sign(algorithm, key, data);
    const name = typeof algorithm === 'string' ? algorithm : algorithm.name;
    if (name !== 'ECDSA' || hashName((algorithm as EcdsaParams).hash) !== 'SHA-256') throw new TypeError('The HSM CA key signs ECDSA with SHA-256 only.');
    const signature = await store.sign(label, bytesOf(data));
    return new Uint8Array(signature).buffer;
  };
  const subtle = new Proxy(real.subtle, {
    get(target, property) {
      if (property === 'sign') return sign;
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  const crypto = {
    subtle,
    getRandomValues: real.getRandomValues.bind(real),
    randomUUID: real.randomUUID.bind(real),
  } as Crypto;
  return { privateKey: handle, crypto };
}

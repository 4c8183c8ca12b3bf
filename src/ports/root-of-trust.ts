import type { SecretBytes } from '../crypto/secret-bytes.js';

/**
 * The root of the key hierarchy. Every piece of key material is stored only wrapped by it.
 * Invariants: `aad` is bound to the wrapped bytes (unwrap with other aad fails); the root key never leaves
 * the adapter; every unwrap failure throws InvalidCiphertextError; an unreachable root throws DependencyError
 * and a sealed one SealedError.
 */
export interface RootOfTrust {
  /** Adapter name, shown in status (`local`, `local-sealed`, `pkcs11`, `aws-kms`). */
  readonly kind: string;
  wrap(plaintext: SecretBytes, aad: Uint8Array): Promise<Uint8Array>;
  unwrap(wrapped: Uint8Array, aad: Uint8Array): Promise<SecretBytes>;
}

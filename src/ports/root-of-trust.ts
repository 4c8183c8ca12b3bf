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

/** Where a sealable root stands: sealed or not, and the progress of the unseal attempt under way. */
export interface SealStatus {
  sealed: boolean;
  /** Shares needed to unseal. */
  threshold: number;
  /** Shares issued. */
  shares: number;
  /** Shares submitted in the attempt under way. */
  progress: number;
  /** Identifies the attempt under way (every share of an attempt carries it); null when none is. */
  nonce: string | null;
}

/**
 * A root of trust that starts sealed and is unsealed by operators with Shamir shares (local-sealed).
 * Invariants: while sealed, wrap and unwrap throw SealedError; `seal` takes effect at once.
 */
export interface SealableRoot extends RootOfTrust {
  status(): SealStatus;
  /** @throws ValidationError (a share of another seal, malformed), ConflictError (duplicate, wrong nonce), InvalidCiphertextError-like failures reset the attempt */
  submitShare(share: string, nonce?: string): Promise<SealStatus>;
  /** A promise when the root is served by another process (a worker's view of the primary's root). */
  resetUnseal(): SealStatus | Promise<SealStatus>;
  seal(): void | Promise<void>;
  /** New shares for the same root key; the current ones stop working. */
  rekey(currentShares: readonly string[], options: { shares: number; threshold: number }): Promise<string[]>;
}

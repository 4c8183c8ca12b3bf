/**
 * The HSM key store port: a connection to the token behind one custom key store (AWS CloudHSM key store model),
 * in which KMS keys live as non-extractable AES-256 key objects and AES-GCM runs inside the HSM.
 * Invariants: key material never crosses this port (only plaintext to seal, ciphertext to open, and object
 * references); the PIN is handed over once, at open, and the adapter owns (and destroys) its copy; a decryption
 * refused because of its input is InvalidCiphertextError; an HSM that fails is DependencyError (fail closed);
 * opening never throws for the causes AWS reports as a ConnectionErrorCode: it answers the code instead.
 */
import type { SecretBytes } from '../crypto/secret-bytes.js';

/** AWS ConnectionErrorCode values a PKCS#11 token can produce (CloudHSM key stores). */
export const KEY_STORE_CONNECTION_ERRORS = [
  'INVALID_CREDENTIALS',
  'CLUSTER_NOT_FOUND',
  'NETWORK_ERRORS',
  'INTERNAL_ERROR',
  'USER_LOCKED_OUT',
  'USER_LOGGED_IN',
] as const;
export type KeyStoreConnectionError = (typeof KEY_STORE_CONNECTION_ERRORS)[number];

/** A key object in the token: its CKA_LABEL and CKA_ID, both derived from the KMS key id and version. */
export interface KeyObjectRef {
  readonly label: string;
  readonly id: Uint8Array;
}

export interface KeyStoreConnection {
  /** Generates a sensitive, non-extractable AES-256 token object. @throws AlreadyExistsError, DependencyError */
  createKey(ref: KeyObjectRef): Promise<void>;
  /**
   * AES-256-GCM inside the HSM with a fresh 96-bit IV (the HSM's own if it generates one) and a 128-bit tag.
   * @throws NotFoundError when the object is missing; DependencyError
   */
  encrypt(ref: KeyObjectRef, plaintext: Uint8Array, aad: Uint8Array): Promise<{ iv: Buffer; sealed: Buffer }>;
  /** @throws InvalidCiphertextError (tag, AAD or length), NotFoundError, DependencyError */
  decrypt(ref: KeyObjectRef, iv: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Promise<Buffer>;
  /** Destroys the object; false when it did not exist. @throws DependencyError */
  destroyKey(ref: KeyObjectRef): Promise<boolean>;
  /** Random bytes from the HSM's generator. @throws DependencyError */
  generateRandom(bytes: number): Promise<Buffer>;
  /** `ok`, or why the connection cannot serve (it tries to reconnect first). */
  health(): Promise<'ok' | KeyStoreConnectionError>;
  /** Logs out (unless another user of the token remains in this process) and closes the sessions. */
  close(): Promise<void>;
}

export type KeyStoreOpenResult = { ok: true; connection: KeyStoreConnection } | { ok: false; error: KeyStoreConnectionError };

/** Opens connections to the tokens of custom key stores; main.ts picks the adapter. */
export interface KeyStoreConnector {
  /** Whether a token labelled `clusterId` is present (no login). @throws DependencyError when the HSM cannot be asked */
  exists(clusterId: string): Promise<boolean>;
  /** Logs in to the token labelled `clusterId` with `pin` (a copy is taken; the caller keeps and destroys its own). */
  open(clusterId: string, pin: SecretBytes): Promise<KeyStoreOpenResult>;
}

/**
 * Signing keys that live in an HSM: ECDSA P-256 key pairs generated inside it and used inside it, never exported.
 * With the pkcs11 root of trust, the built-in CA's key (pki/) and the audit checkpoint-signing key (audit/) are
 * such keys; with the other roots they are software keys wrapped by the root, and there is no SigningKeyStore.
 *
 * Invariants:
 * - a key is named by its label, unique in the store; `generate` never replaces or duplicates a key;
 * - the private key is sensitive and not extractable and may only sign; nothing here returns private material;
 * - `sign` signs SHA-256(message) with ECDSA P-256 (FIPS 186-5, RFC 5758 ecdsa-with-SHA256) and returns the
 *   signature as r || s, 32 bytes each (IEEE P1363: what WebCrypto produces; convert to DER where DER is wanted);
 * - public keys are SubjectPublicKeyInfo DER (RFC 5480), read from the store, never from our storage;
 * - an unreachable or failing store throws DependencyError and recovers without a restart; a missing or unfit key
 *   throws InvalidStateError.
 */
export interface SigningKeyStore {
  /** Where the keys live, shown in records (`pkcs11`). */
  readonly kind: string;
  /**
   * Generates an ECDSA P-256 key pair labelled `label` inside the store.
   * @returns the public key, SubjectPublicKeyInfo DER.
   * @throws AlreadyExistsError when the store holds a key with the label; DependencyError.
   */
  generate(label: string): Promise<Uint8Array>;
  /** The public key (SPKI DER) of the key pair labelled `label`. @throws InvalidStateError, DependencyError */
  publicKey(label: string): Promise<Uint8Array>;
  /** ECDSA P-256 over SHA-256(message) with the private key labelled `label`: r || s (64 bytes). @throws InvalidStateError, DependencyError */
  sign(label: string, message: Uint8Array): Promise<Uint8Array>;
  /** Destroys both halves of the key pair labelled `label`; false when there is none. @throws DependencyError */
  destroy(label: string): Promise<boolean>;
}

/** What our storage keeps for an HSM-resident key: which store, which label, and its public key (SPKI DER). */
export interface SigningKeyReference {
  store: string;
  label: string;
  publicKey: Uint8Array;
}

/**
 * How a reference is stored: `datadefender/signing-key-ref/v1` NUL, then JSON. The bytes are wrapped by the root of
 * trust in place of a wrapped private key (same column, same AAD), so storage can neither read nor redirect the
 * reference, and root rotation re-wraps it like any other blob. A PKCS#8 or raw private key never starts with
 * this prefix (PKCS#8 starts with a DER SEQUENCE, 0x30; raw keys are never unwrapped where references are).
 */
const REFERENCE_PREFIX = Buffer.from('datadefender/signing-key-ref/v1\0', 'utf8');

/** The bytes to wrap for `ref`. */
export function encodeSigningKeyReference(ref: SigningKeyReference): Buffer {
  const json = JSON.stringify({ store: ref.store, label: ref.label, publicKey: Buffer.from(ref.publicKey).toString('base64') });
  return Buffer.concat([REFERENCE_PREFIX, Buffer.from(json, 'utf8')]);
}

/** The reference in unwrapped bytes, or null when they are not one (a wrapped private key). */
export function decodeSigningKeyReference(bytes: Uint8Array): SigningKeyReference | null {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.length <= REFERENCE_PREFIX.length || !view.subarray(0, REFERENCE_PREFIX.length).equals(REFERENCE_PREFIX)) return null;
  try {
    const parsed = JSON.parse(view.subarray(REFERENCE_PREFIX.length).toString('utf8')) as Record<string, unknown>;
    if (typeof parsed.store !== 'string' || typeof parsed.label !== 'string' || typeof parsed.publicKey !== 'string') return null;
    return { store: parsed.store, label: parsed.label, publicKey: Buffer.from(parsed.publicKey, 'base64') };
  } catch {
    return null;
  }
}

/**
 * The built-in CA's private key at rest, in one of two forms, both stored only wrapped by the root of trust under
 * the CA's AAD (PCI DSS 3.6.1.2: a secret key is held encrypted under a KEK at least as strong, stored separately):
 * - in an HSM (the pkcs11 root, through its SigningKeyStore): the key pair is generated and used inside the token,
 *   and the CA row holds a wrapped *reference* (store, label, public key) — never key material;
 * - in software (the other roots, and CAs made before HSM keys existed): the PKCS#8 DER key, wrapped.
 *
 * Invariants:
 * - The AAD binds the wrapped bytes to their CA id, so a wrapped key or reference copied to another CA row fails to
 *   unwrap, and storage can neither read a reference nor point it at another HSM object.
 * - An HSM key is used only if the HSM's public key for the label is the referenced one (and the CA checks it is
 *   the certified one); a reference to a store this process does not have is refused (DependencyError).
 * - Unwrapped software key bytes exist only for the moment they are imported as a non-extractable WebCrypto signing
 *   key; the SecretBytes is destroyed (zeroed) right after, whatever happens.
 */
import { createPrivateKey } from 'node:crypto';
import { SecretBytes } from '../crypto/index.js';
import { caKeyAad } from '../core/secret-aads.js';
import { DependencyError, InvalidStateError } from '../errors/index.js';
import type { RootOfTrust } from '../ports/root-of-trust.js';
import { decodeSigningKeyReference, encodeSigningKeyReference, type SigningKeyReference, type SigningKeyStore } from '../ports/signing-key-store.js';
import { hsmSigningKey, type SigningKey } from './hsm-signing-key.js';
import { ECDSA_P256 } from './key-pair.js';

const aadOf = caKeyAad;

/** A CA key ready to sign, with the public key (SPKI DER) of an HSM key (null for a software key). */
export interface OpenedCaKey extends SigningKey {
  readonly hsmPublicKey: Buffer | null;
}

/** The label of a CA's key pair in the HSM. */
export const caKeyLabel = (caId: string): string => `datadefender-ca-${caId}`;

/** Wraps a CA private key (PKCS#8 PEM) under the root of trust. Throws what the root throws (SealedError, DependencyError). */
export async function wrapCaKey(root: RootOfTrust, caId: string, privateKeyPem: string): Promise<Uint8Array> {
  const secret = SecretBytes.adopt(createPrivateKey(privateKeyPem).export({ type: 'pkcs8', format: 'der' }));
  try {
    return await root.wrap(secret, aadOf(caId));
  } finally {
    secret.destroy();
  }
}

/**
 * Generates the CA's key pair in the HSM. Returns the reference to store (wrapped) and the key to sign with.
 * @throws AlreadyExistsError (the label is taken), DependencyError (the HSM is unavailable)
 */
export async function generateHsmCaKey(store: SigningKeyStore, caId: string): Promise<{ reference: SigningKeyReference; key: OpenedCaKey }> {
  const label = caKeyLabel(caId);
  const publicKey = Buffer.from(await store.generate(label));
  return { reference: { store: store.kind, label, publicKey }, key: { ...hsmSigningKey(store, label), hsmPublicKey: publicKey } };
}

/** Wraps the reference to a CA's HSM key under the root of trust, like a wrapped key. */
export async function wrapCaKeyReference(root: RootOfTrust, caId: string, reference: SigningKeyReference): Promise<Uint8Array> {
  const secret = SecretBytes.adopt(encodeSigningKeyReference(reference));
  try {
    return await root.wrap(secret, aadOf(caId));
  } finally {
    secret.destroy();
  }
}

/**
 * Opens a CA's stored key, in whichever form: an HSM key (through `store`) or a software key imported as a
 * non-extractable ECDSA P-256 signing key.
 * @throws InvalidCiphertextError when the blob is not this CA's; SealedError / DependencyError from the root;
 * DependencyError when the key is in an HSM this process has no store for; InvalidStateError when the HSM's key is
 * not the referenced one.
 */
export async function openCaKey(root: RootOfTrust, store: SigningKeyStore | undefined, caId: string, wrapped: Uint8Array): Promise<OpenedCaKey> {
  const secret = await root.unwrap(wrapped, aadOf(caId));
  try {
    const reference = decodeSigningKeyReference(secret.reveal());
    if (reference) {
      if (!store || store.kind !== reference.store) {
        throw new DependencyError(`The CA key is in an HSM (${reference.store}) that the configured root of trust does not reach.`);
      }
      const publicKey = Buffer.from(await store.publicKey(reference.label));
      if (!publicKey.equals(Buffer.from(reference.publicKey))) throw new InvalidStateError(`The HSM key labelled "${reference.label}" is not the CA's key.`);
      return { ...hsmSigningKey(store, reference.label), hsmPublicKey: publicKey };
    }
    // The one place pki/ reveals a secret: straight into WebCrypto as a non-extractable key.
    const privateKey = await crypto.subtle.importKey('pkcs8', new Uint8Array(secret.reveal()), ECDSA_P256, false, ['sign']);
    return { privateKey, crypto: globalThis.crypto, hsmPublicKey: null };
  } finally {
    secret.destroy();
  }
}

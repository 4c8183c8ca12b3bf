/**
 * The built-in CA's private key at rest: PKCS#8 DER wrapped by the root of trust, never stored in clear
 * (PCI DSS 3.6.1.2: a secret key is held encrypted under a KEK at least as strong, stored separately).
 *
 * Invariants:
 * - The AAD binds the wrapped key to its CA id, so a wrapped key copied to another CA row fails to unwrap.
 * - The unwrapped bytes exist only for the moment they are imported as a non-extractable WebCrypto signing key;
 *   the SecretBytes is destroyed (zeroed) right after, whatever happens.
 * - With the pkcs11 root the key is wrapped by the HSM's root key (wrap/unwrap run inside the HSM); it is not
 *   generated inside the HSM (see the report of issue #7).
 */
import { createPrivateKey } from 'node:crypto';
import { SecretBytes } from '../crypto/index.js';
import { caKeyAad } from '../core/secret-aads.js';
import type { RootOfTrust } from '../ports/root-of-trust.js';
import { ECDSA_P256 } from './key-pair.js';

const aadOf = caKeyAad;

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
 * Unwraps a CA private key into a non-extractable ECDSA P-256 signing key.
 * @throws InvalidCiphertextError when the blob is not this CA's; SealedError / DependencyError from the root.
 */
export async function unwrapCaKey(root: RootOfTrust, caId: string, wrapped: Uint8Array): Promise<CryptoKey> {
  const secret = await root.unwrap(wrapped, aadOf(caId));
  try {
    // The one place pki/ reveals a secret: straight into WebCrypto as a non-extractable key.
    return await crypto.subtle.importKey('pkcs8', new Uint8Array(secret.reveal()), ECDSA_P256, false, ['sign']);
  } finally {
    secret.destroy();
  }
}

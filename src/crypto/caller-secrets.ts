// Secrets made for the caller: data key pairs (AWS KMS GenerateDataKeyPair) and ECDH shared secrets
// (DeriveSharedSecret). Invariant: these are the only places a private key or an agreed secret leaves crypto/ as
// plain bytes, because the caller asked for it; the service zeroes its copies once the response is written.
import { ecdhSharedSecret, type KeyAgreementSpec } from './key-agreement.js';
import { generateKeyPair, type AsymmetricKeySpec } from './key-pairs.js';
import type { SecretBytes } from './secret-bytes.js';

/** A fresh key pair of `spec`: PKCS#8 DER private key (plain bytes) and SubjectPublicKeyInfo DER public key. */
export async function generateDataKeyPair(spec: AsymmetricKeySpec): Promise<{ privateKey: Buffer; publicKey: Buffer }> {
  const pair = await generateKeyPair(spec);
  const privateKey = Buffer.from(pair.privateKey.reveal());
  pair.privateKey.destroy();
  return { privateKey, publicKey: pair.publicKey };
}

/** The raw ECDH shared secret for the caller. @throws ValidationError as ecdhSharedSecret */
export function sharedSecretForCaller(spec: KeyAgreementSpec, privateKey: SecretBytes, peerPublicKey: Uint8Array): Buffer {
  const secret = ecdhSharedSecret(spec, privateKey, peerPublicKey);
  const bytes = Buffer.from(secret.reveal());
  secret.destroy();
  return bytes;
}

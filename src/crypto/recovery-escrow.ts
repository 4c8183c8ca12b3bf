// Break-glass escrow of wrapped key material under an X25519 recovery key (RFC 7748), ECIES-style:
// ephemeral-static X25519, HKDF-SHA256 (RFC 5869), AES-256-GCM (NIST SP 800-38D).
//
// Escrow format v1:  [32-byte ephemeral X25519 public key][12-byte IV][ciphertext][16-byte tag]
//   kek = HKDF-SHA256(ikm = X25519(eph, R) || authKey, salt = ephPub || R_pub, info = "datadefender/root-escrow/v1")
//   GCM AAD = the caller's AAD (the same AAD the root of trust binds the material to).
//
// Invariants:
// - the recovery private key is 32 random bytes from the CSPRNG (X25519 clamps it); it exists only while it is
//   split into shares or combined from them, and is returned only as SecretBytes;
// - `authKey` is derived from the private key (deriveEscrowAuthKey), so only the custodians (private key) and the
//   running root ring (which keeps authKey wrapped under its root) can make a valid escrow: anyone who knows only
//   the public key (it is stored in the database) cannot plant escrows that a recovery would accept;
// - a fresh ephemeral key and a fresh random IV for every escrow; every open failure is InvalidCiphertextError.
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { InvalidCiphertextError, ValidationError } from '../errors/index.js';
import { aesGcmDecrypt, aesGcmEncrypt } from './aead.js';
import { hkdf } from './hkdf.js';
import { SecretBytes } from './secret-bytes.js';

export const RECOVERY_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Fixed DER prefixes of an X25519 key (RFC 8410): PKCS#8 private key, SubjectPublicKeyInfo public key. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const ESCROW_INFO = Buffer.from('datadefender/root-escrow/v1', 'utf8');
const AUTH_INFO = Buffer.from('datadefender/root-escrow-auth/v1', 'utf8');
/** Smallest escrow: ephemeral key, IV, one byte, tag. */
export const MIN_ESCROW_BYTES = RECOVERY_KEY_BYTES + IV_BYTES + 1 + TAG_BYTES;

const privateKeyObject = (raw: Uint8Array): KeyObject =>
  createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
const publicKeyObject = (raw: Uint8Array): KeyObject => createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
const rawPublic = (key: KeyObject): Buffer => key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);

/** A new recovery key pair: the raw 32-byte private key (SecretBytes) and raw 32-byte public key. */
export function generateRecoveryKeyPair(): { privateKey: SecretBytes; publicKey: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const raw = Buffer.from(der.subarray(PKCS8_PREFIX.length));
  der.fill(0);
  return { privateKey: SecretBytes.adopt(raw), publicKey: rawPublic(publicKey) };
}

/**
 * The raw public key of the raw private key `privateKey`.
 * @throws ValidationError (ERR_VALIDATION) when it is not 32 bytes.
 */
export function recoveryPublicKey(privateKey: SecretBytes): Buffer {
  if (privateKey.length !== RECOVERY_KEY_BYTES) throw new ValidationError('A recovery private key is 32 bytes.');
  return rawPublic(createPublicKey(privateKeyObject(privateKey.reveal())));
}

/** The escrow authentication key of a recovery private key (HKDF-SHA256, 32 bytes). */
export function deriveEscrowAuthKey(privateKey: SecretBytes): SecretBytes {
  return hkdf('sha256', privateKey, Buffer.alloc(0), AUTH_INFO, 32);
}

function kekOf(shared: Buffer, authKey: SecretBytes, ephPub: Uint8Array, recipientPub: Uint8Array): SecretBytes {
  const ikm = Buffer.concat([shared, authKey.reveal()]);
  try {
    return hkdf('sha256', ikm, Buffer.concat([ephPub, recipientPub]), ESCROW_INFO, 32);
  } finally {
    ikm.fill(0);
    shared.fill(0);
  }
}

/**
 * Escrows `plaintext` to the recovery public key `recipient` (raw, 32 bytes), authenticated by `authKey` and `aad`.
 * @throws ValidationError (ERR_VALIDATION) for a public key that is not a 32-byte X25519 key, or empty plaintext.
 */
export function escrowSeal(recipient: Uint8Array, authKey: SecretBytes, plaintext: SecretBytes, aad: Uint8Array): Buffer {
  if (!(recipient instanceof Uint8Array) || recipient.length !== RECOVERY_KEY_BYTES) throw new ValidationError('A recovery public key is 32 bytes.');
  if (plaintext.length === 0) throw new ValidationError('The key material to escrow must not be empty.');
  const eph = generateKeyPairSync('x25519');
  const ephPub = rawPublic(eph.publicKey);
  const kek = kekOf(diffieHellman({ privateKey: eph.privateKey, publicKey: publicKeyObject(recipient) }), authKey, ephPub, recipient);
  try {
    const { iv, ciphertext, tag } = aesGcmEncrypt(kek, plaintext.reveal(), aad);
    return Buffer.concat([ephPub, iv, ciphertext, tag]);
  } finally {
    kek.destroy();
  }
}

/**
 * Opens an escrow made by {@link escrowSeal} with the recovery private key (raw, 32 bytes).
 * @throws InvalidCiphertextError (ERR_INVALID_CIPHERTEXT) on any failure (wrong key, auth key, AAD, edited bytes).
 */
export function escrowOpen(privateKey: SecretBytes, authKey: SecretBytes, escrow: Uint8Array, aad: Uint8Array): SecretBytes {
  if (!(escrow instanceof Uint8Array) || escrow.length < MIN_ESCROW_BYTES || privateKey.length !== RECOVERY_KEY_BYTES) throw new InvalidCiphertextError();
  const ephPub = escrow.subarray(0, RECOVERY_KEY_BYTES);
  let shared: Buffer;
  let recipientPub: Buffer;
  try {
    const ours = privateKeyObject(privateKey.reveal());
    recipientPub = rawPublic(createPublicKey(ours));
    shared = diffieHellman({ privateKey: ours, publicKey: publicKeyObject(ephPub) });
  } catch {
    throw new InvalidCiphertextError();
  }
  const kek = kekOf(shared, authKey, ephPub, recipientPub);
  try {
    const iv = escrow.subarray(RECOVERY_KEY_BYTES, RECOVERY_KEY_BYTES + IV_BYTES);
    const ciphertext = escrow.subarray(RECOVERY_KEY_BYTES + IV_BYTES, escrow.length - TAG_BYTES);
    const tag = escrow.subarray(escrow.length - TAG_BYTES);
    return SecretBytes.adopt(aesGcmDecrypt(kek, iv, ciphertext, tag, aad));
  } finally {
    kek.destroy();
  }
}

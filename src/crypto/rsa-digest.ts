// RSA signatures over a caller-supplied digest (AWS KMS MessageType DIGEST), which node's crypto.sign cannot make:
// it always hashes. Spec: RFC 8017 §8.1 (RSASSA-PSS), §8.2 (RSASSA-PKCS1-v1_5), §9.1 (EMSA-PSS), §9.2
// (EMSA-PKCS1-v1_5 and its DigestInfo prefixes, note 1), Appendix B.2.1 (MGF1).
// Invariants:
// - the private-key operation runs inside OpenSSL (privateEncrypt, with RSA blinding); only the encoding is ours;
// - PSS uses MGF1 with the message hash and a salt as long as the digest, drawn from the CSPRNG; emBits = modBits - 1;
// - verification recomputes the complete expected encoding (PKCS#1 v1.5) or runs EMSA-PSS-VERIFY in full, over
//   s^e mod n computed by OpenSSL without padding; a signature must be exactly k bytes and smaller than n;
//   anything malformed returns false, never throws.
import { constants, createHash, privateEncrypt, publicDecrypt, type KeyObject } from 'node:crypto';
import { constantTimeEqual } from './hmac.js';
import { randomBytes } from './random.js';

/** The hashes of the AWS RSA signing algorithms. */
export type RsaHash = 'sha256' | 'sha384' | 'sha512';

/** DER of DigestInfo { AlgorithmIdentifier { hash OID, NULL }, OCTET STRING (digest) } before the digest (§9.2 note 1). */
const DIGEST_INFO_PREFIX = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
} as const satisfies Record<RsaHash, Buffer>;

const HASH_BYTES = { sha256: 32, sha384: 48, sha512: 64 } as const satisfies Record<RsaHash, number>;

function modulusBits(key: KeyObject): number {
  return key.asymmetricKeyDetails?.modulusLength ?? 0;
}

/** RSASP1 (private key): m^d mod n over exactly k bytes. */
function rsaPrivate(key: KeyObject, em: Buffer): Buffer {
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, em);
}

/** RSAVP1 (public key): s^e mod n as k bytes, or undefined when s is not exactly k bytes or not smaller than n. */
function rsaPublic(key: KeyObject, signature: Uint8Array): Buffer | undefined {
  if (signature.length !== Math.ceil(modulusBits(key) / 8)) return undefined;
  try {
    return publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, signature);
  } catch {
    return undefined; // s >= n
  }
}

/** EMSA-PKCS1-v1_5 encoding of `digest` into `k` bytes: 0x00 0x01 0xff.. 0x00 DigestInfo (§9.2 steps 2-5). */
function pkcs1Encode(hash: RsaHash, digest: Uint8Array, k: number): Buffer {
  const t = Buffer.concat([DIGEST_INFO_PREFIX[hash], digest]);
  const em = Buffer.alloc(k, 0xff);
  em[0] = 0x00;
  em[1] = 0x01;
  em[k - t.length - 1] = 0x00;
  t.copy(em, k - t.length);
  return em;
}

/**
 * RSASSA-PKCS1-v1_5 signature of `digest` (the `hash` of the message; RFC 8017 §8.2.1). The caller checked the
 * digest length and that the key is RSA of at least 2048 bits.
 */
export function pkcs1SignDigest(hash: RsaHash, key: KeyObject, digest: Uint8Array): Buffer {
  const t = Buffer.concat([DIGEST_INFO_PREFIX[hash], digest]);
  return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, t);
}

/** RSASSA-PKCS1-v1_5 verification of `signature` over `digest` (§8.2.2: re-encode and compare). Throws nothing. */
export function pkcs1VerifyDigest(hash: RsaHash, key: KeyObject, digest: Uint8Array, signature: Uint8Array): boolean {
  const em = rsaPublic(key, signature);
  return em !== undefined && constantTimeEqual(em, pkcs1Encode(hash, digest, em.length));
}

/** MGF1 (Appendix B.2.1) with `hash`: `length` bytes from `seed`. */
function mgf1(hash: RsaHash, seed: Uint8Array, length: number): Buffer {
  const blocks: Buffer[] = [];
  const counter = Buffer.alloc(4);
  for (let c = 0, have = 0; have < length; c++, have += HASH_BYTES[hash]) {
    counter.writeUInt32BE(c);
    blocks.push(createHash(hash).update(seed).update(counter).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** H = Hash(0x00 * 8 || mHash || salt) (§9.1.1 steps 5-6). */
function pssHash(hash: RsaHash, digest: Uint8Array, salt: Uint8Array): Buffer {
  return createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest();
}

/**
 * RSASSA-PSS signature of `digest` with MGF1(`hash`) and a random salt of the digest length (§8.1.1, §9.1.1).
 * The caller checked the digest length and that the key is RSA of at least 2048 bits.
 */
export function pssSignDigest(hash: RsaHash, key: KeyObject, digest: Uint8Array): Buffer {
  const hLen = HASH_BYTES[hash];
  const emBits = modulusBits(key) - 1;
  const emLen = Math.ceil(emBits / 8);
  const k = Math.ceil((emBits + 1) / 8);
  const salt = randomBytes(hLen); // sLen = hLen
  const h = pssHash(hash, digest, salt);
  // DB = PS || 0x01 || salt, PS = emLen - sLen - hLen - 2 zero bytes; maskedDB = DB xor MGF1(H, emLen - hLen - 1)
  const db = Buffer.alloc(emLen - hLen - 1);
  db[emLen - 2 * hLen - 2] = 0x01;
  salt.copy(db, emLen - 2 * hLen - 1);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] as number) ^ (mask[i] as number);
  db[0] = (db[0] as number) & (0xff >> (8 * emLen - emBits)); // clear the leftmost 8·emLen - emBits bits
  // EM = maskedDB || H || 0xbc, left-padded with a zero byte to k bytes when emLen = k - 1 (§8.1.1 step 2a)
  const em = Buffer.concat([Buffer.alloc(k - emLen), db, h, Buffer.from([0xbc])]);
  return rsaPrivate(key, em);
}

/** RSASSA-PSS verification (§8.1.2, EMSA-PSS-VERIFY §9.1.2, sLen = hLen). Throws nothing. */
export function pssVerifyDigest(hash: RsaHash, key: KeyObject, digest: Uint8Array, signature: Uint8Array): boolean {
  const hLen = HASH_BYTES[hash];
  const emBits = modulusBits(key) - 1;
  const emLen = Math.ceil(emBits / 8);
  const m = rsaPublic(key, signature);
  // I2OSP(m, emLen) fails when m does not fit (§8.1.2 step 2c); step 3 needs emLen >= hLen + sLen + 2
  if (m === undefined || m.subarray(0, m.length - emLen).some((b) => b !== 0) || emLen < 2 * hLen + 2) return false;
  const em = m.subarray(m.length - emLen);
  const topMask = 0xff >> (8 * emLen - emBits);
  if (em[emLen - 1] !== 0xbc || ((em[0] as number) & ~topMask) !== 0) return false;
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const mask = mgf1(hash, h, emLen - hLen - 1);
  const db = Buffer.from(em.subarray(0, emLen - hLen - 1));
  for (let i = 0; i < db.length; i++) db[i] = (db[i] as number) ^ (mask[i] as number);
  db[0] = (db[0] as number) & topMask;
  const psEnd = emLen - 2 * hLen - 2; // DB = PS (zeros) || 0x01 || salt
  if (db.subarray(0, psEnd).some((b) => b !== 0) || db[psEnd] !== 0x01) return false;
  return constantTimeEqual(h, pssHash(hash, digest, db.subarray(psEnd + 1)));
}

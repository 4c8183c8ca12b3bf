// ECDSA P-256 signing key pairs in a PKCS#11 token: the templates, generation, lookup, signing and the public key
// as SubjectPublicKeyInfo — the synchronous and asynchronous steps the pkcs11 root of trust runs on its sessions
// (see the SigningKeyStore port).
//
// Invariants:
// - key pairs are generated inside the token (C_GenerateKeyPair, CKM_EC_KEY_PAIR_GEN on prime256v1, PKCS#11 v2.40
//   §2.3.6); the private key is a token object, private, sensitive, not extractable, may sign and nothing else
//   (no decrypt, unwrap, derive, sign-recover); the public key may verify only;
// - an existing object with the label is never replaced or duplicated; a lookup that finds no private EC key, or
//   more than one, or one that is extractable, not sensitive or not P-256, is refused (never silently used);
// - signing is CKM_ECDSA over a SHA-256 digest computed with node:crypto (every module has CKM_ECDSA; the combined
//   CKM_ECDSA_SHA256 is optional), and the module's output must be exactly r || s of 32 bytes each;
// - the public key comes from the token's public key object (CKA_EC_POINT), and must be a point of P-256.
import pkcs11js from 'pkcs11js';
import type { Handle, PKCS11, Template } from 'pkcs11js';
import { createPublicKey } from 'node:crypto';
import { sha256 } from '../../../crypto/index.js';
import { AlreadyExistsError, InvalidStateError } from '../../../errors/index.js';
import { hsmUnavailable } from './pkcs11-errors.js';
import { findObjects } from './token-lookup.js';

/** DER OBJECT IDENTIFIER 1.2.840.10045.3.1.7 (prime256v1), the CKA_EC_PARAMS of a P-256 key (RFC 5480 §2.1.1.1). */
const P256_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');
/** The SubjectPublicKeyInfo of a P-256 key up to its 65-byte uncompressed point (RFC 5480 §2). */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
const POINT_BYTES = 65;
const SIGNATURE_BYTES = 64;

const bool = (value: Buffer | undefined): boolean => value !== undefined && value.length > 0 && value.some((b) => b !== 0);

/** Public and private templates of a signing key pair (PKCS#11 v2.40 §4.8, §4.9; §2.3.3 EC keys). */
export function signingKeyPairTemplates(label: string): { publicKey: Template; privateKey: Template } {
  return {
    publicKey: [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
      { type: pkcs11js.CKA_EC_PARAMS, value: P256_PARAMS },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_VERIFY, value: true },
      { type: pkcs11js.CKA_ENCRYPT, value: false },
      { type: pkcs11js.CKA_WRAP, value: false },
      { type: pkcs11js.CKA_DERIVE, value: false },
    ],
    privateKey: [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_SIGN, value: true },
      { type: pkcs11js.CKA_SIGN_RECOVER, value: false },
      { type: pkcs11js.CKA_DECRYPT, value: false },
      { type: pkcs11js.CKA_UNWRAP, value: false },
      { type: pkcs11js.CKA_DERIVE, value: false },
    ],
  };
}

const ofClass = (label: string, cls: number): Template => [
  { type: pkcs11js.CKA_CLASS, value: cls },
  { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
  { type: pkcs11js.CKA_LABEL, value: label },
];

/** The one object of class `cls` labelled `label`. @throws InvalidStateError when there is none or several. */
function findOne(api: PKCS11, session: Handle, label: string, cls: number, what: string): Handle {
  const found = findObjects(api, session, ofClass(label, cls), 2);
  if (found.length === 0) throw new InvalidStateError(`The HSM token holds no ${what} labelled "${label}".`);
  if (found.length > 1) throw new InvalidStateError(`The HSM token holds more than one ${what} labelled "${label}".`);
  return found[0]!;
}

/**
 * Generates the key pair in a read-write session. Returns its public key (SPKI DER).
 * @throws AlreadyExistsError when any object carries the label.
 */
export async function generateSigningKeyPair(api: PKCS11, rwSession: Handle, label: string): Promise<Buffer> {
  if (findObjects(api, rwSession, [{ type: pkcs11js.CKA_LABEL, value: label }], 1).length > 0) {
    throw new AlreadyExistsError(`The HSM token already holds an object labelled "${label}"; no key was created.`);
  }
  const templates = signingKeyPairTemplates(label);
  const pair = await api.C_GenerateKeyPairAsync(rwSession, { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN }, templates.publicKey, templates.privateKey);
  return spkiOf(api, rwSession, pair.publicKey);
}

/** The public key (SPKI DER) of the key pair labelled `label`. @throws InvalidStateError */
export function signingPublicKey(api: PKCS11, session: Handle, label: string): Buffer {
  return spkiOf(api, session, findOne(api, session, label, pkcs11js.CKO_PUBLIC_KEY, 'EC public key'));
}

/**
 * The private key labelled `label`, checked: sensitive, not extractable, may sign, on P-256.
 * @throws InvalidStateError when it is absent, ambiguous or unfit.
 */
export function findSigningKey(api: PKCS11, session: Handle, label: string): Handle {
  const key = findOne(api, session, label, pkcs11js.CKO_PRIVATE_KEY, 'EC private key');
  const wanted = [pkcs11js.CKA_SIGN, pkcs11js.CKA_SENSITIVE, pkcs11js.CKA_EXTRACTABLE, pkcs11js.CKA_EC_PARAMS];
  const attrs = new Map(api.C_GetAttributeValue(session, key, wanted.map((type) => ({ type }))).map((a) => [a.type, a.value as Buffer | undefined]));
  const params = attrs.get(pkcs11js.CKA_EC_PARAMS);
  const problems = [
    !bool(attrs.get(pkcs11js.CKA_SIGN)) && 'may not sign',
    !bool(attrs.get(pkcs11js.CKA_SENSITIVE)) && 'is not sensitive',
    bool(attrs.get(pkcs11js.CKA_EXTRACTABLE)) && 'is extractable',
    !(params && params.equals(P256_PARAMS)) && 'is not on P-256',
  ].filter((p): p is string => typeof p === 'string');
  if (problems.length > 0) throw new InvalidStateError(`The EC key labelled "${label}" cannot sign for DataDefender: it ${problems.join(', ')}.`);
  return key;
}

/** ECDSA over SHA-256(message) inside the token: r || s. */
export async function signWithKey(api: PKCS11, session: Handle, key: Handle, message: Uint8Array): Promise<Buffer> {
  const digest = sha256(message);
  api.C_SignInit(session, { mechanism: pkcs11js.CKM_ECDSA }, key);
  const signature = await api.C_SignAsync(session, digest, Buffer.alloc(SIGNATURE_BYTES));
  // `digest` stays referenced until here: the worker thread read it by pointer.
  if (signature.length !== SIGNATURE_BYTES) throw hsmUnavailable('the module returned an ECDSA signature of an unexpected length');
  return Buffer.from(signature);
}

/** Destroys every object labelled `label` that belongs to a signing key pair; false when there was none. */
export function destroySigningKeyPair(api: PKCS11, rwSession: Handle, label: string): boolean {
  const objects = [
    ...findObjects(api, rwSession, ofClass(label, pkcs11js.CKO_PRIVATE_KEY), 2),
    ...findObjects(api, rwSession, ofClass(label, pkcs11js.CKO_PUBLIC_KEY), 2),
  ];
  for (const object of objects) api.C_DestroyObject(rwSession, object);
  return objects.length > 0;
}

/** SPKI DER of a public key object: CKA_EC_POINT is a DER OCTET STRING holding the uncompressed point (X9.62). */
function spkiOf(api: PKCS11, session: Handle, publicKey: Handle): Buffer {
  const [point] = api.C_GetAttributeValue(session, publicKey, [{ type: pkcs11js.CKA_EC_POINT }]);
  const value = point?.value as Buffer | undefined;
  // 0x04 (OCTET STRING) 0x41 (65 bytes) 0x04 (uncompressed) X Y; some modules give the raw point without the wrapper.
  const raw = value && value.length === POINT_BYTES + 2 && value[0] === 0x04 && value[1] === POINT_BYTES ? value.subarray(2) : value;
  if (!raw || raw.length !== POINT_BYTES || raw[0] !== 0x04) throw hsmUnavailable('the module returned an EC public key that is not an uncompressed P-256 point');
  const spki = Buffer.concat([P256_SPKI_PREFIX, raw]);
  try {
    createPublicKey({ key: spki, format: 'der', type: 'spki' }); // refuses a point not on the curve
  } catch (cause) {
    throw hsmUnavailable('the module returned an EC public key that is not on P-256', cause);
  }
  return spki;
}

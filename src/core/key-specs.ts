/**
 * Everything about one key spec in one place: its usages, the algorithms each usage exposes, how its material is
 * made, and whether it rotates. AWS facts: ../shared/reference/aws-kms-protocol.md §3 — SYMMETRIC_DEFAULT only
 * for ENCRYPT_DECRYPT; HMAC specs only for GENERATE_VERIFY_MAC; RSA for ENCRYPT_DECRYPT or SIGN_VERIFY; NIST curves
 * for SIGN_VERIFY or KEY_AGREEMENT; secp256k1 and Ed25519 for SIGN_VERIFY; only symmetric keys rotate.
 * Not offered: SM2 (China regions), ML-DSA, and ED25519_PH_SHA_512 (node:crypto has no Ed25519ph).
 */
import { ValidationError } from '../errors/index.js';
import {
  generateKeyPair,
  macAlgorithm,
  parsePrivateKey,
  randomSecret,
  signingAlgorithmsFor,
  type AsymmetricKeySpec,
  type MacAlgorithm,
  type SecretBytes,
} from '../crypto/index.js';

export const KEY_USAGES = ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT'] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];

/** The algorithm lists of KeyMetadata for one usage. */
export interface UsageAlgorithms {
  encryptionAlgorithms?: readonly string[];
  signingAlgorithms?: readonly string[];
  macAlgorithms?: readonly string[];
  keyAgreementAlgorithms?: readonly string[];
}

export type KeyMaterialKind =
  | { kind: 'aes'; bytes: number }
  | { kind: 'hmac'; bytes: number; macAlgorithm: MacAlgorithm }
  | { kind: 'key-pair'; spec: AsymmetricKeySpec };

export interface KeySpecInfo {
  usages: Readonly<Partial<Record<KeyUsage, UsageAlgorithms>>>;
  /** The usage when CreateKey names none (only symmetric keys have one). */
  defaultUsage?: KeyUsage;
  material: KeyMaterialKind;
  /** Whether automatic and on-demand rotation apply. */
  rotatable: boolean;
}

const RSA_ENCRYPTION = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] as const;

const hmacSpec = (algorithm: MacAlgorithm): KeySpecInfo => ({
  usages: { GENERATE_VERIFY_MAC: { macAlgorithms: [algorithm] } },
  material: { kind: 'hmac', bytes: macAlgorithm(algorithm).keyBytes, macAlgorithm: algorithm },
  rotatable: false,
});

const rsaSpec = (spec: 'RSA_2048' | 'RSA_3072' | 'RSA_4096'): KeySpecInfo => ({
  usages: { ENCRYPT_DECRYPT: { encryptionAlgorithms: RSA_ENCRYPTION }, SIGN_VERIFY: { signingAlgorithms: signingAlgorithmsFor(spec) } },
  material: { kind: 'key-pair', spec },
  rotatable: false,
});

const eccSpec = (spec: AsymmetricKeySpec, keyAgreement: boolean): KeySpecInfo => ({
  usages: {
    SIGN_VERIFY: { signingAlgorithms: signingAlgorithmsFor(spec) },
    ...(keyAgreement ? { KEY_AGREEMENT: { keyAgreementAlgorithms: ['ECDH'] } } : {}),
  },
  material: { kind: 'key-pair', spec },
  rotatable: false,
});

export const KEY_SPECS = {
  SYMMETRIC_DEFAULT: {
    usages: { ENCRYPT_DECRYPT: { encryptionAlgorithms: ['SYMMETRIC_DEFAULT'] } },
    defaultUsage: 'ENCRYPT_DECRYPT',
    material: { kind: 'aes', bytes: 32 },
    rotatable: true,
  },
  HMAC_224: hmacSpec('HMAC_SHA_224'),
  HMAC_256: hmacSpec('HMAC_SHA_256'),
  HMAC_384: hmacSpec('HMAC_SHA_384'),
  HMAC_512: hmacSpec('HMAC_SHA_512'),
  RSA_2048: rsaSpec('RSA_2048'),
  RSA_3072: rsaSpec('RSA_3072'),
  RSA_4096: rsaSpec('RSA_4096'),
  ECC_NIST_P256: eccSpec('ECC_NIST_P256', true),
  ECC_NIST_P384: eccSpec('ECC_NIST_P384', true),
  ECC_NIST_P521: eccSpec('ECC_NIST_P521', true),
  ECC_SECG_P256K1: eccSpec('ECC_SECG_P256K1', false),
  ECC_NIST_EDWARDS25519: eccSpec('ECC_NIST_EDWARDS25519', false),
} as const satisfies Record<string, KeySpecInfo>;

export type KeySpec = keyof typeof KEY_SPECS;

export function isKeySpec(value: string): value is KeySpec {
  return Object.hasOwn(KEY_SPECS, value);
}

/** The spec's row; records only ever hold specs of the table. */
export function specOf(keySpec: string): KeySpecInfo {
  if (!isKeySpec(keySpec)) throw new Error(`unknown key spec ${keySpec}`);
  return KEY_SPECS[keySpec];
}

/** The KeyMetadata algorithm lists of a key of `keySpec` used for `keyUsage`. */
export function algorithmsOf(keySpec: string, keyUsage: string): UsageAlgorithms {
  return (specOf(keySpec).usages as Partial<Record<string, UsageAlgorithms>>)[keyUsage] ?? {};
}

/** New secret material for a key of `keySpec`: AES or HMAC key bytes, or a PKCS#8 private key. */
export async function newMaterial(keySpec: string): Promise<SecretBytes> {
  const material = specOf(keySpec).material;
  if (material.kind === 'key-pair') return (await generateKeyPair(material.spec)).privateKey;
  return randomSecret(material.bytes);
}

/** Imported material must be what the spec would have generated. @throws ValidationError */
export function checkImportedMaterial(keySpec: string, material: SecretBytes): void {
  const kind = specOf(keySpec).material;
  if (kind.kind === 'key-pair') {
    parsePrivateKey(kind.spec, material);
    return;
  }
  const [min, max] = kind.kind === 'hmac' ? macAlgorithm(kind.macAlgorithm).importKeyBytes : [kind.bytes, kind.bytes];
  if (material.length < min || material.length > max) {
    throw new ValidationError(`Key material for ${keySpec} must be ${min === max ? min : `${min} to ${max}`} bytes long.`);
  }
}

/**
 * Encryption use cases: Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext),
 * GenerateDataKeyPair(WithoutPlaintext), GenerateRandom. Symmetric ciphertexts are crypto/ciphertext-blob v1: the
 * blob names key and version, both authenticated with the encryption context as AES-GCM associated data.
 * RSA ENCRYPT_DECRYPT keys encrypt with RSAES-OAEP (plain RSA output, no header, no encryption context, as AWS):
 * their Decrypt needs the KeyId and the EncryptionAlgorithm.
 * AWS KMS behaviour kept: Decrypt finds the key from the blob; a KeyId naming another key -> IncorrectKeyException;
 * a blob naming a key that does not exist -> AccessDeniedException with AWS's fixed text; every blob or
 * context mismatch -> one InvalidCiphertextError.
 * Invariant: audit details carry sizes, versions and encryption-context keys, never values or plaintext.
 */
import { sensitiveValues } from '../audit/sensitive.js';
import {
  decryptBlob,
  encryptBlob,
  generateDataKeyPair,
  isAsymmetricKeySpec,
  parseBlobHeader,
  publicKeyFromPrivate,
  randomBytes,
  rsaOaepDecrypt,
  rsaOaepEncrypt,
  type EncryptionContext,
  type RsaOaepAlgorithm,
} from '../crypto/index.js';

import { AccessDeniedError, IncorrectKeyError, InvalidKeyUsageError, ValidationError } from '../errors/index.js';
import type { KeyRecord } from '../ports/storage.js';
import { aliasCondition, keyArn } from './arn.js';
import type { KeyContext } from './key-context.js';
import { materialIdFor } from './key-material.js';
import { assertState } from './key-state-rules.js';
import { algorithmsOf } from './key-specs.js';
import { checkAlgorithm, isAsymmetric, keyForUse } from './key-use.js';
import type { Conditions } from './access-control.js';
import { LIMITS, checkInteger, checkLength } from './limits.js';
import type { Operation } from './audited-operation.js';
import type { RequestContext } from './request-context.js';

export interface EncryptResult {
  ciphertext: Buffer;
  keyArn: string;
  keyVersion: number;
  keyMaterialId: string;
  encryptionAlgorithm: string;
}

export interface DecryptResult {
  plaintext: Buffer;
  keyArn: string;
  keyVersion: number;
  keyMaterialId: string;
  encryptionAlgorithm: string;
}

export interface DataKeyPairResult extends EncryptResult {
  publicKey: Buffer;
  keyPairSpec: string;
  /** PKCS#8 DER; absent for GenerateDataKeyPairWithoutPlaintext. */
  privateKey?: Buffer;
}

export interface ReEncryptResult extends EncryptResult {
  sourceKeyArn: string;
  sourceKeyVersion: number;
  sourceEncryptionAlgorithm: string;
}

export interface DataKeyResult extends EncryptResult {
  /** Absent for GenerateDataKeyWithoutPlaintext. */
  plaintext?: Buffer;
}

const DATA_KEY_SPECS = { AES_128: 16, AES_256: 32 } as const;

/** The policy and grant condition facts of an encryption context. */
const conditionsOf = (ec: EncryptionContext | undefined): Conditions | undefined => (ec === undefined ? undefined : { encryptionContext: ec });
const SYMMETRIC = 'SYMMETRIC_DEFAULT';

export const UNKNOWN_KEY_MESSAGE =
  'The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.';

export function createKeyCrypto(kc: KeyContext) {
  const { storage, run, scope, resolver, material, hsmKeys } = kc;

  /** A symmetric ENCRYPT_DECRYPT key (GenerateDataKey*, data key pairs). */
  const symmetricKey = async (op: Operation, identifier: string, name: string, ec: EncryptionContext | undefined): Promise<KeyRecord> => {
    const { key, arn } = await keyForUse(kc, op, identifier, 'ENCRYPT_DECRYPT', name, undefined, conditionsOf(ec));
    if (isAsymmetric(key)) throw new InvalidKeyUsageError(`${arn} key spec ${key.keySpec} is not valid for ${name}.`);
    return key;
  };

  /** The algorithm a request names for `key`: SYMMETRIC_DEFAULT (or nothing) for symmetric keys, RSAES_OAEP_* for RSA. */
  const algorithmFor = (key: KeyRecord, requested: string | undefined, ec: EncryptionContext | undefined): string => {
    const algorithm = requested ?? SYMMETRIC;
    checkAlgorithm(key, algorithm, algorithmsOf(key.keySpec, key.keyUsage).encryptionAlgorithms);
    if (algorithm !== SYMMETRIC && ec !== undefined && Object.keys(ec).length > 0) {
      throw new ValidationError('EncryptionContext is not supported for asymmetric KMS keys.');
    }
    return algorithm;
  };

  const seal = async (key: KeyRecord, plaintext: Uint8Array, ec: EncryptionContext | undefined, algorithm = SYMMETRIC): Promise<EncryptResult> => {
    const version = key.currentVersion;
    // Origin AWS_CLOUDHSM: AES-GCM inside the custom key store's HSM, the same v1 blob (core/hsm-keys.ts).
    const ciphertext =
      key.origin === 'AWS_CLOUDHSM'
        ? await hsmKeys.seal(key, keyArn(scope, key.id), plaintext, ec)
        : await material.withMaterial(key.id, version, (m) =>
            algorithm === SYMMETRIC
              ? encryptBlob(m, { keyId: key.id, version }, plaintext, ec)
              : rsaOaepEncrypt(algorithm as RsaOaepAlgorithm, publicKeyFromPrivate(m), plaintext),
          );
    return { ciphertext, keyArn: keyArn(scope, key.id), keyVersion: version, keyMaterialId: materialIdFor(key.id, version), encryptionAlgorithm: algorithm };
  };

  /** RSA decryption: the key is named by the request (the ciphertext carries nothing). */
  const openAsymmetric = async (
    op: Operation,
    key: KeyRecord,
    ciphertext: Uint8Array,
    ec: EncryptionContext | undefined,
    requested: string | undefined,
    action: string | undefined,
    named: { requestAlias?: string },
  ) => {
    const arn = keyArn(scope, key.id);
    await op.authorize(key, action, { ...conditionsOf(ec), ...named });
    assertState('use', key.state, arn);
    if (key.keyUsage !== 'ENCRYPT_DECRYPT') throw new InvalidKeyUsageError(`${arn} key usage is ${key.keyUsage} which is not valid for Decrypt.`);
    if (requested === undefined) throw new ValidationError('EncryptionAlgorithm is required for asymmetric KMS keys.');
    const algorithm = algorithmFor(key, requested, ec);
    const plaintext = await material.withMaterial(key.id, key.currentVersion, (m) => rsaOaepDecrypt(algorithm as RsaOaepAlgorithm, m, ciphertext));
    return { plaintext, keyArn: arn, keyVersion: key.currentVersion, keyMaterialId: materialIdFor(key.id, key.currentVersion), encryptionAlgorithm: algorithm };
  };

  const open = async (
    op: Operation,
    ciphertext: Uint8Array,
    ec: EncryptionContext | undefined,
    expectedKeyId: string | undefined,
    requestedAlgorithm: string | undefined,
    action?: string,
  ): Promise<DecryptResult> => {
    checkLength('CiphertextBlob', ciphertext, LIMITS.ciphertextBytes);
    const expected = expectedKeyId === undefined ? undefined : await resolver.resolve(expectedKeyId, { allowAlias: true });
    if (expected && isAsymmetric(expected)) return openAsymmetric(op, expected, ciphertext, ec, requestedAlgorithm, action, aliasCondition(expectedKeyId!));
    if (requestedAlgorithm !== undefined && requestedAlgorithm !== SYMMETRIC) {
      throw new ValidationError('Decrypting with an RSAES_OAEP algorithm needs the KeyId of the asymmetric key.');
    }
    const header = parseBlobHeader(ciphertext);
    if (expected && expected.id !== header.keyId) {
      await op.authorize(expected, action, { ...conditionsOf(ec), ...aliasCondition(expectedKeyId!) });
      throw new IncorrectKeyError('The key ID in the request does not identify a KMS key that can perform this operation.');
    }
    const key = await storage.getKey(header.keyId);
    if (!key) throw new AccessDeniedError(UNKNOWN_KEY_MESSAGE);
    const arn = keyArn(scope, key.id);
    await op.authorize(key, action, { ...conditionsOf(ec), ...(expectedKeyId === undefined ? {} : aliasCondition(expectedKeyId)) });
    assertState('use', key.state, arn);
    op.details.keyVersion = header.version;
    const plaintext =
      key.origin === 'AWS_CLOUDHSM'
        ? await hsmKeys.open(key, arn, ciphertext, ec)
        : await material.withMaterial(key.id, header.version, (m) => decryptBlob(m, ciphertext, ec));
    return { plaintext, keyArn: arn, keyVersion: header.version, keyMaterialId: materialIdFor(key.id, header.version), encryptionAlgorithm: SYMMETRIC };
  };

  const contextKeys = (ec: EncryptionContext | undefined) => Object.keys(ec ?? {}).sort();

  return {
    /** @throws ValidationError, NotFoundError, KeyDisabledError, InvalidStateError, InvalidKeyUsageError */
    encrypt(ctx: RequestContext, input: { keyId: string; plaintext: Uint8Array; encryptionContext?: EncryptionContext; encryptionAlgorithm?: string }) {
      return run(ctx, 'Encrypt', { readOnly: true }, async (op) => {
        Object.assign(op.details, { plaintextBytes: input.plaintext.length, encryptionContextKeys: contextKeys(input.encryptionContext), encryptionContext: sensitiveValues(input.encryptionContext) });
        const { key } = await keyForUse(kc, op, input.keyId, 'ENCRYPT_DECRYPT', 'Encrypt', undefined, conditionsOf(input.encryptionContext));
        const algorithm = algorithmFor(key, input.encryptionAlgorithm, input.encryptionContext);
        op.details.encryptionAlgorithm = algorithm;
        checkLength('Plaintext', input.plaintext, LIMITS.plaintextBytes);
        const result = await seal(key, input.plaintext, input.encryptionContext, algorithm);
        op.details.keyVersion = result.keyVersion;
        return result;
      });
    },

    /** @throws InvalidCiphertextError, IncorrectKeyError, AccessDeniedError, KeyDisabledError, InvalidStateError */
    decrypt(ctx: RequestContext, input: { ciphertext: Uint8Array; encryptionContext?: EncryptionContext; keyId?: string; encryptionAlgorithm?: string }) {
      return run(ctx, 'Decrypt', { readOnly: true }, async (op) => {
        op.details.encryptionContextKeys = contextKeys(input.encryptionContext);
        op.details.encryptionContext = sensitiveValues(input.encryptionContext);
        return open(op, input.ciphertext, input.encryptionContext, input.keyId, input.encryptionAlgorithm);
      });
    },

    /** Decrypts under the source key and encrypts under the destination key without exposing the plaintext. */
    reEncrypt(
      ctx: RequestContext,
      input: {
        ciphertext: Uint8Array;
        sourceEncryptionContext?: EncryptionContext;
        sourceKeyId?: string;
        destinationKeyId: string;
        destinationEncryptionContext?: EncryptionContext;
        sourceEncryptionAlgorithm?: string;
        destinationEncryptionAlgorithm?: string;
      },
    ): Promise<ReEncryptResult> {
      return run(ctx, 'ReEncrypt', { readOnly: true }, async (op) => {
        Object.assign(op.details, {
          sourceEncryptionContextKeys: contextKeys(input.sourceEncryptionContext),
          destinationEncryptionContextKeys: contextKeys(input.destinationEncryptionContext),
        });
        const source = await open(op, input.ciphertext, input.sourceEncryptionContext, input.sourceKeyId, input.sourceEncryptionAlgorithm, 'ReEncryptFrom');
        try {
          const { key: destination, arn } = await keyForUse(kc, op, input.destinationKeyId, 'ENCRYPT_DECRYPT', 'ReEncrypt', 'ReEncryptTo', conditionsOf(input.destinationEncryptionContext));
          const algorithm = algorithmFor(destination, input.destinationEncryptionAlgorithm, input.destinationEncryptionContext);
          op.details.destinationKeyArn = arn;
          const sealed = await seal(destination, source.plaintext, input.destinationEncryptionContext, algorithm);
          return { ...sealed, sourceKeyArn: source.keyArn, sourceKeyVersion: source.keyVersion, sourceEncryptionAlgorithm: source.encryptionAlgorithm };
        } finally {
          source.plaintext.fill(0);
        }
      });
    },

    /** Exactly one of keySpec (AES_128, AES_256) or numberOfBytes (1-1024). */
    generateDataKey(
      ctx: RequestContext,
      input: { keyId: string; keySpec?: string; numberOfBytes?: number; encryptionContext?: EncryptionContext; includePlaintext: boolean },
    ): Promise<DataKeyResult> {
      const name = input.includePlaintext ? 'GenerateDataKey' : 'GenerateDataKeyWithoutPlaintext';
      return run(ctx, name, { readOnly: true }, async (op) => {
        op.details.encryptionContextKeys = contextKeys(input.encryptionContext);
        op.details.encryptionContext = sensitiveValues(input.encryptionContext);
        const key = await symmetricKey(op, input.keyId, name, input.encryptionContext);
        if ((input.keySpec === undefined) === (input.numberOfBytes === undefined)) {
          throw new ValidationError('Please specify either number of bytes or key spec.');
        }
        const bytes =
          input.keySpec !== undefined
            ? DATA_KEY_SPECS[input.keySpec as keyof typeof DATA_KEY_SPECS]
            : checkInteger('NumberOfBytes', input.numberOfBytes!, LIMITS.dataKeyBytes);
        if (bytes === undefined) throw new ValidationError(`KeySpec must be one of ${Object.keys(DATA_KEY_SPECS).join(', ')}.`);
        op.details.dataKeyBytes = bytes;
        const plaintext = randomBytes(bytes);
        const sealed = await seal(key, plaintext, input.encryptionContext);
        op.details.keyVersion = sealed.keyVersion;
        if (input.includePlaintext) return { ...sealed, plaintext };
        plaintext.fill(0);
        return sealed;
      });
    },

    /**
     * A key pair of `keyPairSpec` whose private key comes back encrypted under the symmetric key (a blob that
     * Decrypt opens with the same encryption context), and in clear unless `includePlaintext` is false.
     */
    generateDataKeyPair(
      ctx: RequestContext,
      input: { keyId: string; keyPairSpec: string; encryptionContext?: EncryptionContext; includePlaintext: boolean },
    ): Promise<DataKeyPairResult> {
      const name = input.includePlaintext ? 'GenerateDataKeyPair' : 'GenerateDataKeyPairWithoutPlaintext';
      return run(ctx, name, { readOnly: true }, async (op) => {
        Object.assign(op.details, { keyPairSpec: input.keyPairSpec, encryptionContextKeys: contextKeys(input.encryptionContext), encryptionContext: sensitiveValues(input.encryptionContext) });
        const key = await symmetricKey(op, input.keyId, name, input.encryptionContext);
        if (!isAsymmetricKeySpec(input.keyPairSpec)) throw new ValidationError(`KeyPairSpec ${input.keyPairSpec} is not supported.`);
        const pair = await generateDataKeyPair(input.keyPairSpec);
        try {
          const sealed = await seal(key, pair.privateKey, input.encryptionContext);
          return {
            ...sealed,
            publicKey: pair.publicKey,
            keyPairSpec: input.keyPairSpec,
            ...(input.includePlaintext ? { privateKey: Buffer.from(pair.privateKey) } : {}),
          };
        } finally {
          pair.privateKey.fill(0);
        }
      });
    },

    /** @throws ValidationError when numberOfBytes is not 1-1024 */
    generateRandom(ctx: RequestContext, numberOfBytes: number): Promise<Buffer> {
      return run(ctx, 'GenerateRandom', { readOnly: true }, async (op) => {
        await op.authorize(null);
        op.details.numberOfBytes = numberOfBytes;
        return randomBytes(checkInteger('NumberOfBytes', numberOfBytes, LIMITS.randomBytes));
      });
    },
  };
}

export type KeyCrypto = ReturnType<typeof createKeyCrypto>;

/**
 * Symmetric cryptographic use cases: Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext),
 * GenerateRandom. Ciphertexts are crypto/ciphertext-blob v1: the blob names key and version, both
 * authenticated with the encryption context as AES-GCM associated data.
 * AWS KMS behaviour kept: Decrypt finds the key from the blob; a KeyId naming another key -> IncorrectKeyException;
 * a blob naming a key that does not exist -> AccessDeniedException with AWS's fixed text; every blob or
 * context mismatch -> one InvalidCiphertextError.
 * Invariant: audit details carry sizes, versions and encryption-context keys, never values or plaintext.
 */
import { decryptBlob, encryptBlob, parseBlobHeader, randomBytes, type EncryptionContext } from '../crypto/index.js';
import { AccessDeniedError, IncorrectKeyError, InvalidKeyUsageError, ValidationError } from '../errors/index.js';
import type { KeyRecord } from '../ports/storage.js';
import { keyArn } from './arn.js';
import type { KeyContext } from './key-context.js';
import { materialIdFor } from './key-material.js';
import { assertState } from './key-state-rules.js';
import { LIMITS, checkInteger, checkLength } from './limits.js';
import type { Operation } from './audited-operation.js';
import type { RequestContext } from './request-context.js';

export interface EncryptResult {
  ciphertext: Buffer;
  keyArn: string;
  keyVersion: number;
  keyMaterialId: string;
}

export interface DecryptResult {
  plaintext: Buffer;
  keyArn: string;
  keyVersion: number;
  keyMaterialId: string;
}

export interface ReEncryptResult extends EncryptResult {
  sourceKeyArn: string;
  sourceKeyVersion: number;
}

export interface DataKeyResult extends EncryptResult {
  /** Absent for GenerateDataKeyWithoutPlaintext. */
  plaintext?: Buffer;
}

const DATA_KEY_SPECS = { AES_128: 16, AES_256: 32 } as const;

export const UNKNOWN_KEY_MESSAGE =
  'The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.';

export function createKeyCrypto(kc: KeyContext) {
  const { storage, run, scope, resolver, material } = kc;

  /** Resolves a key for encryption with the current version: state Enabled, usage ENCRYPT_DECRYPT. */
  const usableKey = async (op: Operation, identifier: string, action?: string): Promise<KeyRecord> => {
    const key = await resolver.resolve(identifier, { allowAlias: true });
    const arn = keyArn(scope, key.id);
    op.authorize(arn, action);
    assertState('use', key.state, arn);
    if (key.keyUsage !== 'ENCRYPT_DECRYPT') {
      throw new InvalidKeyUsageError(`${arn} key usage is ${key.keyUsage} which is not valid for this operation.`);
    }
    return key;
  };

  const seal = async (key: KeyRecord, plaintext: Uint8Array, ec: EncryptionContext | undefined): Promise<EncryptResult> => {
    const version = key.currentVersion;
    const ciphertext = await material.withMaterial(key.id, version, (m) =>
      encryptBlob(m, { keyId: key.id, version }, plaintext, ec),
    );
    return { ciphertext, keyArn: keyArn(scope, key.id), keyVersion: version, keyMaterialId: materialIdFor(key.id, version) };
  };

  const open = async (
    op: Operation,
    ciphertext: Uint8Array,
    ec: EncryptionContext | undefined,
    expectedKeyId: string | undefined,
    action?: string,
  ): Promise<DecryptResult> => {
    checkLength('CiphertextBlob', ciphertext, LIMITS.ciphertextBytes);
    const header = parseBlobHeader(ciphertext);
    if (expectedKeyId !== undefined) {
      const expected = await resolver.resolve(expectedKeyId, { allowAlias: true });
      if (expected.id !== header.keyId) {
        op.authorize(keyArn(scope, expected.id), action);
        throw new IncorrectKeyError('The key ID in the request does not identify a KMS key that can perform this operation.');
      }
    }
    const key = await storage.getKey(header.keyId);
    if (!key) throw new AccessDeniedError(UNKNOWN_KEY_MESSAGE);
    const arn = keyArn(scope, key.id);
    op.authorize(arn, action);
    assertState('use', key.state, arn);
    op.details.keyVersion = header.version;
    const plaintext = await material.withMaterial(key.id, header.version, (m) => decryptBlob(m, ciphertext, ec));
    return { plaintext, keyArn: arn, keyVersion: header.version, keyMaterialId: materialIdFor(key.id, header.version) };
  };

  const contextKeys = (ec: EncryptionContext | undefined) => Object.keys(ec ?? {}).sort();

  return {
    /** @throws ValidationError, NotFoundError, KeyDisabledError, InvalidStateError, InvalidKeyUsageError */
    encrypt(ctx: RequestContext, input: { keyId: string; plaintext: Uint8Array; encryptionContext?: EncryptionContext }) {
      return run(ctx, 'Encrypt', { readOnly: true }, async (op) => {
        Object.assign(op.details, { plaintextBytes: input.plaintext.length, encryptionContextKeys: contextKeys(input.encryptionContext) });
        const key = await usableKey(op, input.keyId);
        checkLength('Plaintext', input.plaintext, LIMITS.plaintextBytes);
        const result = await seal(key, input.plaintext, input.encryptionContext);
        op.details.keyVersion = result.keyVersion;
        return result;
      });
    },

    /** @throws InvalidCiphertextError, IncorrectKeyError, AccessDeniedError, KeyDisabledError, InvalidStateError */
    decrypt(ctx: RequestContext, input: { ciphertext: Uint8Array; encryptionContext?: EncryptionContext; keyId?: string }) {
      return run(ctx, 'Decrypt', { readOnly: true }, async (op) => {
        op.details.encryptionContextKeys = contextKeys(input.encryptionContext);
        return open(op, input.ciphertext, input.encryptionContext, input.keyId);
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
      },
    ): Promise<ReEncryptResult> {
      return run(ctx, 'ReEncrypt', { readOnly: true }, async (op) => {
        Object.assign(op.details, {
          sourceEncryptionContextKeys: contextKeys(input.sourceEncryptionContext),
          destinationEncryptionContextKeys: contextKeys(input.destinationEncryptionContext),
        });
        const source = await open(op, input.ciphertext, input.sourceEncryptionContext, input.sourceKeyId, 'ReEncryptFrom');
        try {
          const destination = await usableKey(op, input.destinationKeyId, 'ReEncryptTo');
          op.details.destinationKeyArn = keyArn(scope, destination.id);
          const sealed = await seal(destination, source.plaintext, input.destinationEncryptionContext);
          return { ...sealed, sourceKeyArn: source.keyArn, sourceKeyVersion: source.keyVersion };
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
        const key = await usableKey(op, input.keyId);
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

    /** @throws ValidationError when numberOfBytes is not 1-1024 */
    generateRandom(ctx: RequestContext, numberOfBytes: number): Promise<Buffer> {
      return run(ctx, 'GenerateRandom', { readOnly: true }, async (op) => {
        op.authorize(null);
        op.details.numberOfBytes = numberOfBytes;
        return randomBytes(checkInteger('NumberOfBytes', numberOfBytes, LIMITS.randomBytes));
      });
    },
  };
}

export type KeyCrypto = ReturnType<typeof createKeyCrypto>;

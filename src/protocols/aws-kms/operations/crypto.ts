/**
 * Symmetric cryptographic operations: Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext),
 * GenerateRandom. Responses name keys by ARN (the AWS Encryption SDK compares Decrypt's KeyId byte for byte).
 */
import { LIMITS } from '../../../core/limits.js';
import { UnsupportedError, ValidationError } from '../../../errors/index.js';
import { operation, type StringMap } from '../operation.js';
import { GRANT_TOKENS, KEY_ID, blob, int, optional, required, str, stringMap } from '../shapes.js';

const ENCRYPTION_ALGORITHMS = ['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE'] as const;
const CIPHERTEXT = blob(1, LIMITS.ciphertextBytes.max);
const ALGORITHM = str({ values: ENCRYPTION_ALGORITHMS });

/** Until asymmetric encryption keys exist, only SYMMETRIC_DEFAULT is meaningful. */
function symmetricOnly(member: string, algorithm: string | undefined): void {
  if (algorithm !== undefined && algorithm !== 'SYMMETRIC_DEFAULT') {
    throw new UnsupportedError(`${member} ${algorithm} requires an asymmetric key, which this key is not.`);
  }
}

const DATA_KEY_INPUT = {
  KeyId: required(KEY_ID),
  EncryptionContext: optional(stringMap),
  NumberOfBytes: optional(int(LIMITS.dataKeyBytes.min, LIMITS.dataKeyBytes.max)),
  KeySpec: optional(str({ values: ['AES_256', 'AES_128'] })),
  GrantTokens: optional(GRANT_TOKENS),
};

type DataKeyInput = { KeyId: string; EncryptionContext?: StringMap; NumberOfBytes?: number; KeySpec?: string };

function dataKeyRequest(i: DataKeyInput, includePlaintext: boolean) {
  if ((i.KeySpec === undefined) === (i.NumberOfBytes === undefined)) {
    throw new ValidationError('Please specify either number of bytes or key spec.');
  }
  return {
    keyId: i.KeyId,
    ...(i.KeySpec === undefined ? {} : { keySpec: i.KeySpec }),
    ...(i.NumberOfBytes === undefined ? {} : { numberOfBytes: i.NumberOfBytes }),
    encryptionContext: i.EncryptionContext,
    includePlaintext,
  };
}

export const CRYPTO_OPERATIONS = {
  Encrypt: operation<{ KeyId: string; Plaintext: Buffer; EncryptionContext?: StringMap; EncryptionAlgorithm?: string }>(
    {
      KeyId: required(KEY_ID),
      Plaintext: required(blob(LIMITS.plaintextBytes.min, LIMITS.plaintextBytes.max)),
      EncryptionContext: optional(stringMap),
      GrantTokens: optional(GRANT_TOKENS),
      EncryptionAlgorithm: optional(ALGORITHM),
    },
    async (service, ctx, i) => {
      symmetricOnly('EncryptionAlgorithm', i.EncryptionAlgorithm);
      try {
        const r = await service.crypto.encrypt(ctx, { keyId: i.KeyId, plaintext: i.Plaintext, encryptionContext: i.EncryptionContext });
        return { CiphertextBlob: r.ciphertext.toString('base64'), KeyId: r.keyArn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      } finally {
        i.Plaintext.fill(0);
      }
    },
  ),

  Decrypt: operation<{ CiphertextBlob: Buffer; EncryptionContext?: StringMap; KeyId?: string; EncryptionAlgorithm?: string }>(
    {
      CiphertextBlob: required(CIPHERTEXT),
      EncryptionContext: optional(stringMap),
      GrantTokens: optional(GRANT_TOKENS),
      KeyId: optional(KEY_ID),
      EncryptionAlgorithm: optional(ALGORITHM),
    },
    async (service, ctx, i) => {
      symmetricOnly('EncryptionAlgorithm', i.EncryptionAlgorithm);
      const r = await service.crypto.decrypt(ctx, {
        ciphertext: i.CiphertextBlob,
        encryptionContext: i.EncryptionContext,
        ...(i.KeyId === undefined ? {} : { keyId: i.KeyId }),
      });
      try {
        return { KeyId: r.keyArn, Plaintext: r.plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT', KeyMaterialId: r.keyMaterialId };
      } finally {
        r.plaintext.fill(0);
      }
    },
  ),

  ReEncrypt: operation<{
    CiphertextBlob: Buffer;
    SourceEncryptionContext?: StringMap;
    SourceKeyId?: string;
    DestinationKeyId: string;
    DestinationEncryptionContext?: StringMap;
    SourceEncryptionAlgorithm?: string;
    DestinationEncryptionAlgorithm?: string;
  }>(
    {
      CiphertextBlob: required(CIPHERTEXT),
      SourceEncryptionContext: optional(stringMap),
      SourceKeyId: optional(KEY_ID),
      DestinationKeyId: required(KEY_ID),
      DestinationEncryptionContext: optional(stringMap),
      SourceEncryptionAlgorithm: optional(ALGORITHM),
      DestinationEncryptionAlgorithm: optional(ALGORITHM),
      GrantTokens: optional(GRANT_TOKENS),
    },
    async (service, ctx, i) => {
      symmetricOnly('SourceEncryptionAlgorithm', i.SourceEncryptionAlgorithm);
      symmetricOnly('DestinationEncryptionAlgorithm', i.DestinationEncryptionAlgorithm);
      const r = await service.crypto.reEncrypt(ctx, {
        ciphertext: i.CiphertextBlob,
        sourceEncryptionContext: i.SourceEncryptionContext,
        ...(i.SourceKeyId === undefined ? {} : { sourceKeyId: i.SourceKeyId }),
        destinationKeyId: i.DestinationKeyId,
        destinationEncryptionContext: i.DestinationEncryptionContext,
      });
      return {
        CiphertextBlob: r.ciphertext.toString('base64'),
        SourceKeyId: r.sourceKeyArn,
        KeyId: r.keyArn,
        SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        DestinationKeyMaterialId: r.keyMaterialId,
      };
    },
  ),

  GenerateDataKey: operation<DataKeyInput>(DATA_KEY_INPUT, async (service, ctx, i) => {
    const r = await service.crypto.generateDataKey(ctx, dataKeyRequest(i, true));
    try {
      return { CiphertextBlob: r.ciphertext.toString('base64'), Plaintext: r.plaintext!.toString('base64'), KeyId: r.keyArn, KeyMaterialId: r.keyMaterialId };
    } finally {
      r.plaintext?.fill(0);
    }
  }),

  GenerateDataKeyWithoutPlaintext: operation<DataKeyInput>(DATA_KEY_INPUT, async (service, ctx, i) => {
    const r = await service.crypto.generateDataKey(ctx, dataKeyRequest(i, false));
    return { CiphertextBlob: r.ciphertext.toString('base64'), KeyId: r.keyArn, KeyMaterialId: r.keyMaterialId };
  }),

  GenerateRandom: operation<{ NumberOfBytes?: number; CustomKeyStoreId?: string }>(
    { NumberOfBytes: optional(int(LIMITS.randomBytes.min, LIMITS.randomBytes.max)), CustomKeyStoreId: optional(str({ min: 1, max: 64 })) },
    async (service, ctx, i) => {
      if (i.CustomKeyStoreId !== undefined) throw new UnsupportedError('Custom key stores are not supported.');
      if (i.NumberOfBytes === undefined) throw new ValidationError('NumberOfBytes is required.');
      const random = await service.crypto.generateRandom(ctx, i.NumberOfBytes);
      return { Plaintext: random.toString('base64') };
    },
  ),
};

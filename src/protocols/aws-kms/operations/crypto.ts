/**
 * Encryption operations: Encrypt, Decrypt, ReEncrypt (symmetric and RSA), GenerateDataKey(WithoutPlaintext),
 * GenerateDataKeyPair(WithoutPlaintext), GenerateRandom. Responses name keys by ARN (the AWS Encryption SDK compares Decrypt's KeyId byte for byte).
 */
import { LIMITS } from '../../../core/limits.js';
import { UnsupportedError, ValidationError } from '../../../errors/index.js';
import type { DataKeyPairResult } from '../../../core/key-crypto.js';
import { operation, optionalField, type StringMap } from '../operation.js';
import { GRANT_TOKENS, KEY_ID, blob, int, optional, required, str, stringMap } from '../shapes.js';

const ENCRYPTION_ALGORITHMS = ['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE'] as const;
const CIPHERTEXT = blob(1, LIMITS.ciphertextBytes.max);
const ALGORITHM = str({ values: ENCRYPTION_ALGORITHMS });


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
    ...optionalField('keySpec', i.KeySpec),
    ...optionalField('numberOfBytes', i.NumberOfBytes),
    encryptionContext: i.EncryptionContext,
    includePlaintext,
  };
}

const KEY_PAIR_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1', 'SM2', 'ECC_NIST_EDWARDS25519'] as const;

const DATA_KEY_PAIR_INPUT = {
  KeyId: required(KEY_ID),
  KeyPairSpec: required(str({ values: KEY_PAIR_SPECS })),
  EncryptionContext: optional(stringMap),
  GrantTokens: optional(GRANT_TOKENS),
};

type DataKeyPairInput = { KeyId: string; KeyPairSpec: string; EncryptionContext?: StringMap };

const dataKeyPairRequest = (i: DataKeyPairInput, includePlaintext: boolean) => {
  if (i.KeyPairSpec === 'SM2') throw new UnsupportedError('KeyPairSpec SM2 is only offered in China Regions.');
  return { keyId: i.KeyId, keyPairSpec: i.KeyPairSpec, encryptionContext: i.EncryptionContext, includePlaintext };
};

function dataKeyPair(r: DataKeyPairResult) {
  try {
    return {
      PrivateKeyCiphertextBlob: r.ciphertext.toString('base64'),
      ...(r.privateKey ? { PrivateKeyPlaintext: r.privateKey.toString('base64') } : {}),
      PublicKey: r.publicKey.toString('base64'),
      KeyId: r.keyArn,
      KeyPairSpec: r.keyPairSpec,
      KeyMaterialId: r.keyMaterialId,
    };
  } finally {
    r.privateKey?.fill(0);
  }
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
      try {
        const r = await service.crypto.encrypt(ctx, {
          keyId: i.KeyId,
          plaintext: i.Plaintext,
          encryptionContext: i.EncryptionContext,
          ...optionalField('encryptionAlgorithm', i.EncryptionAlgorithm),
        });
        return { CiphertextBlob: r.ciphertext.toString('base64'), KeyId: r.keyArn, EncryptionAlgorithm: r.encryptionAlgorithm };
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
      const r = await service.crypto.decrypt(ctx, {
        ciphertext: i.CiphertextBlob,
        encryptionContext: i.EncryptionContext,
        ...optionalField('keyId', i.KeyId),
        ...optionalField('encryptionAlgorithm', i.EncryptionAlgorithm),
      });
      try {
        return { KeyId: r.keyArn, Plaintext: r.plaintext.toString('base64'), EncryptionAlgorithm: r.encryptionAlgorithm, KeyMaterialId: r.keyMaterialId };
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
      const r = await service.crypto.reEncrypt(ctx, {
        ciphertext: i.CiphertextBlob,
        sourceEncryptionContext: i.SourceEncryptionContext,
        ...optionalField('sourceKeyId', i.SourceKeyId),
        destinationKeyId: i.DestinationKeyId,
        destinationEncryptionContext: i.DestinationEncryptionContext,
        ...optionalField('sourceEncryptionAlgorithm', i.SourceEncryptionAlgorithm),
        ...optionalField('destinationEncryptionAlgorithm', i.DestinationEncryptionAlgorithm),
      });
      return {
        CiphertextBlob: r.ciphertext.toString('base64'),
        SourceKeyId: r.sourceKeyArn,
        KeyId: r.keyArn,
        SourceEncryptionAlgorithm: r.sourceEncryptionAlgorithm,
        DestinationEncryptionAlgorithm: r.encryptionAlgorithm,
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

  GenerateDataKeyPair: operation<DataKeyPairInput>(DATA_KEY_PAIR_INPUT, async (service, ctx, i) => dataKeyPair(await service.crypto.generateDataKeyPair(ctx, dataKeyPairRequest(i, true)))),

  GenerateDataKeyPairWithoutPlaintext: operation<DataKeyPairInput>(DATA_KEY_PAIR_INPUT, async (service, ctx, i) =>
    dataKeyPair(await service.crypto.generateDataKeyPair(ctx, dataKeyPairRequest(i, false))),
  ),

  GenerateRandom: operation<{ NumberOfBytes?: number; CustomKeyStoreId?: string }>(
    { NumberOfBytes: optional(int(LIMITS.randomBytes.min, LIMITS.randomBytes.max)), CustomKeyStoreId: optional(str({ min: 1, max: 64 })) },
    async (service, ctx, i) => {
      if (i.NumberOfBytes === undefined) throw new ValidationError('NumberOfBytes is required.');
      if (i.CustomKeyStoreId !== undefined) {
        return { Plaintext: (await service.customKeyStores.generateRandom(ctx, i.CustomKeyStoreId, i.NumberOfBytes)).toString('base64') };
      }
      const random = await service.crypto.generateRandom(ctx, i.NumberOfBytes);
      return { Plaintext: random.toString('base64') };
    },
  ),
};

/** Imported key material: GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial (keys of origin EXTERNAL). */
import type { AsymmetricKeySpec, WrappingAlgorithm } from '../../../crypto/index.js';
import { UnsupportedError } from '../../../errors/index.js';
import { operation, optionalField } from '../operation.js';
import { KEY_ID, blob, int, optional, required, str } from '../shapes.js';
import { epochSeconds } from '../wire.js';

const WRAPPING_ALGORITHMS = ['RSAES_PKCS1_V1_5', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256', 'SM2PKE'] as const;

export const IMPORT_OPERATIONS = {
  GetParametersForImport: operation<{ KeyId: string; WrappingAlgorithm: string; WrappingKeySpec: string }>(
    {
      KeyId: required(KEY_ID),
      WrappingAlgorithm: required(str({ values: WRAPPING_ALGORITHMS })),
      WrappingKeySpec: required(str({ values: ['RSA_2048', 'RSA_3072', 'RSA_4096', 'SM2'] })),
    },
    async (service, ctx, i) => {
      if (i.WrappingAlgorithm === 'RSAES_PKCS1_V1_5' || i.WrappingAlgorithm === 'SM2PKE' || i.WrappingKeySpec === 'SM2') {
        throw new UnsupportedError(`${i.WrappingAlgorithm} with ${i.WrappingKeySpec} is not supported; use RSAES_OAEP_SHA_256 or RSA_AES_KEY_WRAP_SHA_256.`);
      }
      const r = await service.keyImport.getParametersForImport(ctx, {
        keyId: i.KeyId,
        wrappingAlgorithm: i.WrappingAlgorithm as WrappingAlgorithm,
        wrappingKeySpec: i.WrappingKeySpec as AsymmetricKeySpec,
      });
      return {
        KeyId: r.keyArn,
        ImportToken: r.importToken.toString('base64'),
        PublicKey: r.publicKey.toString('base64'),
        ParametersValidTo: epochSeconds(r.parametersValidTo),
      };
    },
  ),

  ImportKeyMaterial: operation<{ KeyId: string; ImportToken: Buffer; EncryptedKeyMaterial: Buffer; ValidTo?: number; ExpirationModel?: string }>(
    {
      KeyId: required(KEY_ID),
      ImportToken: required(blob(1, 32_768)),
      EncryptedKeyMaterial: required(blob(1, 32_768)),
      ValidTo: optional(int()),
      ExpirationModel: optional(str({ values: ['KEY_MATERIAL_EXPIRES', 'KEY_MATERIAL_DOES_NOT_EXPIRE'] })),
      ImportType: optional(str({ values: ['NEW_KEY_MATERIAL', 'EXISTING_KEY_MATERIAL'] })),
      KeyMaterialDescription: optional(str({ min: 0, max: 256 })),
      KeyMaterialId: optional(str({ min: 64, max: 64 })),
    },
    async (service, ctx, i) => {
      const r = await service.keyImport.importKeyMaterial(ctx, {
        keyId: i.KeyId,
        importToken: i.ImportToken,
        encryptedKeyMaterial: i.EncryptedKeyMaterial,
        ...optionalField('expirationModel', i.ExpirationModel),
        ...(i.ValidTo === undefined ? {} : { validTo: new Date(i.ValidTo * 1000) }),
      });
      return { KeyId: r.arn, KeyMaterialId: r.currentKeyMaterialId };
    },
  ),

  DeleteImportedKeyMaterial: operation<{ KeyId: string }>({ KeyId: required(KEY_ID), KeyMaterialId: optional(str({ min: 64, max: 64 })) }, async (service, ctx, i) => {
    await service.keyImport.deleteImportedKeyMaterial(ctx, i.KeyId);
    return {};
  }),
};

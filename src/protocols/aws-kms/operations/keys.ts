/** Key lifecycle operations: CreateKey, DescribeKey, ListKeys, UpdateKeyDescription, Enable/DisableKey, deletion. */
import { LIMITS } from '../../../core/limits.js';
import { InvalidTagError, UnsupportedError, ValidationError } from '../../../errors/index.js';
import { operation, optionalField } from '../operation.js';
import { GRANT_TOKENS, KEY_ID, bool, int, list, optional, required, str, structure } from '../shapes.js';
import { epochSeconds, keyMetadata, truncation } from '../wire.js';

const KEY_USAGES = ['SIGN_VERIFY', 'ENCRYPT_DECRYPT', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT'] as const;
const KEY_SPECS = [
  'RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1',
  'SYMMETRIC_DEFAULT', 'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512', 'SM2', 'ML_DSA_44', 'ML_DSA_65', 'ML_DSA_87',
  'ECC_NIST_EDWARDS25519',
] as const;
const ORIGINS = ['AWS_KMS', 'EXTERNAL', 'AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE'] as const;

export const TAG_LIST = list(structure({ TagKey: required(str({ min: 1, max: 128 })), TagValue: required(str({ min: 0, max: 256 })) }));

export type Tag = { TagKey: string; TagValue: string };

/** AWS TagException for duplicate keys; the core checks the count and the `aws:` prefix. */
export function tagMap(tags: readonly Tag[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const { TagKey, TagValue } of tags) {
    if (Object.hasOwn(map, TagKey)) throw new InvalidTagError('Duplicate tag keys');
    map[TagKey] = TagValue;
  }
  return map;
}

const unsupported = (message: string) => new UnsupportedError(message);

export const KEY_OPERATIONS = {
  CreateKey: operation<{
    Policy?: string;
    Description?: string;
    KeyUsage?: string;
    KeySpec?: string;
    CustomerMasterKeySpec?: string;
    Origin?: string;
    CustomKeyStoreId?: string;
    BypassPolicyLockoutSafetyCheck?: boolean;
    Tags?: Tag[];
    MultiRegion?: boolean;
    XksKeyId?: string;
  }>(
    {
      Policy: optional(str({ min: 1, max: 131_072 })),
      Description: optional(str({ min: 0, max: 8192 })),
      KeyUsage: optional(str({ values: KEY_USAGES })),
      CustomerMasterKeySpec: optional(str({ values: KEY_SPECS })),
      KeySpec: optional(str({ values: KEY_SPECS })),
      Origin: optional(str({ values: ORIGINS })),
      CustomKeyStoreId: optional(str({ min: 1, max: 64 })),
      BypassPolicyLockoutSafetyCheck: optional(bool),
      Tags: optional(TAG_LIST),
      MultiRegion: optional(bool),
      XksKeyId: optional(str({ min: 1, max: 128 })),
    },
    async (service, ctx, i) => {
      if (i.MultiRegion) throw unsupported('Multi-Region keys are not supported.');
      if (i.XksKeyId !== undefined || i.Origin === 'EXTERNAL_KEY_STORE') throw unsupported('External key stores (XKS) are not supported.');
      // AWS: Origin AWS_CLOUDHSM and CustomKeyStoreId go together (core: ValidationException otherwise).
      if (i.KeySpec !== undefined && i.CustomerMasterKeySpec !== undefined) {
        throw new ValidationError('You cannot specify KeySpec and CustomerMasterKeySpec in the same request.');
      }
      const keySpec = i.KeySpec ?? i.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT';
      if (keySpec !== 'SYMMETRIC_DEFAULT' && i.KeyUsage === undefined) {
        throw new ValidationError('You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.');
      }
      const key = await service.keys.create(ctx, {
        keySpec,
        ...optionalField('keyUsage', i.KeyUsage),
        ...optionalField('description', i.Description),
        ...(i.Tags === undefined ? {} : { tags: tagMap(i.Tags) }),
        ...optionalField('policy', i.Policy),
        ...(i.Origin === 'EXTERNAL' || i.Origin === 'AWS_CLOUDHSM' ? { origin: i.Origin } : {}),
        ...optionalField('customKeyStoreId', i.CustomKeyStoreId),
        ...optionalField('bypassPolicyLockoutSafetyCheck', i.BypassPolicyLockoutSafetyCheck),
      });
      return { KeyMetadata: keyMetadata(key) };
    },
  ),

  DescribeKey: operation<{ KeyId: string }>({ KeyId: required(KEY_ID), GrantTokens: optional(GRANT_TOKENS) }, async (service, ctx, i) => ({
    KeyMetadata: keyMetadata(await service.keys.describe(ctx, i.KeyId)),
  })),

  ListKeys: operation<{ Limit?: number; Marker?: string }>(
    { Limit: optional(int(1, LIMITS.listKeys.max)), Marker: optional(str({ min: 1, max: 1024 })) },
    async (service, ctx, i) => {
      const page = await service.keys.list(ctx, { ...optionalField('limit', i.Limit), ...optionalField('marker', i.Marker) });
      return { Keys: page.items.map((k) => ({ KeyId: k.id, KeyArn: k.arn })), ...truncation(page.nextMarker) };
    },
  ),

  UpdateKeyDescription: operation<{ KeyId: string; Description: string }>(
    { KeyId: required(KEY_ID), Description: required(str({ min: 0, max: 8192 })) },
    async (service, ctx, i) => {
      await service.keys.updateDescription(ctx, i.KeyId, i.Description);
      return {};
    },
  ),

  EnableKey: operation<{ KeyId: string }>({ KeyId: required(KEY_ID) }, async (service, ctx, i) => {
    await service.keys.enable(ctx, i.KeyId);
    return {};
  }),

  DisableKey: operation<{ KeyId: string }>({ KeyId: required(KEY_ID) }, async (service, ctx, i) => {
    await service.keys.disable(ctx, i.KeyId);
    return {};
  }),

  ScheduleKeyDeletion: operation<{ KeyId: string; PendingWindowInDays?: number }>(
    { KeyId: required(KEY_ID), PendingWindowInDays: optional(int(1, 365)) },
    async (service, ctx, i) => {
      const key = await service.keys.scheduleDeletion(ctx, i.KeyId, i.PendingWindowInDays);
      return {
        KeyId: key.arn,
        DeletionDate: epochSeconds(key.deletionAt!),
        KeyState: key.state,
        PendingWindowInDays: key.pendingWindowDays,
      };
    },
  ),

  CancelKeyDeletion: operation<{ KeyId: string }>({ KeyId: required(KEY_ID) }, async (service, ctx, i) => ({
    KeyId: (await service.keys.cancelDeletion(ctx, i.KeyId)).arn,
  })),
};

/**
 * Rotation operations: EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand,
 * ListKeyRotations. EnableKeyRotation without RotationPeriodInDays keeps the key's period, or uses the configured
 * default (180 days) where AWS would use 365.
 */
import { LIMITS } from '../../../core/limits.js';
import { operation } from '../operation.js';
import { KEY_ID, int, optional, required, str } from '../shapes.js';
import { epochSeconds, pageOf, truncation } from '../wire.js';

export const ROTATION_OPERATIONS = {
  EnableKeyRotation: operation<{ KeyId: string; RotationPeriodInDays?: number }>(
    { KeyId: required(KEY_ID), RotationPeriodInDays: optional(int(LIMITS.rotationPeriodDays.min, LIMITS.rotationPeriodDays.max)) },
    async (service, ctx, i) => {
      await service.rotation.enableRotation(ctx, i.KeyId, i.RotationPeriodInDays);
      return {};
    },
  ),

  DisableKeyRotation: operation<{ KeyId: string }>({ KeyId: required(KEY_ID) }, async (service, ctx, i) => {
    await service.rotation.disableRotation(ctx, i.KeyId);
    return {};
  }),

  GetKeyRotationStatus: operation<{ KeyId: string }>({ KeyId: required(KEY_ID) }, async (service, ctx, i) => {
    const s = await service.rotation.getRotationStatus(ctx, i.KeyId);
    return {
      KeyId: s.keyArn,
      KeyRotationEnabled: s.enabled,
      ...(s.periodDays === null ? {} : { RotationPeriodInDays: s.periodDays }),
      ...(s.nextRotationAt === null ? {} : { NextRotationDate: epochSeconds(s.nextRotationAt) }),
    };
  }),

  RotateKeyOnDemand: operation<{ KeyId: string }>({ KeyId: required(KEY_ID) }, async (service, ctx, i) => ({
    KeyId: (await service.rotation.rotateOnDemand(ctx, i.KeyId)).arn,
  })),

  ListKeyRotations: operation<{ KeyId: string; IncludeKeyMaterial?: string; Limit?: number; Marker?: string }>(
    {
      KeyId: required(KEY_ID),
      IncludeKeyMaterial: optional(str({ values: ['ALL_KEY_MATERIAL', 'ROTATIONS_ONLY'] })),
      Limit: optional(int(1, 1000)),
      Marker: optional(str({ min: 1, max: 1024 })),
    },
    async (service, ctx, i) => {
      const rotations = await service.rotation.listRotations(ctx, i.KeyId);
      const page = pageOf(rotations, i.Limit ?? 100, i.Marker);
      return {
        Rotations: page.items.map((r) => ({
          KeyId: r.keyArn,
          RotationDate: epochSeconds(r.rotatedAt),
          RotationType: r.rotationType,
          KeyMaterialId: r.keyMaterialId,
        })),
        ...truncation(page.nextMarker),
      };
    },
  ),
};

/** Alias operations: CreateAlias, UpdateAlias, DeleteAlias, ListAliases. */
import { LIMITS } from '../../../core/limits.js';
import { operation, optionalField } from '../operation.js';
import { KEY_ID, int, optional, required, str } from '../shapes.js';
import { epochSeconds, truncation } from '../wire.js';

const ALIAS_NAME = str({ min: 1, max: 256, pattern: /^[a-zA-Z0-9:/_-]+$/ });

export const ALIAS_OPERATIONS = {
  CreateAlias: operation<{ AliasName: string; TargetKeyId: string }>(
    { AliasName: required(ALIAS_NAME), TargetKeyId: required(KEY_ID) },
    async (service, ctx, i) => {
      await service.aliases.create(ctx, i.AliasName, i.TargetKeyId);
      return {};
    },
  ),

  UpdateAlias: operation<{ AliasName: string; TargetKeyId: string }>(
    { AliasName: required(ALIAS_NAME), TargetKeyId: required(KEY_ID) },
    async (service, ctx, i) => {
      await service.aliases.update(ctx, i.AliasName, i.TargetKeyId);
      return {};
    },
  ),

  DeleteAlias: operation<{ AliasName: string }>({ AliasName: required(ALIAS_NAME) }, async (service, ctx, i) => {
    await service.aliases.delete(ctx, i.AliasName);
    return {};
  }),

  ListAliases: operation<{ KeyId?: string; Limit?: number; Marker?: string }>(
    { KeyId: optional(KEY_ID), Limit: optional(int(1, LIMITS.listAliases.max)), Marker: optional(str({ min: 1, max: 1024 })) },
    async (service, ctx, i) => {
      const page = await service.aliases.list(ctx, {
        ...optionalField('keyId', i.KeyId),
        ...optionalField('limit', i.Limit),
        ...optionalField('marker', i.Marker),
      });
      return {
        Aliases: page.items.map((a) => ({
          AliasName: a.name,
          AliasArn: a.arn,
          TargetKeyId: a.keyId,
          CreationDate: epochSeconds(a.createdAt),
          LastUpdatedDate: epochSeconds(a.updatedAt),
        })),
        ...truncation(page.nextMarker),
      };
    },
  ),
};

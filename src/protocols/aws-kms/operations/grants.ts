/** Grant operations: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant. */
import type { GrantRecord } from '../../../ports/storage.js';
import { keyArn, type AccountScope } from '../../../core/arn.js';
import { UnsupportedError, ValidationError } from '../../../errors/index.js';
import { operation, optionalField, type StringMap } from '../operation.js';
import { GRANT_TOKENS, KEY_ID, bool, int, list, optional, required, str, stringMap, structure } from '../shapes.js';
import { epochSeconds, truncation } from '../wire.js';

const GRANTABLE = [
  'Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo', 'Sign', 'Verify',
  'GetPublicKey', 'CreateGrant', 'RetireGrant', 'DescribeKey', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext',
  'GenerateMac', 'VerifyMac', 'DeriveSharedSecret',
] as const;
const PRINCIPAL = str({ min: 1, max: 256, pattern: /^[\w+=,.@:/-]+$/ });
const GRANT_ID = str({ min: 1, max: 128 });
const GRANT_TOKEN = str({ min: 1, max: 8192 });
const LIMIT = optional(int(1, 100));
const MARKER = optional(str({ min: 1, max: 1024 }));

type Constraints = { EncryptionContextSubset?: StringMap; EncryptionContextEquals?: StringMap; SourceArn?: string };

function grantEntry(g: GrantRecord, scope: AccountScope) {
  const { accountId } = scope;
  return {
    KeyId: keyArn(scope, g.keyId),
    GrantId: g.id,
    ...(g.name === null ? {} : { Name: g.name }),
    CreationDate: epochSeconds(g.createdAt),
    GranteePrincipal: g.granteePrincipal,
    ...(g.retiringPrincipal === null ? {} : { RetiringPrincipal: g.retiringPrincipal }),
    IssuingAccount: `arn:aws:iam::${accountId}:root`,
    Operations: g.operations,
    ...(g.constraints === null
      ? {}
      : {
          Constraints: {
            ...(g.constraints.encryptionContextSubset ? { EncryptionContextSubset: g.constraints.encryptionContextSubset } : {}),
            ...(g.constraints.encryptionContextEquals ? { EncryptionContextEquals: g.constraints.encryptionContextEquals } : {}),
          },
        }),
  };
}

export const GRANT_OPERATIONS = {
  CreateGrant: operation<{
    KeyId: string;
    GranteePrincipal?: string;
    RetiringPrincipal?: string;
    Operations: string[];
    Constraints?: Constraints;
    Name?: string;
    GranteeServicePrincipal?: string;
    RetiringServicePrincipal?: string;
  }>(
    {
      KeyId: required(KEY_ID),
      GranteePrincipal: optional(PRINCIPAL),
      RetiringPrincipal: optional(PRINCIPAL),
      Operations: required(list(str({ values: GRANTABLE }))),
      Constraints: optional(structure({ EncryptionContextSubset: optional(stringMap), EncryptionContextEquals: optional(stringMap), SourceArn: optional(str({ min: 1, max: 2048 })) })),
      GrantTokens: optional(GRANT_TOKENS),
      Name: optional(str({ min: 1, max: 256, pattern: /^[a-zA-Z0-9:/_-]+$/ })),
      GranteeServicePrincipal: optional(str({ min: 1, max: 256 })),
      RetiringServicePrincipal: optional(str({ min: 1, max: 256 })),
      DryRun: optional(bool),
    },
    async (service, ctx, i) => {
      if (i.GranteeServicePrincipal !== undefined || i.RetiringServicePrincipal !== undefined || i.Constraints?.SourceArn !== undefined) {
        throw new UnsupportedError('Service principals and SourceArn constraints are not supported.');
      }
      if (i.GranteePrincipal === undefined) throw new ValidationError('GranteePrincipal is required.');
      const c = i.Constraints;
      const r = await service.grants.create(ctx, {
        keyId: i.KeyId,
        granteePrincipal: i.GranteePrincipal,
        operations: i.Operations,
        ...optionalField('retiringPrincipal', i.RetiringPrincipal),
        ...optionalField('name', i.Name),
        ...(c === undefined
          ? {}
          : {
              constraints: {
                ...(c.EncryptionContextSubset ? { encryptionContextSubset: c.EncryptionContextSubset } : {}),
                ...(c.EncryptionContextEquals ? { encryptionContextEquals: c.EncryptionContextEquals } : {}),
              },
            }),
      });
      return { GrantToken: r.grantToken, GrantId: r.grantId };
    },
  ),

  ListGrants: operation<{ KeyId: string; Limit?: number; Marker?: string; GrantId?: string; GranteePrincipal?: string }>(
    { KeyId: required(KEY_ID), Limit: LIMIT, Marker: MARKER, GrantId: optional(GRANT_ID), GranteePrincipal: optional(PRINCIPAL) },
    async (service, ctx, i) => {
      const page = await service.grants.list(ctx, {
        keyId: i.KeyId,
        ...optionalField('limit', i.Limit),
        ...optionalField('marker', i.Marker),
        ...optionalField('grantId', i.GrantId),
        ...optionalField('granteePrincipal', i.GranteePrincipal),
      });
      return { Grants: page.items.map((g) => grantEntry(g, service.scope)), ...truncation(page.nextMarker) };
    },
  ),

  ListRetirableGrants: operation<{ RetiringPrincipal: string; Limit?: number; Marker?: string }>(
    { RetiringPrincipal: required(PRINCIPAL), Limit: LIMIT, Marker: MARKER },
    async (service, ctx, i) => {
      const page = await service.grants.listRetirable(ctx, {
        retiringPrincipal: i.RetiringPrincipal,
        ...optionalField('limit', i.Limit),
        ...optionalField('marker', i.Marker),
      });
      return { Grants: page.items.map((g) => grantEntry(g, service.scope)), ...truncation(page.nextMarker) };
    },
  ),

  RetireGrant: operation<{ GrantToken?: string; KeyId?: string; GrantId?: string }>(
    { GrantToken: optional(GRANT_TOKEN), KeyId: optional(KEY_ID), GrantId: optional(GRANT_ID), DryRun: optional(bool) },
    async (service, ctx, i) => {
      await service.grants.retire(ctx, {
        ...optionalField('grantToken', i.GrantToken),
        ...optionalField('keyId', i.KeyId),
        ...optionalField('grantId', i.GrantId),
      });
      return {};
    },
  ),

  RevokeGrant: operation<{ KeyId: string; GrantId: string }>(
    { KeyId: required(KEY_ID), GrantId: required(GRANT_ID), DryRun: optional(bool) },
    async (service, ctx, i) => {
      await service.grants.revoke(ctx, { keyId: i.KeyId, grantId: i.GrantId });
      return {};
    },
  ),
};

/**
 * Grants (AWS KMS grants, aws-kms-protocol.md §6.4): CreateGrant, ListGrants, ListRetirableGrants, RetireGrant,
 * RevokeGrant, and the check that lets a grantee use a key for the grant's operations under its constraints.
 * Invariants:
 * - a grant names operations the key's type supports; constraints (EncryptionContextSubset or ...Equals, not both)
 *   only on symmetric encryption keys;
 * - `Name` is idempotent: the same name with the same parameters returns the existing grant id (with a fresh
 *   token); the same name with other parameters is refused, never silently replaced;
 * - grant tokens are opaque, name their grant, and grant nothing by themselves: the caller must still be the
 *   grantee. Storage is read-your-writes, so a grant works as soon as CreateGrant returns; a token is validated;
 * - RetireGrant is allowed to the retiring principal, to the grantee when the grant includes RetireGrant, and to
 *   whoever may RetireGrant on the key; RevokeGrant needs the permission on the key.
 */
import { randomBytes } from '../crypto/index.js';
import { grantDecrypts } from '../policy/decryption.js';
import { AlreadyExistsError, InvalidGrantIdError, InvalidGrantTokenError, NotFoundError, ValidationError } from '../errors/index.js';
import type { GrantConstraints, GrantRecord, KeyRecord, Page } from '../ports/storage.js';
import { keyArn } from './arn.js';
import type { Operation } from './audited-operation.js';
import type { KeyContext } from './key-context.js';
import { specOf } from './key-specs.js';
import { assertState } from './key-state-rules.js';
import { LIMITS, checkInteger } from './limits.js';
import type { RequestContext } from './request-context.js';

const COMMON = ['CreateGrant', 'RetireGrant', 'DescribeKey'] as const;

/** Operations a grant may allow, by key usage (and, for ENCRYPT_DECRYPT, symmetric vs RSA). */
const GRANT_OPERATIONS = {
  symmetric: ['Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext', ...COMMON],
  rsaEncryption: ['Decrypt', 'Encrypt', 'ReEncryptFrom', 'ReEncryptTo', 'GetPublicKey', ...COMMON],
  SIGN_VERIFY: ['Sign', 'Verify', 'GetPublicKey', ...COMMON],
  GENERATE_VERIFY_MAC: ['GenerateMac', 'VerifyMac', ...COMMON],
  KEY_AGREEMENT: ['DeriveSharedSecret', 'GetPublicKey', ...COMMON],
} as const satisfies Record<string, readonly string[]>;

const MAX_CONSTRAINT_PAIRS = 8;
const GRANT_ID = /^[0-9a-f]{64}$/;
const TOKEN_VERSION = 0x01;
const UUID_BYTES = 16;
const ID_BYTES = 32;

function operationsFor(key: KeyRecord): readonly string[] {
  if (key.keyUsage !== 'ENCRYPT_DECRYPT') return GRANT_OPERATIONS[key.keyUsage as Exclude<keyof typeof GRANT_OPERATIONS, 'symmetric' | 'rsaEncryption'>] ?? COMMON;
  return specOf(key.keySpec).material.kind === 'key-pair' ? GRANT_OPERATIONS.rsaEncryption : GRANT_OPERATIONS.symmetric;
}

/** Token: base64url(0x01 ‖ key id (16) ‖ grant id (32) ‖ nonce (16)). */
export function grantToken(keyId: string, grantId: string): string {
  return Buffer.concat([Buffer.from([TOKEN_VERSION]), Buffer.from(keyId.replace(/-/g, ''), 'hex'), Buffer.from(grantId, 'hex'), randomBytes(16)]).toString('base64url');
}

/** The (key id, grant id) a token names. @throws InvalidGrantTokenError */
export function parseGrantToken(token: string): { keyId: string; grantId: string } {
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.toString('base64url') !== token || bytes.length !== 1 + UUID_BYTES + ID_BYTES + 16 || bytes[0] !== TOKEN_VERSION) {
    throw new InvalidGrantTokenError('The grant token is not valid.');
  }
  const hex = bytes.subarray(1, 1 + UUID_BYTES).toString('hex');
  const keyId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { keyId, grantId: bytes.subarray(1 + UUID_BYTES, 1 + UUID_BYTES + ID_BYTES).toString('hex') };
}

function checkConstraints(key: KeyRecord, constraints: GrantConstraints | undefined): GrantConstraints | null {
  if (!constraints || (constraints.encryptionContextEquals === undefined && constraints.encryptionContextSubset === undefined)) return null;
  if (constraints.encryptionContextEquals && constraints.encryptionContextSubset) {
    throw new ValidationError('A grant may have EncryptionContextEquals or EncryptionContextSubset, not both.');
  }
  if (operationsFor(key) !== GRANT_OPERATIONS.symmetric) {
    throw new ValidationError('Encryption context constraints apply only to grants on symmetric encryption keys.');
  }
  const map = constraints.encryptionContextEquals ?? constraints.encryptionContextSubset!;
  if (Object.keys(map).length > MAX_CONSTRAINT_PAIRS) throw new ValidationError(`A grant constraint has at most ${MAX_CONSTRAINT_PAIRS} pairs.`);
  for (const value of Object.values(map)) if (value.length > 384) throw new ValidationError('Grant constraint values are at most 384 characters.');
  return constraints;
}

const sameGrant = (a: GrantRecord, b: Omit<GrantRecord, 'id' | 'createdAt' | 'issuedBy'>) =>
  a.granteePrincipal === b.granteePrincipal &&
  a.retiringPrincipal === b.retiringPrincipal &&
  JSON.stringify([...a.operations].sort()) === JSON.stringify([...b.operations].sort()) &&
  JSON.stringify(a.constraints) === JSON.stringify(b.constraints);

export interface CreateGrantInput {
  keyId: string;
  granteePrincipal: string;
  retiringPrincipal?: string;
  operations: string[];
  constraints?: GrantConstraints;
  name?: string;
}

export function createGrants(kc: KeyContext) {
  const { storage, run, clock, scope, resolver } = kc;

  const managedKey = async (op: Operation, identifier: string, action?: string) => {
    const key = await resolver.resolve(identifier, { allowAlias: false });
    await op.authorize(key, action);
    return key;
  };

  const findGrant = async (keyId: string, grantId: string) => {
    if (!GRANT_ID.test(grantId)) throw new InvalidGrantIdError('The grant id is not valid.');
    const grant = await storage.getGrant(keyId, grantId);
    if (!grant) throw new NotFoundError(`Grant ${grantId} does not exist on ${keyArn(scope, keyId)}.`);
    return grant;
  };

  return {
    /** @throws ValidationError, AlreadyExistsError, KeyDisabledError, InvalidStateError */
    create(ctx: RequestContext, input: CreateGrantInput): Promise<{ grantId: string; grantToken: string }> {
      return run(ctx, 'CreateGrant', { readOnly: false }, async (op) => {
        Object.assign(op.details, { granteePrincipal: input.granteePrincipal, operations: input.operations, name: input.name ?? null });
        const key = await resolver.resolve(input.keyId, { allowAlias: false });
        await op.authorize(
          key,
          undefined,
          { grant: { operations: input.operations, granteePrincipal: input.granteePrincipal, ...(input.retiringPrincipal ? { retiringPrincipal: input.retiringPrincipal } : {}) } },
          { sensitive: grantDecrypts(input.operations) },
        );
        assertState('use', key.state, keyArn(scope, key.id));
        const allowed = operationsFor(key);
        const unknown = input.operations.filter((o) => !allowed.includes(o));
        if (input.operations.length === 0 || unknown.length > 0) {
          throw new ValidationError(`Grant operations for this key must be among: ${allowed.join(', ')}.`);
        }
        const wanted = {
          keyId: key.id,
          name: input.name ?? null,
          granteePrincipal: input.granteePrincipal,
          retiringPrincipal: input.retiringPrincipal ?? null,
          operations: [...new Set(input.operations)],
          constraints: checkConstraints(key, input.constraints),
        };
        if (input.name !== undefined) {
          const existing = await storage.getGrantByName(key.id, input.name);
          if (existing && sameGrant(existing, wanted)) return { grantId: existing.id, grantToken: grantToken(key.id, existing.id) };
          if (existing) throw new AlreadyExistsError(`A grant named ${input.name} with other parameters already exists on this key.`);
        }
        await op.beforeChange();
        const grant: GrantRecord = { ...wanted, id: randomBytes(ID_BYTES).toString('hex'), issuedBy: ctx.caller.arn, createdAt: clock.now() };
        await storage.createGrant(grant);
        op.respond({ grantId: grant.id });
        return { grantId: grant.id, grantToken: grantToken(key.id, grant.id) };
      });
    },

    list(ctx: RequestContext, input: { keyId: string; limit?: number; marker?: string; grantId?: string; granteePrincipal?: string }): Promise<Page<GrantRecord>> {
      return run(ctx, 'ListGrants', { readOnly: true }, async (op) => {
        const key = await managedKey(op, input.keyId);
        const limit = checkInteger('Limit', input.limit ?? 50, LIMITS.listAliases);
        if (input.grantId !== undefined) {
          const grant = await findGrant(key.id, input.grantId);
          return { items: input.granteePrincipal === undefined || grant.granteePrincipal === input.granteePrincipal ? [grant] : [] };
        }
        return storage.listGrants({
          keyId: key.id,
          limit,
          ...(input.marker === undefined ? {} : { marker: input.marker }),
          ...(input.granteePrincipal === undefined ? {} : { granteePrincipal: input.granteePrincipal }),
        });
      });
    },

    listRetirable(ctx: RequestContext, input: { retiringPrincipal: string; limit?: number; marker?: string }): Promise<Page<GrantRecord>> {
      return run(ctx, 'ListRetirableGrants', { readOnly: true }, async (op) => {
        await op.authorize(null);
        const limit = checkInteger('Limit', input.limit ?? 50, LIMITS.listAliases);
        return storage.listRetirableGrants({ retiringPrincipal: input.retiringPrincipal, limit, ...(input.marker === undefined ? {} : { marker: input.marker }) });
      });
    },

    /** By token, or by key id (or ARN) and grant id. */
    retire(ctx: RequestContext, input: { grantToken?: string; keyId?: string; grantId?: string }): Promise<void> {
      return run(ctx, 'RetireGrant', { readOnly: false }, async (op) => {
        const named = input.grantToken !== undefined ? parseGrantToken(input.grantToken) : undefined;
        if (!named && (input.keyId === undefined || input.grantId === undefined)) {
          throw new ValidationError('RetireGrant needs a GrantToken, or a KeyId and a GrantId.');
        }
        const key = await resolver.resolve(named?.keyId ?? input.keyId!, { allowAlias: false });
        const grant = await findGrant(key.id, named?.grantId ?? input.grantId!);
        op.details.grantId = grant.id;
        const caller = ctx.caller.arn;
        const mayRetire = grant.retiringPrincipal === caller || (grant.granteePrincipal === caller && grant.operations.includes('RetireGrant'));
        if (mayRetire) op.authorizedBy(key, `grant:${grant.id}`);
        else await op.authorize(key);
        await op.beforeChange();
        await storage.deleteGrant(key.id, grant.id);
      });
    },

    revoke(ctx: RequestContext, input: { keyId: string; grantId: string }): Promise<void> {
      return run(ctx, 'RevokeGrant', { readOnly: false }, async (op) => {
        const key = await managedKey(op, input.keyId);
        const grant = await findGrant(key.id, input.grantId);
        op.details.grantId = grant.id;
        await op.beforeChange();
        await storage.deleteGrant(key.id, grant.id);
      });
    },
  };
}

export type Grants = ReturnType<typeof createGrants>;

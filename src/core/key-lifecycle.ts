/**
 * Key lifecycle use cases: create, describe, list, update description, enable, disable, tags,
 * schedule and cancel deletion. State rules: key-state-rules.ts.
 */
import { randomUuid, sha256Hex } from '../crypto/index.js';
import { UnsupportedError, ValidationError } from '../errors/index.js';
import type { KeyPatch, KeyRecord, Page } from '../ports/storage.js';
import { applyTransition } from './key-transition.js';
import { aliasCondition, keyArn, partitionOf } from './arn.js';
import { keyPolicyDecryptsDirectly } from '../policy/decryption.js';
import type { RequestContext } from './request-context.js';
import { addDays, describeRecord, type KeyContext, type KeyDescription } from './key-context.js';
import { assertState, type StateRule } from './key-state-rules.js';
import { KEY_SPECS, isKeySpec, newMaterial } from './key-specs.js';
import { checkPolicy } from './key-policies.js';
import type { Conditions } from './access-control.js';
import { LIMITS, checkDescription, checkInteger, checkTags } from './limits.js';

export interface CreateKeyInput {
  description?: string;
  keySpec?: string;
  keyUsage?: string;
  tags?: Record<string, string>;
  /** Automatic rotation period; null turns automatic rotation off; undefined uses the configured default. */
  rotationPeriodDays?: number | null;
  /** A key policy document (JSON text); absent for the default key policy. */
  policy?: string;
  bypassPolicyLockoutSafetyCheck?: boolean;
  /**
   * AWS_KMS (default): DataDefender makes the material; EXTERNAL: it is imported later (PendingImport until then);
   * AWS_CLOUDHSM: an AES-256 object made inside the HSM token of `customKeyStoreId` (symmetric keys only, no rotation).
   */
  origin?: 'AWS_KMS' | 'EXTERNAL' | 'AWS_CLOUDHSM';
  /** With origin AWS_CLOUDHSM: the custom key store (core/custom-key-stores.ts). */
  customKeyStoreId?: string;
}

export function createKeyLifecycle(kc: KeyContext) {
  const { storage, run, clock, scope, resolver, material, hsmKeys } = kc;

  /** Resolve (id or ARN only) -> authorize -> state check -> audit attempt -> conditional update. */
  const mutate = (
    ctx: RequestContext,
    name: string,
    identifier: string,
    rule: StateRule,
    patchFor: (key: KeyRecord) => KeyPatch,
    conditions?: Conditions,
  ): Promise<KeyDescription> =>
    run(ctx, name, { readOnly: false }, async (op) => {
      const key = await resolver.resolve(identifier, { allowAlias: false });
      const arn = keyArn(scope, key.id);
      await op.authorize(key, undefined, conditions);
      assertState(rule, key.state, arn);
      const patch = patchFor(key);
      await op.beforeChange();
      return applyTransition(kc, key, rule, patch);
    });

  return {
    /** @throws ValidationError, AccessDeniedError, AuditUnavailableError */
    create(ctx: RequestContext, input: CreateKeyInput): Promise<KeyDescription> {
      return run(ctx, 'CreateKey', { readOnly: false }, async (op) => {
        // A key policy of its own that lets someone decrypt directly is a grant of decryption (dual control).
        const sensitive = input.policy !== undefined && keyPolicyDecryptsDirectly(input.policy, partitionOf(scope.region));
        if (input.policy !== undefined) op.details.policySha256 = sha256Hex(input.policy);
        await op.authorize(null, undefined, input.tags ? { requestTags: input.tags } : undefined, { sensitive });
        const keySpec = input.keySpec ?? 'SYMMETRIC_DEFAULT';
        if (!isKeySpec(keySpec)) throw new ValidationError(`KeySpec ${keySpec} is not supported.`);
        const spec = KEY_SPECS[keySpec];
        const keyUsage = input.keyUsage ?? ('defaultUsage' in spec ? spec.defaultUsage : undefined);
        if (keyUsage === undefined) {
          throw new ValidationError('You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.');
        }
        if (!Object.hasOwn(spec.usages, keyUsage)) {
          throw new ValidationError(`KeyUsage ${keyUsage} is not compatible with KeySpec ${keySpec}.`);
        }
        const requested = input.rotationPeriodDays === undefined ? kc.settings.defaultRotationPeriodDays : input.rotationPeriodDays;
        if (!spec.rotatable && input.rotationPeriodDays !== undefined && input.rotationPeriodDays !== null) {
          throw new ValidationError(`Keys of spec ${keySpec} cannot rotate automatically.`);
        }
        const external = input.origin === 'EXTERNAL';
        const hsm = input.origin === 'AWS_CLOUDHSM';
        if (hsm !== (input.customKeyStoreId !== undefined)) {
          throw new ValidationError('A key in a custom key store needs both Origin AWS_CLOUDHSM and a CustomKeyStoreId.');
        }
        // AWS: a custom key store holds only symmetric encryption keys, which do not rotate automatically.
        if (hsm && (keySpec !== 'SYMMETRIC_DEFAULT' || keyUsage !== 'ENCRYPT_DECRYPT')) {
          throw new UnsupportedError('A custom key store holds only SYMMETRIC_DEFAULT keys for ENCRYPT_DECRYPT.');
        }
        const period = spec.rotatable && !external && !hsm ? requested : null;
        if (period !== null) checkInteger('RotationPeriodInDays', period, LIMITS.rotationPeriodDays);
        const now = clock.now();
        const id = randomUuid();
        const policy =
          input.policy === undefined
            ? null
            : checkPolicy(kc.policies, input.policy, ctx, keyArn(scope, id), input.bypassPolicyLockoutSafetyCheck === true);
        const key: KeyRecord = {
          id,
          createdAt: now,
          description: checkDescription(input.description ?? ''),
          keySpec,
          keyUsage,
          origin: external ? 'EXTERNAL' : hsm ? 'AWS_CLOUDHSM' : 'AWS_KMS',
          state: external ? 'PendingImport' : 'Enabled',
          currentVersion: external ? 0 : 1,
          rotationPeriodDays: period,
          nextRotationAt: period === null ? null : addDays(now, period),
          deletionAt: null,
          pendingWindowDays: null,
          tags: checkTags(input.tags ?? {}),
          policy,
        };
        Object.assign(op.details, { keySpec, keyUsage, origin: key.origin, rotationPeriodDays: period });
        op.respond({ keyMetadata: { keyId: id, arn: keyArn(scope, id), keySpec, keyUsage, origin: key.origin, keyState: key.state } }, keyArn(scope, id));
        await op.beforeChange();
        if (hsm) {
          op.details.customKeyStoreId = input.customKeyStoreId;
          const customKeyStore = await hsmKeys.createKey(input.customKeyStoreId!, key);
          return { ...describeRecord(scope, key), customKeyStore };
        }
        const first = external ? null : await material.newVersion(id, 1, await newMaterial(keySpec), 'ORIGINAL', now);
        await storage.createKey(key, first);
        return describeRecord(scope, key);
      });
    },

    /** Any state. Accepts aliases. @throws NotFoundError */
    describe(ctx: RequestContext, identifier: string): Promise<KeyDescription> {
      return run(ctx, 'DescribeKey', { readOnly: true }, async (op) => {
        const key = await resolver.resolve(identifier, { allowAlias: true });
        await op.authorize(key, undefined, aliasCondition(identifier));
        const customKeyStore = await hsmKeys.describe(key);
        return customKeyStore ? { ...describeRecord(scope, key), customKeyStore } : describeRecord(scope, key);
      });
    },

    /** Every key in every state, ordered by id. @throws InvalidMarkerError, ValidationError */
    list(ctx: RequestContext, page: { limit?: number; marker?: string }): Promise<Page<KeyDescription>> {
      return run(ctx, 'ListKeys', { readOnly: true }, async (op) => {
        await op.authorize(null);
        const limit = checkInteger('Limit', page.limit ?? 100, LIMITS.listKeys);
        const result = await storage.listKeys({ limit, ...(page.marker === undefined ? {} : { marker: page.marker }) });
        return { ...result, items: result.items.map((k) => describeRecord(scope, k)) };
      });
    },

    updateDescription: (ctx: RequestContext, identifier: string, description: string) =>
      mutate(ctx, 'UpdateKeyDescription', identifier, 'manage', () => ({ description: checkDescription(description) })),

    enable: (ctx: RequestContext, identifier: string) =>
      mutate(ctx, 'EnableKey', identifier, 'toggle', () => ({ state: 'Enabled' })),

    disable: (ctx: RequestContext, identifier: string) =>
      mutate(ctx, 'DisableKey', identifier, 'toggle', () => ({ state: 'Disabled' })),

    tag: (ctx: RequestContext, identifier: string, tags: Record<string, string>) =>
      mutate(ctx, 'TagResource', identifier, 'manage', (key) => ({ tags: checkTags({ ...key.tags, ...tags }) }), { requestTags: tags }),

    untag: (ctx: RequestContext, identifier: string, tagKeys: readonly string[]) =>
      mutate(ctx, 'UntagResource', identifier, 'manage', (key) => ({
        tags: Object.fromEntries(Object.entries(key.tags).filter(([k]) => !tagKeys.includes(k))),
      })),

    /** The key's tags, in any state. @throws NotFoundError */
    listTags(ctx: RequestContext, identifier: string): Promise<Record<string, string>> {
      return run(ctx, 'ListResourceTags', { readOnly: true }, async (op) => {
        const key = await resolver.resolve(identifier, { allowAlias: false });
        await op.authorize(key);
        return key.tags;
      });
    },

    /** PendingDeletion for 7-30 days (default 30); the deletion job destroys the material afterwards. */
    scheduleDeletion: (ctx: RequestContext, identifier: string, pendingWindowDays = 30) =>
      mutate(ctx, 'ScheduleKeyDeletion', identifier, 'manage', () => ({
        state: 'PendingDeletion',
        pendingWindowDays: checkInteger('PendingWindowInDays', pendingWindowDays, LIMITS.pendingWindowDays),
        deletionAt: addDays(clock.now(), pendingWindowDays),
      })),

    /** AWS KMS: a cancelled deletion leaves the key Disabled (PendingImport if it has no material). */
    cancelDeletion: (ctx: RequestContext, identifier: string) =>
      mutate(ctx, 'CancelKeyDeletion', identifier, 'cancelDeletion', (key) => ({
        state: key.currentVersion === 0 ? 'PendingImport' : 'Disabled',
        deletionAt: null,
        pendingWindowDays: null,
      })),
  };
}

export type KeyLifecycle = ReturnType<typeof createKeyLifecycle>;

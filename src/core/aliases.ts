/**
 * Aliases: friendly names for keys. AWS KMS alias rules (../shared/reference/aws-kms-protocol.md §2.5):
 * `alias/` prefix, `[a-zA-Z0-9/_-]`, at most 256 characters, `alias/aws/` reserved, unique, at most 50 per key;
 * the target is a key id or ARN, not pending deletion; UpdateAlias only between keys of the same spec and usage.
 */
import { AlreadyExistsError, InvalidAliasNameError, LimitExceededError, NotFoundError, ValidationError } from '../errors/index.js';
import type { AliasRecord, Page } from '../ports/storage.js';
import { aliasArn, keyArn } from './arn.js';
import type { KeyContext } from './key-context.js';
import { assertState } from './key-state-rules.js';
import { LIMITS, checkInteger } from './limits.js';
import type { RequestContext } from './request-context.js';

const ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]+$/;
const MAX_ALIASES_PER_KEY = 50;

export interface AliasDescription extends AliasRecord {
  arn: string;
}

/** @throws ValidationError or InvalidAliasNameError */
export function checkAliasName(name: string): string {
  if (!name.startsWith('alias/')) {
    throw new ValidationError('Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html');
  }
  if (name.length > 256 || !ALIAS_NAME.test(name)) {
    throw new InvalidAliasNameError(`Alias name ${name} contains invalid characters or is longer than 256 characters.`);
  }
  if (name.startsWith('alias/aws/')) throw new InvalidAliasNameError('Alias names beginning with alias/aws/ are reserved for AWS.');
  return name;
}

export function createAliases(kc: KeyContext) {
  const { storage, run, clock, scope, resolver } = kc;
  const describeAlias = (a: AliasRecord): AliasDescription => ({ ...a, arn: aliasArn(scope, a.name) });

  const targetKey = async (targetKeyId: string) => {
    const key = await resolver.resolve(targetKeyId, { allowAlias: false });
    assertState('manage', key.state, keyArn(scope, key.id));
    return key;
  };

  return {
    /** @throws AlreadyExistsError, InvalidAliasNameError, NotFoundError, InvalidStateError, LimitExceededError */
    create(ctx: RequestContext, name: string, targetKeyId: string): Promise<AliasDescription> {
      return run(ctx, 'CreateAlias', { readOnly: false }, async (op) => {
        op.details.aliasName = name;
        const key = await resolver.resolve(targetKeyId, { allowAlias: false });
        await op.authorize(key);
        checkAliasName(name);
        assertState('manage', key.state, keyArn(scope, key.id));
        const existing = await storage.listAliases({ keyId: key.id, limit: MAX_ALIASES_PER_KEY });
        if (existing.items.length >= MAX_ALIASES_PER_KEY) {
          throw new LimitExceededError(`${keyArn(scope, key.id)} already has ${MAX_ALIASES_PER_KEY} aliases.`);
        }
        await op.beforeChange();
        const now = clock.now();
        const alias = { name, keyId: key.id, createdAt: now, updatedAt: now };
        try {
          await storage.createAlias(alias);
        } catch (err) {
          if (err instanceof AlreadyExistsError) throw new AlreadyExistsError(`An alias with the name ${aliasArn(scope, name)} already exists`);
          throw err;
        }
        return describeAlias(alias);
      });
    },

    /** Points an alias at another key of the same spec and usage. */
    update(ctx: RequestContext, name: string, targetKeyId: string): Promise<AliasDescription> {
      return run(ctx, 'UpdateAlias', { readOnly: false }, async (op) => {
        op.details.aliasName = name;
        const alias = await storage.getAlias(checkAliasName(name));
        if (!alias) throw new NotFoundError(`Alias ${aliasArn(scope, name)} is not found.`, { resource: aliasArn(scope, name) });
        const key = await targetKey(targetKeyId);
        await op.authorize(key);
        const current = await storage.getKey(alias.keyId);
        if (current && (current.keySpec !== key.keySpec || current.keyUsage !== key.keyUsage)) {
          throw new ValidationError('An alias can only move to a key of the same key spec and key usage.');
        }
        await op.beforeChange();
        const now = clock.now();
        if (!(await storage.updateAlias(name, key.id, now))) throw new NotFoundError(`Alias ${aliasArn(scope, name)} is not found.`);
        return describeAlias({ ...alias, keyId: key.id, updatedAt: now });
      });
    },

    delete(ctx: RequestContext, name: string): Promise<void> {
      return run(ctx, 'DeleteAlias', { readOnly: false }, async (op) => {
        op.details.aliasName = name;
        const alias = await storage.getAlias(checkAliasName(name));
        if (!alias) throw new NotFoundError(`Alias ${aliasArn(scope, name)} is not found.`, { resource: aliasArn(scope, name) });
        const key = await storage.getKey(alias.keyId);
        if (!key) throw new NotFoundError(`Alias ${aliasArn(scope, name)} is not found.`, { resource: aliasArn(scope, name) });
        await op.authorize(key);
        await op.beforeChange();
        if (!(await storage.deleteAlias(name))) throw new NotFoundError(`Alias ${aliasArn(scope, name)} is not found.`);
      });
    },

    /** Aliases ordered by name, optionally of one key (id or ARN). */
    list(ctx: RequestContext, page: { keyId?: string; limit?: number; marker?: string }): Promise<Page<AliasDescription>> {
      return run(ctx, 'ListAliases', { readOnly: true }, async (op) => {
        await op.authorize(null);
        const limit = checkInteger('Limit', page.limit ?? 50, LIMITS.listAliases);
        const keyId = page.keyId === undefined ? undefined : (await resolver.resolve(page.keyId, { allowAlias: false })).id;
        const result = await storage.listAliases({
          limit,
          ...(keyId === undefined ? {} : { keyId }),
          ...(page.marker === undefined ? {} : { marker: page.marker }),
        });
        return { ...result, items: result.items.map(describeAlias) };
      });
    },
  };
}

export type Aliases = ReturnType<typeof createAliases>;

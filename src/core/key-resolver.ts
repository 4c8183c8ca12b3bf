/**
 * Turns a caller's key identifier into a key: key id, key ARN, and (for crypto operations and DescribeKey)
 * alias name or alias ARN. AWS KMS §2.2: management operations accept only key id or key ARN.
 * Error texts follow AWS: `Invalid keyId '<x>'`, `Key '<arn>' does not exist`, `Invalid arn <region>`,
 * `Alias <alias arn> is not found.`
 */
import { NotFoundError } from '../errors/index.js';
import type { KeyRecord, Storage } from '../ports/storage.js';
import { aliasArn, keyArn, parseKmsArn, type AccountScope } from './arn.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function isKeyId(value: string): boolean {
  return UUID.test(value);
}

export interface KeyResolver {
  /** @throws NotFoundError (ERR_NOT_FOUND) */
  resolve(identifier: string, options: { allowAlias: boolean }): Promise<KeyRecord>;
}

export function createKeyResolver(deps: { storage: Storage; scope: AccountScope }): KeyResolver {
  const { storage, scope } = deps;

  const invalid = (identifier: string) => new NotFoundError(`Invalid keyId '${identifier}'`);

  const target = (identifier: string): { keyId: string } | { alias: string } => {
    if (isKeyId(identifier)) return { keyId: identifier };
    if (identifier.startsWith('alias/')) return { alias: identifier };
    const arn = parseKmsArn(identifier);
    if (!arn) throw invalid(identifier);
    if (arn.region !== scope.region || arn.accountId !== scope.accountId) throw new NotFoundError(`Invalid arn ${arn.region}`);
    if (arn.resource.startsWith('alias/')) return { alias: arn.resource };
    const keyId = arn.resource.slice('key/'.length);
    if (!isKeyId(keyId)) throw invalid(identifier);
    return { keyId };
  };

  const load = async (keyId: string) => {
    const key = await storage.getKey(keyId);
    if (!key) throw new NotFoundError(`Key '${keyArn(scope, keyId)}' does not exist`, { resource: keyArn(scope, keyId) });
    return key;
  };

  return {
    async resolve(identifier, { allowAlias }) {
      const t = target(identifier);
      if ('keyId' in t) return load(t.keyId);
      if (!allowAlias) throw invalid(identifier);
      const alias = await storage.getAlias(t.alias);
      if (!alias) throw new NotFoundError(`Alias ${aliasArn(scope, t.alias)} is not found.`, { resource: aliasArn(scope, t.alias) });
      return load(alias.keyId);
    },
  };
}

/**
 * Bearer tokens for the native API: issued to a principal with a TTL, listed and revoked by their accessor.
 * Invariants: the token is returned once and stored only as its SHA-256 hash; every token expires (default one
 * day, at most a year); revocation deletes the hash, and the authenticator's cache forgets it within a second.
 */
import { NotFoundError } from '../errors/index.js';
import type { TokenRecord } from '../ports/storage.js';
import { checkInteger } from '../core/limits.js';
import type { RequestContext } from '../core/request-context.js';
import { newBearerToken } from './credentials.js';
import { anyPrincipal, credentialGrantsDecryption, ddAction, principalNamed, type IdentityContext } from './identity-context.js';

export const TOKEN_TTL_SECONDS = { default: 86_400, min: 60, max: 365 * 86_400 } as const;
const ACCESSOR = /^[A-Za-z0-9_-]{16}$/;

export function tokenView(token: TokenRecord, principalName: string) {
  return {
    accessor: token.accessor,
    principal: principalName,
    createdAt: token.createdAt.toISOString(),
    expiresAt: token.expiresAt?.toISOString() ?? null,
  };
}

export function createTokens(ic: IdentityContext) {
  const { storage, run, clock } = ic;

  return {
    /** @returns the token (shown once) and its accessor. @throws NotFoundError, ValidationError */
    create(ctx: RequestContext, principalName: string, options: { ttlSeconds?: number } = {}) {
      return run(ctx, 'CreateToken', { readOnly: false, action: ddAction('CreateToken') }, async (op) => {
        const principal = await principalNamed(ic, principalName);
        op.details.principal = principal.arn;
        await op.authorize({ arn: principal.arn }, undefined, undefined, { sensitive: await credentialGrantsDecryption(ic, ctx.caller.principalId, principal) });
        const ttl = checkInteger('TtlSeconds', options.ttlSeconds ?? TOKEN_TTL_SECONDS.default, TOKEN_TTL_SECONDS);
        const now = clock.now();
        const issued = newBearerToken();
        const record: TokenRecord = { hash: issued.hash, accessor: issued.accessor, principalId: principal.id, createdAt: now, expiresAt: new Date(now.getTime() + ttl * 1000) };
        op.respond({ token: { accessor: issued.accessor, expiresAt: record.expiresAt?.toISOString() ?? null } });
        await op.beforeChange();
        await storage.createToken(record);
        return { ...tokenView(record, principal.name), token: issued.token };
      });
    },

    list(ctx: RequestContext, principalName: string) {
      return run(ctx, 'ListTokens', { readOnly: true, action: ddAction('ListTokens') }, async (op) => {
        const principal = await principalNamed(ic, principalName);
        await op.authorize({ arn: principal.arn });
        return (await storage.listTokens(principal.id)).map((t) => tokenView(t, principal.name));
      });
    },

    /** @throws NotFoundError */
    revoke(ctx: RequestContext, accessor: string) {
      return run(ctx, 'RevokeToken', { readOnly: false, action: ddAction('RevokeToken') }, async (op) => {
        const token = ACCESSOR.test(accessor) ? await storage.getTokenByAccessor(accessor) : undefined;
        const principal = token && (await storage.getPrincipal(token.principalId));
        if (!token || !principal) throw new NotFoundError(`Token ${accessor.slice(0, 32)} does not exist.`, anyPrincipal(ic));
        Object.assign(op.details, { principal: principal.arn, accessor });
        await op.authorize({ arn: principal.arn });
        await op.beforeChange();
        if (!(await storage.deleteToken(accessor))) throw new NotFoundError(`Token ${accessor} does not exist.`);
      });
    },
  };
}

export type Tokens = ReturnType<typeof createTokens>;

/**
 * Access keys (SigV4 credentials) of principals: create, list, activate/deactivate, delete.
 * Invariants: at most MAX_ACTIVE_ACCESS_KEYS Active keys per principal (two, so a key rotates without downtime:
 * create the new one, switch clients, deactivate the old one), enforced by the storage atomically; the secret is
 * returned once, at creation, and stored only wrapped by the root of trust with AAD binding the key id; an optional
 * expiry after which the key no longer authenticates.
 */
import { SecretBytes } from '../crypto/index.js';
import { LimitExceededError, NotFoundError, ValidationError } from '../errors/index.js';
import type { AccessKeyRecord, AccessKeyStatus } from '../ports/storage.js';
import { DAY_MS } from '../core/key-context.js';
import { checkInteger } from '../core/limits.js';
import type { RequestContext } from '../core/request-context.js';
import { accessKeyAad, newAccessKeyPair } from './credentials.js';
import { anyPrincipal, credentialGrantsDecryption, ddAction, principalNamed, type IdentityContext } from './identity-context.js';

export const MAX_ACTIVE_ACCESS_KEYS = 2;
const ACCESS_KEY_ID = /^DDAK[A-Z2-7]{16}$/;

/** What lists show: never the secret. */
export function accessKeyView(key: AccessKeyRecord, principalName: string) {
  return {
    accessKeyId: key.id,
    principal: principalName,
    status: key.status,
    createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? null,
  };
}

export function createAccessKeys(ic: IdentityContext) {
  const { storage, run, clock, root } = ic;

  const keyOf = async (id: string) => {
    const key = ACCESS_KEY_ID.test(id) ? await storage.getAccessKey(id) : undefined;
    if (!key) throw new NotFoundError(`Access key ${id.slice(0, 32)} does not exist.`, anyPrincipal(ic));
    const principal = await storage.getPrincipal(key.principalId);
    if (!principal) throw new NotFoundError(`Access key ${id} does not exist.`, anyPrincipal(ic));
    return { key, principal };
  };
  const limitError = () =>
    new LimitExceededError(`A principal can have at most ${MAX_ACTIVE_ACCESS_KEYS} active access keys; deactivate or delete one first.`);

  return {
    /** @returns the new key with its secret (shown once). @throws LimitExceededError, NotFoundError, ValidationError */
    create(ctx: RequestContext, principalName: string, options: { expiresInDays?: number } = {}) {
      return run(ctx, 'CreateAccessKey', { readOnly: false, action: ddAction('CreateAccessKey') }, async (op) => {
        const principal = await principalNamed(ic, principalName);
        op.details.principal = principal.arn;
        await op.authorize({ arn: principal.arn }, undefined, undefined, { sensitive: await credentialGrantsDecryption(ic, ctx.caller.principalId, principal) });
        const days = options.expiresInDays === undefined ? undefined : checkInteger('ExpiresInDays', options.expiresInDays, { min: 1, max: 3650 });
        const now = clock.now();
        const pair = newAccessKeyPair();
        const secret = SecretBytes.copyOf(Buffer.from(pair.secret, 'utf8'));
        const secretWrapped = await root.wrap(secret, accessKeyAad(pair.id)).finally(() => secret.destroy());
        const record: AccessKeyRecord = {
          id: pair.id,
          principalId: principal.id,
          secretWrapped,
          status: 'Active',
          createdAt: now,
          expiresAt: days === undefined ? null : new Date(now.getTime() + days * DAY_MS),
        };
        op.respond({ accessKey: { accessKeyId: pair.id, status: record.status, expiresAt: record.expiresAt?.toISOString() ?? null } });
        await op.beforeChange();
        if (!(await storage.createAccessKey(record, MAX_ACTIVE_ACCESS_KEYS))) throw limitError();
        return { ...accessKeyView(record, principal.name), secretAccessKey: pair.secret };
      });
    },

    list(ctx: RequestContext, principalName: string) {
      return run(ctx, 'ListAccessKeys', { readOnly: true, action: ddAction('ListAccessKeys') }, async (op) => {
        const principal = await principalNamed(ic, principalName);
        await op.authorize({ arn: principal.arn });
        return (await storage.listAccessKeys(principal.id)).map((k) => accessKeyView(k, principal.name));
      });
    },

    /** @throws LimitExceededError when activating a third key, NotFoundError */
    setStatus(ctx: RequestContext, accessKeyId: string, status: AccessKeyStatus) {
      return run(ctx, 'UpdateAccessKey', { readOnly: false, action: ddAction('UpdateAccessKey') }, async (op) => {
        if (status !== 'Active' && status !== 'Inactive') throw new ValidationError('Status must be Active or Inactive.');
        const { key, principal } = await keyOf(accessKeyId);
        Object.assign(op.details, { principal: principal.arn, accessKeyId, status });
        const sensitive = status === 'Active' && (await credentialGrantsDecryption(ic, ctx.caller.principalId, principal));
        await op.authorize({ arn: principal.arn }, undefined, undefined, { sensitive });
        await op.beforeChange();
        const result = await storage.setAccessKeyStatus(key.id, status, MAX_ACTIVE_ACCESS_KEYS);
        if (result === 'limit') throw limitError();
        if (result === 'not-found') throw new NotFoundError(`Access key ${accessKeyId} does not exist.`);
        return accessKeyView({ ...key, status }, principal.name);
      });
    },

    delete(ctx: RequestContext, accessKeyId: string) {
      return run(ctx, 'DeleteAccessKey', { readOnly: false, action: ddAction('DeleteAccessKey') }, async (op) => {
        const { key, principal } = await keyOf(accessKeyId);
        Object.assign(op.details, { principal: principal.arn, accessKeyId });
        await op.authorize({ arn: principal.arn });
        await op.beforeChange();
        if (!(await storage.deleteAccessKey(key.id))) throw new NotFoundError(`Access key ${accessKeyId} does not exist.`);
      });
    },
  };
}

export type AccessKeys = ReturnType<typeof createAccessKeys>;

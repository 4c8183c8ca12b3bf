/**
 * Identity policies: customer-managed policies (IAM JSON documents, at most 32 KB) that administrators create and
 * attach to principals, and the built-in roles, which are read-only managed policies.
 * Invariants: a document is validated (MalformedPolicyError with the reason) before it is stored; a policy that is
 * attached cannot be deleted; updating a policy so that it allows decryption is sensitive under dual control.
 */
import { sha256Hex } from '../crypto/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors/index.js';
import type { ManagedPolicyRecord, Page } from '../ports/storage.js';
import { checkDescription, checkInteger } from '../core/limits.js';
import type { RequestContext } from '../core/request-context.js';
import { ASSIGNABLE_ROLES, builtInRole } from '../policy/built-in-roles.js';
import { parsePolicy } from '../policy/policy-document.js';
import { allowsDecryption } from '../policy/decryption.js';
import { checkName, ddAction, iamArn, type IdentityContext } from './identity-context.js';

const POLICY_NAME_MAX = 128;

export function policyView(p: ManagedPolicyRecord, arn: string) {
  return { name: p.name, arn, description: p.description, document: p.document, createdAt: p.createdAt.toISOString(), updatedAt: p.updatedAt.toISOString() };
}

export function roleView(name: string) {
  const role = builtInRole(name);
  if (!role || !ASSIGNABLE_ROLES.includes(role.name)) throw new NotFoundError(`Role '${name.slice(0, 64)}' does not exist.`);
  return { name: role.name, description: role.description, document: role.document };
}

export function createManagedPolicies(ic: IdentityContext) {
  const { storage, run, clock, scope } = ic;
  const arnOf = (name: string) => iamArn(scope, `policy/${name}`);
  const find = async (name: string) => {
    const policy = await storage.getPolicy(checkName('A policy name', name, POLICY_NAME_MAX));
    if (!policy) throw new NotFoundError(`Policy '${name}' does not exist.`, { resource: arnOf(name) });
    return policy;
  };
  const validDocument = (document: unknown) => {
    if (typeof document !== 'string') throw new ValidationError('The policy document must be JSON text.');
    return { document, decrypts: allowsDecryption(parsePolicy(document, { kind: 'identity' })) };
  };

  return {
    arnOf,

    /** @throws MalformedPolicyError, AlreadyExistsError, ValidationError */
    create(ctx: RequestContext, input: { name: string; document: string; description?: string }) {
      return run(ctx, 'CreatePolicy', { readOnly: false, action: ddAction('CreatePolicy') }, async (op) => {
        const name = checkName('A policy name', input.name, POLICY_NAME_MAX);
        op.details.policy = arnOf(name);
        await op.authorize({ arn: arnOf(name) });
        const { document } = validDocument(input.document);
        const now = clock.now();
        const record: ManagedPolicyRecord = { name, description: checkDescription(input.description ?? ''), document, createdAt: now, updatedAt: now };
        op.details.policyBytes = Buffer.byteLength(document);
        await op.beforeChange();
        await storage.createPolicy(record);
        return policyView(record, arnOf(name));
      });
    },

    get(ctx: RequestContext, name: string) {
      return run(ctx, 'GetPolicy', { readOnly: true, action: ddAction('GetPolicy') }, async (op) => {
        const policy = await find(name);
        await op.authorize({ arn: arnOf(policy.name) });
        return policyView(policy, arnOf(policy.name));
      });
    },

    list(ctx: RequestContext, page: { limit?: number; marker?: string }): Promise<Page<ReturnType<typeof policyView>>> {
      return run(ctx, 'ListPolicies', { readOnly: true, action: ddAction('ListPolicies') }, async (op) => {
        await op.authorize(null);
        const limit = checkInteger('Limit', page.limit ?? 100, { min: 1, max: 1000 });
        const result = await storage.listPolicies({ limit, ...(page.marker === undefined ? {} : { marker: page.marker }) });
        return { ...result, items: result.items.map((p) => policyView(p, arnOf(p.name))) };
      });
    },

    /** @throws MalformedPolicyError, NotFoundError, ApprovalRequiredError */
    update(ctx: RequestContext, input: { name: string; document: string; description?: string }) {
      return run(ctx, 'UpdatePolicy', { readOnly: false, action: ddAction('UpdatePolicy') }, async (op) => {
        const existing = await find(input.name);
        op.details.policy = arnOf(existing.name);
        const { document, decrypts } = validDocument(input.document);
        // The digest names the exact document in the audit trail, and in the request an approval is given for.
        Object.assign(op.details, { policyBytes: Buffer.byteLength(document), policySha256: sha256Hex(document) });
        await op.authorize({ arn: arnOf(existing.name) }, undefined, undefined, { sensitive: decrypts });
        await op.beforeChange();
        const updated = await storage.updatePolicy(existing.name, { document, description: checkDescription(input.description ?? existing.description) }, clock.now());
        if (!updated) throw new NotFoundError(`Policy '${input.name}' does not exist.`);
        return policyView(updated, arnOf(updated.name));
      });
    },

    /** @throws ConflictError while attached, NotFoundError */
    delete(ctx: RequestContext, name: string) {
      return run(ctx, 'DeletePolicy', { readOnly: false, action: ddAction('DeletePolicy') }, async (op) => {
        const policy = await find(name);
        op.details.policy = arnOf(policy.name);
        await op.authorize({ arn: arnOf(policy.name) });
        await op.beforeChange();
        const result = await storage.deletePolicy(policy.name);
        if (result === 'attached') throw new ConflictError(`Policy '${name}' is attached to principals; detach it first.`);
        if (result === 'not-found') throw new NotFoundError(`Policy '${name}' does not exist.`);
      });
    },

    listRoles(ctx: RequestContext) {
      return run(ctx, 'ListRoles', { readOnly: true, action: ddAction('ListRoles') }, async (op) => {
        await op.authorize(null);
        return ASSIGNABLE_ROLES.map(roleView);
      });
    },

    getRole(ctx: RequestContext, name: string) {
      return run(ctx, 'GetRole', { readOnly: true, action: ddAction('GetRole') }, async (op) => {
        await op.authorize(null);
        return roleView(name);
      });
    },
  };
}

export type ManagedPolicies = ReturnType<typeof createManagedPolicies>;

/**
 * Principals: people (`user`, ARN `user/<name>`) and service accounts (`service`, ARN `role/<name>`) with built-in
 * roles, attached managed policies, tags and a disabled flag.
 * Invariants: only the built-in roles but `system` can be given; an attached policy must exist; a change that lets
 * the principal decrypt (a role or policy allowing Decrypt, GenerateDataKey, ...) is sensitive under dual control;
 * nobody deletes or disables themselves (no accidental lockout); deleting a principal deletes its credentials.
 */
import { randomUuid } from '../crypto/index.js';
import { DataDefenderError, NotFoundError, ValidationError } from '../errors/index.js';
import { PRINCIPAL_KINDS, type Page, type PrincipalKind, type PrincipalPatch, type PrincipalRecord } from '../ports/storage.js';
import { checkInteger, checkTags } from '../core/limits.js';
import type { RequestContext } from '../core/request-context.js';
import { isAssignableRole } from '../policy/built-in-roles.js';
import { PRINCIPAL_NAME_MAX, checkName, ddAction, grantsDecryption, iamArn, policyDocuments, principalNamed, type IdentityContext } from './identity-context.js';

export interface CreatePrincipalInput {
  name: string;
  kind?: PrincipalKind;
  roles?: string[];
  policies?: string[];
  tags?: Record<string, string>;
}

function checkRoles(roles: readonly string[]): string[] {
  const unknown = roles.find((r) => !isAssignableRole(r));
  if (unknown !== undefined) throw new ValidationError(`Unknown role '${unknown}'.`);
  return [...new Set(roles)].sort();
}

/** The error `check` throws, as an objection to raise after authorization. */
function objectionOf(check: () => unknown): DataDefenderError | undefined {
  try {
    check();
    return undefined;
  } catch (err) {
    if (err instanceof DataDefenderError) return err;
    throw err;
  }
}

export function createPrincipals(ic: IdentityContext) {
  const { storage, run, clock, scope } = ic;

  const find = (name: string) => principalNamed(ic, name);

  const documentsOf = (names: readonly string[]) => policyDocuments(ic, names);

  /**
   * Load -> plan -> authorize (sensitive when the plan says so) -> the plan's objection, if any -> audit the attempt
   * -> update. A plan reports an objection instead of throwing, so callers without permission learn nothing from it.
   */
  const change = (
    ctx: RequestContext,
    operation: string,
    name: string,
    plan: (p: PrincipalRecord) => Promise<{ patch: PrincipalPatch; sensitive: boolean; objection?: DataDefenderError }>,
  ): Promise<PrincipalRecord> =>
    run(ctx, operation, { readOnly: false, action: ddAction(operation) }, async (op) => {
      const principal = await find(name);
      op.details.principal = principal.arn;
      const { patch, sensitive, objection } = await plan(principal);
      Object.assign(op.details, patch);
      await op.authorize({ arn: principal.arn }, undefined, undefined, { sensitive });
      if (objection) throw objection;
      await op.beforeChange();
      const updated = await storage.updatePrincipal(principal.id, patch, clock.now());
      if (!updated) throw new NotFoundError(`Principal '${name}' does not exist.`);
      return updated;
    });

  const selfObjection = (ctx: RequestContext, principal: PrincipalRecord, what: string) =>
    principal.id === ctx.caller.principalId ? new ValidationError(`You cannot ${what} yourself.`) : undefined;

  return {
    /** @throws ValidationError, AlreadyExistsError, NotFoundError (unknown policy), AccessDeniedError, ApprovalRequiredError */
    create(ctx: RequestContext, input: CreatePrincipalInput): Promise<PrincipalRecord> {
      return run(ctx, 'CreatePrincipal', { readOnly: false, action: ddAction('CreatePrincipal') }, async (op) => {
        const name = checkName('A principal name', input.name, PRINCIPAL_NAME_MAX);
        const kind = input.kind ?? 'user';
        if (!PRINCIPAL_KINDS.includes(kind)) throw new ValidationError(`Kind must be one of ${PRINCIPAL_KINDS.join(', ')}.`);
        const roles = checkRoles(input.roles ?? []);
        const policies = [...new Set(input.policies ?? [])].sort();
        const tags = checkTags(input.tags ?? {});
        const arn = iamArn(scope, `${kind === 'user' ? 'user' : 'role'}/${name}`);
        Object.assign(op.details, { principal: arn, roles, policies });
        const sensitive = grantsDecryption(roles, await documentsOf(policies));
        await op.authorize({ arn }, undefined, { requestTags: tags }, { sensitive });
        await op.beforeChange();
        const now = clock.now();
        const principal: PrincipalRecord = { id: randomUuid(), name, kind, arn, roles, policies, tags, disabled: false, createdAt: now, updatedAt: now };
        await storage.createPrincipal(principal);
        return principal;
      });
    },

    get(ctx: RequestContext, name: string): Promise<PrincipalRecord> {
      return run(ctx, 'GetPrincipal', { readOnly: true, action: ddAction('GetPrincipal') }, async (op) => {
        const principal = await find(name);
        await op.authorize({ arn: principal.arn });
        return principal;
      });
    },

    list(ctx: RequestContext, page: { limit?: number; marker?: string }): Promise<Page<PrincipalRecord>> {
      return run(ctx, 'ListPrincipals', { readOnly: true, action: ddAction('ListPrincipals') }, async (op) => {
        await op.authorize(null);
        const limit = checkInteger('Limit', page.limit ?? 100, { min: 1, max: 1000 });
        return storage.listPrincipals({ limit, ...(page.marker === undefined ? {} : { marker: page.marker }) });
      });
    },

    /** Sets (merges) and removes tags. */
    tag: (ctx: RequestContext, name: string, set: Record<string, string>, remove: readonly string[] = []) =>
      change(ctx, 'UpdatePrincipal', name, async (p) => {
        const tags = Object.fromEntries(Object.entries({ ...p.tags, ...set }).filter(([k]) => !remove.includes(k)));
        const objection = objectionOf(() => checkTags(tags));
        return { patch: { tags }, sensitive: false, ...(objection ? { objection } : {}) };
      }),

    setDisabled: (ctx: RequestContext, name: string, disabled: boolean) =>
      change(ctx, disabled ? 'DisablePrincipal' : 'EnablePrincipal', name, async (p) => {
        const objection = disabled ? selfObjection(ctx, p, 'disable') : undefined;
        return { patch: { disabled }, sensitive: !disabled && grantsDecryption(p.roles, await documentsOf(p.policies)), ...(objection ? { objection } : {}) };
      }),

    addRole: (ctx: RequestContext, name: string, role: string) =>
      change(ctx, 'AddPrincipalRole', name, async (p) => {
        const objection = objectionOf(() => checkRoles([role]));
        return { patch: { roles: objection ? p.roles : checkRoles([...p.roles, role]) }, sensitive: !objection && grantsDecryption([role], []), ...(objection ? { objection } : {}) };
      }),

    removeRole: (ctx: RequestContext, name: string, role: string) =>
      change(ctx, 'RemovePrincipalRole', name, async (p) => ({
        patch: { roles: p.roles.filter((r) => r !== role) },
        sensitive: false,
        ...(p.roles.includes(role) ? {} : { objection: new NotFoundError(`Principal '${name}' does not have role '${role}'.`) }),
      })),

    attachPolicy: (ctx: RequestContext, name: string, policyName: string) =>
      change(ctx, 'AttachPrincipalPolicy', name, async (p) => ({
        patch: { policies: [...new Set([...p.policies, policyName])].sort() },
        sensitive: grantsDecryption([], await documentsOf([policyName])),
      })),

    detachPolicy: (ctx: RequestContext, name: string, policyName: string) =>
      change(ctx, 'DetachPrincipalPolicy', name, async (p) => ({
        patch: { policies: p.policies.filter((n) => n !== policyName) },
        sensitive: false,
        ...(p.policies.includes(policyName) ? {} : { objection: new NotFoundError(`Policy '${policyName}' is not attached to '${name}'.`) }),
      })),

    delete(ctx: RequestContext, name: string): Promise<void> {
      return run(ctx, 'DeletePrincipal', { readOnly: false, action: ddAction('DeletePrincipal') }, async (op) => {
        const principal = await find(name);
        op.details.principal = principal.arn;
        await op.authorize({ arn: principal.arn });
        const objection = selfObjection(ctx, principal, 'delete');
        if (objection) throw objection;
        await op.beforeChange();
        if (!(await storage.deletePrincipal(principal.id))) throw new NotFoundError(`Principal '${name}' does not exist.`);
      });
    },
  };
}

export type Principals = ReturnType<typeof createPrincipals>;

/** Principal shape the APIs return (no internal id). */
export function principalView(p: PrincipalRecord) {
  return {
    name: p.name,
    kind: p.kind,
    arn: p.arn,
    roles: p.roles,
    policies: p.policies,
    tags: p.tags,
    disabled: p.disabled,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

/**
 * What the identity use cases (principals, credentials, identity policies) share, and the rules they have in common.
 * Every one runs through the core's operation runner: authorized (`datadefender:<Operation>`), audited, and under
 * dual control when the change would let someone decrypt.
 */
import { NotFoundError, ValidationError } from '../errors/index.js';
import type { Clock } from '../ports/clock.js';
import type { RootOfTrust } from '../ports/root-of-trust.js';
import type { PrincipalRecord, Storage } from '../ports/storage.js';
import { partitionOf, type AccountScope } from '../core/arn.js';
import type { RunOperation } from '../core/audited-operation.js';
import { builtInRole } from '../policy/built-in-roles.js';
import { allowsDecryption } from '../policy/decryption.js';
import { parsePolicy } from '../policy/policy-document.js';

export interface IdentityContext {
  storage: Storage;
  run: RunOperation;
  clock: Clock;
  scope: AccountScope;
  root: RootOfTrust;
}

/** IAM's name characters. */
const NAME = /^[A-Za-z0-9+=,.@_-]+$/;

/** @throws ValidationError (ERR_VALIDATION) */
export function checkName(what: string, name: string, max: number): string {
  if (typeof name !== 'string' || name.length < 1 || name.length > max || !NAME.test(name)) {
    throw new ValidationError(`${what} must be 1 to ${max} characters of letters, digits and +=,.@_-.`);
  }
  return name;
}

export const PRINCIPAL_NAME_MAX = 64;

/**
 * The principal named `name`. A missing one names its would-be user ARN, so a caller who may not act on
 * principals is told "access denied", as for an existing one (the operation runner decides).
 * @throws ValidationError, NotFoundError
 */
export async function principalNamed(ic: Pick<IdentityContext, 'storage' | 'scope'>, name: string): Promise<PrincipalRecord> {
  const principal = await ic.storage.getPrincipalByName(checkName('A principal name', name, PRINCIPAL_NAME_MAX));
  if (!principal) throw new NotFoundError(`Principal '${name}' does not exist.`, { resource: iamArn(ic.scope, `user/${name}`) });
  return principal;
}

/** The resource a credential lookup names when nothing is found: any principal (the runner then hides the miss from callers who may not act on principals). */
export const anyPrincipal = (ic: Pick<IdentityContext, 'scope'>) => ({ resource: iamArn(ic.scope, 'user/*') });

export const iamArn = (scope: AccountScope, resource: string) => `arn:${partitionOf(scope.region)}:iam::${scope.accountId}:${resource}`;

/** `datadefender:<Operation>`, the action DataDefender's own operations are authorized as. */
export const ddAction = (operation: string) => `datadefender:${operation}`;

/** True when the roles or policy documents would let their holder decrypt. */
export function grantsDecryption(roles: readonly string[], documents: readonly string[]): boolean {
  const parsed = [
    ...roles.flatMap((r) => builtInRole(r)?.policy ?? []),
    ...documents.map((d) => parsePolicy(d, { kind: 'identity' })),
  ];
  return parsed.some(allowsDecryption);
}

/** The documents of the named managed policies. @throws NotFoundError when one does not exist */
export async function policyDocuments(ic: Pick<IdentityContext, 'storage' | 'scope'>, names: readonly string[]): Promise<string[]> {
  return Promise.all(
    names.map(async (n) => {
      const policy = await ic.storage.getPolicy(n);
      if (!policy) throw new NotFoundError(`Policy '${n}' does not exist.`, { resource: iamArn(ic.scope, `policy/${n}`) });
      return policy.document;
    }),
  );
}

/**
 * True when issuing a credential for `principal` is sensitive under dual control: the credential would let its
 * holder act as someone else who may decrypt. A principal's own credentials give it nothing it does not have.
 */
export async function credentialGrantsDecryption(ic: Pick<IdentityContext, 'storage' | 'scope'>, callerId: string, principal: PrincipalRecord): Promise<boolean> {
  return principal.id !== callerId && grantsDecryption(principal.roles, await policyDocuments(ic, principal.policies));
}

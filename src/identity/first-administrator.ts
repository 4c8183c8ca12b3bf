/**
 * `operator init`'s first administrator: the one principal created outside the API, on an empty deployment.
 * Invariants: refused once any principal exists (init runs once; later principals are made through the API by an
 * administrator, under audit); the principal has only the administrator role — it manages keys and principals but
 * cannot use keys (separation of duties); its credentials are returned once and stored only hashed or wrapped.
 */
import { randomUuid } from '../crypto/index.js';
import { ConflictError } from '../errors/index.js';
import type { AccountScope } from '../core/arn.js';
import type { RootOfTrust } from '../ports/root-of-trust.js';
import type { PrincipalRecord, Storage } from '../ports/storage.js';
import { ADMINISTRATOR_ROLE } from '../policy/built-in-roles.js';
import { PRINCIPAL_NAME_MAX, checkName, iamArn } from './identity-context.js';
import { issueInitialCredentials, type InitialCredentials } from './initial-credentials.js';

/** @throws ConflictError when the deployment already has principals; ValidationError for a bad name. */
export async function assertNoPrincipals(storage: Storage): Promise<void> {
  if ((await storage.listPrincipals({ limit: 1 })).items.length > 0) {
    throw new ConflictError('This deployment is already initialized: it has principals. Manage them with datadefender principal.');
  }
}

export async function createFirstAdministrator(deps: {
  storage: Storage;
  root: RootOfTrust;
  scope: AccountScope;
  now: Date;
  name: string;
}): Promise<{ principal: PrincipalRecord; credentials: InitialCredentials }> {
  const { storage, root, scope, now } = deps;
  const name = checkName('The administrator name', deps.name, PRINCIPAL_NAME_MAX);
  await assertNoPrincipals(storage);
  const principal: PrincipalRecord = {
    id: randomUuid(),
    name,
    kind: 'user',
    arn: iamArn(scope, `user/${name}`),
    roles: [ADMINISTRATOR_ROLE],
    policies: [],
    tags: {},
    disabled: false,
    createdAt: now,
    updatedAt: now,
  };
  await storage.createPrincipal(principal);
  return { principal, credentials: await issueInitialCredentials(storage, root, principal, now) };
}

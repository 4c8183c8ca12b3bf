/**
 * Dev mode's administrator: a principal `admin` with the administrator and data-engineer roles (so one developer can
 * both manage and use keys; production separates them), a bearer token and an access key,
 * written to DIR/dev-credentials.json (mode 0600) per the dev-mode contract (DESIGN.md §6).
 * Restarting on the same data dir keeps the file and its credentials; if the file is gone, new credentials
 * are issued for the same principal.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { randomUuid } from '../crypto/index.js';
import { AlreadyExistsError } from '../errors/index.js';
import type { RootOfTrust } from '../ports/root-of-trust.js';
import type { PrincipalRecord, Storage } from '../ports/storage.js';
import { partitionOf, type AccountScope } from '../core/arn.js';
import { issueInitialCredentials } from './initial-credentials.js';
import { ADMINISTRATOR_ROLE } from '../policy/built-in-roles.js';

/** The dev administrator's roles. */
export const DEV_ADMIN_ROLES = [ADMINISTRATOR_ROLE, 'data-engineer'];

export interface DevCredentials {
  endpoint: string;
  region: string;
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
  token: string;
  caCertFile: string;
  principalArn: string;
}

async function ensureAdmin(storage: Storage, scope: AccountScope, now: Date): Promise<PrincipalRecord> {
  const existing = await storage.getPrincipalByName('admin');
  if (existing) return existing;
  const admin: PrincipalRecord = {
    id: randomUuid(),
    name: 'admin',
    kind: 'user',
    arn: `arn:${partitionOf(scope.region)}:iam::${scope.accountId}:user/admin`,
    roles: DEV_ADMIN_ROLES,
    policies: [],
    tags: {},
    disabled: false,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await storage.createPrincipal(admin);
    return admin;
  } catch (err) {
    // Another process on the same database created it first.
    const raced = err instanceof AlreadyExistsError ? await storage.getPrincipalByName('admin') : undefined;
    if (!raced) throw err;
    return raced;
  }
}

async function readExisting(file: string, endpoint: string, caCertFile: string): Promise<DevCredentials | undefined> {
  try {
    const saved = JSON.parse(await readFile(file, 'utf8')) as DevCredentials;
    return { ...saved, endpoint, caCertFile };
  } catch {
    return undefined;
  }
}

export async function ensureDevCredentials(deps: {
  storage: Storage;
  root: RootOfTrust;
  scope: AccountScope;
  now: Date;
  file: string;
  endpoint: string;
  caCertFile: string;
}): Promise<DevCredentials> {
  const { storage, root, scope, now, file, endpoint, caCertFile } = deps;
  const admin = await ensureAdmin(storage, scope, now);
  const existing = await readExisting(file, endpoint, caCertFile);
  const valid = existing && (await storage.getAccessKey(existing.accessKeyId))?.principalId === admin.id;
  const credentials = valid ? existing : await issue(storage, root, admin, now, { endpoint, caCertFile, ...scope });
  await writeFile(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  return credentials;
}

async function issue(
  storage: Storage,
  root: RootOfTrust,
  admin: PrincipalRecord,
  now: Date,
  where: { endpoint: string; caCertFile: string; region: string; accountId: string },
): Promise<DevCredentials> {
  const issued = await issueInitialCredentials(storage, root, admin, now);
  return { endpoint: where.endpoint, region: where.region, accountId: where.accountId, ...issued, caCertFile: where.caCertFile, principalArn: admin.arn };
}

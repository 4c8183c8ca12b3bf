/**
 * The first credentials of a principal created outside the API (dev mode's administrator, `operator init`'s first
 * administrator): a bearer token and an access key pair.
 * Invariants: the token is stored only as its hash and the access-key secret only wrapped by the root of trust;
 * the clear values exist only in the returned object, which the caller writes to a file of mode 0600 once.
 */
import { SecretBytes } from '../crypto/index.js';
import { LimitExceededError } from '../errors/index.js';
import type { RootOfTrust } from '../ports/root-of-trust.js';
import type { PrincipalRecord, Storage } from '../ports/storage.js';
import { accessKeyAad, newAccessKeyPair, newBearerToken } from './credentials.js';

export interface InitialCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  token: string;
}

/** @throws LimitExceededError when the principal already has two active access keys. */
export async function issueInitialCredentials(storage: Storage, root: RootOfTrust, principal: PrincipalRecord, now: Date): Promise<InitialCredentials> {
  const token = newBearerToken();
  await storage.createToken({ hash: token.hash, accessor: token.accessor, principalId: principal.id, createdAt: now, expiresAt: null });
  const pair = newAccessKeyPair();
  const secretWrapped = await root.wrap(SecretBytes.copyOf(Buffer.from(pair.secret, 'utf8')), accessKeyAad(pair.id));
  if (!(await storage.createAccessKey({ id: pair.id, principalId: principal.id, secretWrapped, status: 'Active', createdAt: now, expiresAt: null }, 2))) {
    throw new LimitExceededError(`${principal.name} already has two active access keys; delete one (datadefender access-key delete).`);
  }
  return { accessKeyId: pair.id, secretAccessKey: pair.secret, token: token.token };
}

// Adds a principal with an access key to a dev server's data directory, through the same storage and root of
// trust the server uses (until principal management lands in issue #4, this is how tests get a second identity).
import { join } from 'node:path';
import { openLocalRootOfTrust } from '../../src/adapters/root-of-trust/local/local-root-of-trust.js';
import { openSqliteStorage } from '../../src/adapters/storage/sqlite/index.js';
import { SecretBytes, randomUuid } from '../../src/crypto/index.js';
import { accessKeyAad, newAccessKeyPair } from '../../src/identity/credentials.js';
import type { DevCredentialsFile } from './rest-client.js';

/** Credentials of a new user `name` with `roles` in the account of `admin`. */
export async function addPrincipal(dataDir: string, admin: DevCredentialsFile, name: string, roles: string[] = []): Promise<DevCredentialsFile> {
  const storage = await openSqliteStorage({ file: join(dataDir, 'datadefender.db') });
  try {
    const root = await openLocalRootOfTrust(join(dataDir, 'root.key'));
    const now = new Date();
    const arn = `arn:aws:iam::${admin.accountId}:user/${name}`;
    const principal = { id: randomUuid(), name, arn, roles, disabled: false, createdAt: now };
    await storage.createPrincipal(principal);
    const pair = newAccessKeyPair();
    const secretWrapped = await root.wrap(SecretBytes.copyOf(Buffer.from(pair.secret, 'utf8')), accessKeyAad(pair.id));
    await storage.createAccessKey({ id: pair.id, principalId: principal.id, secretWrapped, status: 'Active', createdAt: now });
    return { ...admin, accessKeyId: pair.id, secretAccessKey: pair.secret, token: '', principalArn: arn };
  } finally {
    await storage.close();
  }
}

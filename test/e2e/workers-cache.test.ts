// `server --workers 2` with the default cache settings: each worker caches key metadata, callers and key material
// on its own, yet a change made through one worker is seen by every worker within one second — deletion scheduled,
// rotation on demand, an IAM policy edited to deny, a token revoked, a principal deleted. (Disable is covered in
// workers.test.ts.) Every request opens a new connection, so requests spread over both workers.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnServer, type RunningProcess } from '../helpers/dev-server.js';
import { addPrincipal } from '../helpers/principals.js';
import { b64, restClient, type DevCredentialsFile } from '../helpers/rest-client.js';

const CLOSE = { connection: 'close' };
const WITHIN_A_SECOND = 1100;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('server --workers 2: caches see changes from the other worker within a second', () => {
  let dir: string;
  let server: RunningProcess;
  let admin: DevCredentialsFile;
  let engineer: DevCredentialsFile;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-workers-cache-'));
    const port = await freePort();
    server = await spawnServer(['--dev', '--data-dir', dir, '--listen', `127.0.0.1:${port}`, '--workers', '2']);
    admin = JSON.parse(await readFile(join(dir, 'dev-credentials.json'), 'utf8')) as DevCredentialsFile;
    const policy = { Version: '2012-10-17', Statement: [{ Sid: 'UseKeys', Effect: 'Allow', Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:CreateKey'], Resource: '*' }] };
    expect((await restClient(admin)('POST', '/v1/policies', { name: 'app-keys', document: JSON.stringify(policy) }, CLOSE)).status).toBe(201);
    engineer = await addPrincipal(admin, 'app', { roles: ['data-engineer'] });
  });

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** A fresh key, used through both workers so that both have it cached. */
  const warmKey = async (creds: DevCredentialsFile) => {
    const { keyId } = (await restClient(admin)('POST', '/v1/keys', {}, CLOSE)).body.key as { keyId: string };
    const encrypt = () => restClient(creds)('POST', '/v1/encrypt', { keyId, plaintext: b64('x') }, CLOSE);
    for (let i = 0; i < 4; i++) expect((await encrypt()).status).toBe(200);
    return { keyId, encrypt };
  };
  const fromBothWorkers = async (call: () => Promise<{ status: number; body: any }>) => Promise.all(Array.from({ length: 6 }, call));

  it('a key scheduled for deletion is refused by every worker', async () => {
    const { keyId, encrypt } = await warmKey(engineer);
    expect((await restClient(admin)('POST', `/v1/keys/${keyId}/schedule-deletion`, { pendingWindowInDays: 7 }, CLOSE)).status).toBe(200);
    await pause(WITHIN_A_SECOND);
    expect((await fromBothWorkers(encrypt)).map((r) => r.status)).toEqual(Array(6).fill(409));
  });

  it('after a rotation on demand every worker encrypts under the new version', async () => {
    const { keyId, encrypt } = await warmKey(engineer);
    expect((await fromBothWorkers(encrypt)).map((r) => r.body.keyVersion)).toEqual(Array(6).fill(1));
    expect((await restClient(admin)('POST', `/v1/keys/${keyId}/rotate`, {}, CLOSE)).status).toBe(200);
    await pause(WITHIN_A_SECOND);
    expect((await fromBothWorkers(encrypt)).map((r) => r.body.keyVersion)).toEqual(Array(6).fill(2));
  });

  it('an attached IAM policy edited to deny takes effect in every worker', async () => {
    const scoped = await addPrincipal(admin, 'scoped', { policies: ['app-keys'] });
    const { encrypt } = await warmKey(scoped);
    const deny = { Version: '2012-10-17', Statement: [{ Sid: 'Stop', Effect: 'Deny', Action: 'kms:*', Resource: '*' }] };
    expect((await restClient(admin)('PUT', '/v1/policies/app-keys', { document: JSON.stringify(deny) }, CLOSE)).status).toBe(200);
    await pause(WITHIN_A_SECOND);
    expect((await fromBothWorkers(encrypt)).map((r) => r.body.code)).toEqual(Array(6).fill('ERR_ACCESS_DENIED'));
  });

  it('a revoked token and a deleted principal are refused by every worker', async () => {
    const temp = await addPrincipal(admin, 'temp', { roles: ['data-engineer'] });
    const { encrypt } = await warmKey(temp);
    const tokens = (await restClient(admin)('GET', '/v1/principals/temp/tokens', undefined, CLOSE)).body.tokens as { accessor: string }[];
    expect(tokens).toHaveLength(1);
    expect((await restClient(admin)('DELETE', `/v1/tokens/${tokens[0]!.accessor}`, undefined, CLOSE)).status).toBe(204);
    await pause(WITHIN_A_SECOND);
    expect((await fromBothWorkers(encrypt)).map((r) => r.status)).toEqual(Array(6).fill(401));

    const other = await addPrincipal(admin, 'leaver', { roles: ['data-engineer'] });
    const second = await warmKey(other);
    expect((await restClient(admin)('DELETE', '/v1/principals/leaver', undefined, CLOSE)).status).toBe(204);
    await pause(WITHIN_A_SECOND);
    expect((await fromBothWorkers(second.encrypt)).map((r) => r.status)).toEqual(Array(6).fill(401));
  });
});

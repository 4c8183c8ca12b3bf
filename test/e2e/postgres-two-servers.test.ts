/**
 * Two server processes on one PostgreSQL database: concurrent rotations of the same key leave consistent,
 * gap-free versions, and each server decrypts what the other encrypted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';
import { b64, restClient, unb64 } from '../helpers/rest-client.js';

const PG_URL = process.env.DATADEFENDER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('two servers on one PostgreSQL', () => {
  const schema = `dd_e2e_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  let dir: string;
  let a: DevServer;
  let b: DevServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-pg2-'));
    const env = { DATADEFENDER_DATABASE_URL: PG_URL, DATADEFENDER_DATABASE_SCHEMA: schema };
    a = await startDevServer(dir, { env });
    b = await startDevServer(dir, { env });
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports PostgreSQL storage', async () => {
    expect((await restClient(a.credentials)('GET', '/v1/health')).body.storage).toBe('postgres');
  });

  it('rotates one key concurrently from both servers without gaps or duplicates', async () => {
    const restA = restClient(a.credentials);
    const restB = restClient(b.credentials);
    const keyId: string = (await restA('POST', '/v1/keys', {})).body.key.keyId;
    const v1 = await restB('POST', '/v1/encrypt', { keyId, plaintext: b64('written by B at v1') });

    const rotations = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? restA : restB)('POST', `/v1/keys/${keyId}/rotate`)),
    );
    expect(rotations.map((r) => r.status)).toEqual(Array(20).fill(200));
    const versions = rotations.map((r) => r.body.key.currentVersion as number).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));

    const listed = (await restB('GET', `/v1/keys/${keyId}/rotations`)).body.rotations.map((r: { version: number }) => r.version);
    expect(listed).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    expect((await restA('GET', `/v1/keys/${keyId}`)).body.key.currentVersion).toBe(21);

    const v21 = await restA('POST', '/v1/encrypt', { keyId, plaintext: b64('written by A at v21') });
    expect(v21.body.keyVersion).toBe(21);
    expect(unb64((await restA('POST', '/v1/decrypt', { ciphertext: v1.body.ciphertext })).body.plaintext)).toBe('written by B at v1');
    expect(unb64((await restB('POST', '/v1/decrypt', { ciphertext: v21.body.ciphertext })).body.plaintext)).toBe('written by A at v21');
  });

  it('sees a key disabled through the other server within the one-second metadata cache', async () => {
    const restA = restClient(a.credentials);
    const restB = restClient(b.credentials);
    const keyId: string = (await restA('POST', '/v1/keys', {})).body.key.keyId;
    expect((await restB('POST', '/v1/encrypt', { keyId, plaintext: b64('warm the cache') })).status).toBe(200);
    expect((await restA('POST', `/v1/keys/${keyId}/disable`)).status).toBe(200);
    expect((await restA('POST', '/v1/encrypt', { keyId, plaintext: b64('x') })).body.code).toBe('ERR_KEY_DISABLED');
    await new Promise((r) => setTimeout(r, 1_100));
    const refused = await restB('POST', '/v1/encrypt', { keyId, plaintext: b64('x') });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('ERR_KEY_DISABLED');
  });
});

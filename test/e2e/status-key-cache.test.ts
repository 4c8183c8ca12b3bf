// Status of a production server on the local-sealed root, through the real CLI and REST: the key cache fills with use,
// shows its hit rate, and sealing empties it (nothing unwrapped survives a seal); `datadefender status` reports the seal.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/protocols/rest/routes/system.js';
import { kmsClient } from '../helpers/aws-clients.js';
import { freePort, runCli, spawnServer, type RunningProcess } from '../helpers/dev-server.js';
import { addPrincipal } from '../helpers/principals.js';
import { restClient, type DevCredentialsFile } from '../helpers/rest-client.js';

describe('status and the key cache across a seal', () => {
  let dir: string;
  let dataDir: string;
  let shareDir: string;
  let server: RunningProcess | undefined;
  let admin: DevCredentialsFile;
  const credentialsFile = () => join(dataDir, 'admin-credentials.json');
  const cli = (...args: string[]) => runCli([...args, '--credentials', credentialsFile()]);
  const unseal = async () => {
    const r = await cli('operator', 'unseal', '--share-file', join(shareDir, 'unseal-share-1.txt'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Unsealed/);
  };
  const status = async (): Promise<StatusReport> => {
    const r = await restClient(admin)('GET', '/v1/status');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body as StatusReport;
  };
  const statusText = async () => {
    const r = await cli('status');
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-status-'));
    dataDir = join(dir, 'data');
    shareDir = join(dir, 'shares');
    await mkdir(shareDir);
    const port = await freePort();
    const init = await runCli(['operator', 'init', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--shares', '1', '--threshold', '1', '--share-dir', shareDir]);
    expect(init.code, init.stderr).toBe(0);
    admin = JSON.parse(await readFile(credentialsFile(), 'utf8')) as DevCredentialsFile;
    server = await spawnServer(['--data-dir', dataDir, '--listen', `127.0.0.1:${port}`]);
  });

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts sealed: status says so in JSON and in the CLI text', async () => {
    const s = await status();
    expect(s.status).toBe('sealed');
    expect(s.root.sealed).toBe(true);
    expect(await statusText()).toMatch(/^Sealed: +yes$/m);
  });

  it('fills the key cache with an Encrypt and a Decrypt, and shows its hit rate', async () => {
    await unseal();
    expect(await statusText()).toMatch(/^Sealed: +no$/m);
    const engineer = await addPrincipal(admin, 'engineer', { roles: ['data-engineer'] });
    const aws = kmsClient(engineer);
    const keyId = (await aws.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const ciphertext = (await aws.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('4111111111111111') }))).CiphertextBlob!;
    expect(Buffer.from((await aws.send(new DecryptCommand({ CiphertextBlob: ciphertext }))).Plaintext!).toString()).toBe('4111111111111111');

    const { keyCache } = await status();
    expect(keyCache.entries).toBeGreaterThanOrEqual(1);
    expect(keyCache.entries).toBeLessThanOrEqual(keyCache.maxEntries);
    expect(keyCache.hits + keyCache.misses).toBeGreaterThanOrEqual(2);
    expect(keyCache.hitRate).toBe(keyCache.hits / (keyCache.hits + keyCache.misses));
    expect(keyCache.hitRate).toBeGreaterThan(0);
    expect(await statusText()).toMatch(/^Key cache: +\d+\/\d+ entries, hit rate \d+\.\d% \(\d+ hits?, \d+ miss(es)?\)$/m);
  });

  it('operator seal empties the cache: right after unsealing again it holds nothing', async () => {
    const sealed = await cli('operator', 'seal');
    expect(sealed.code, sealed.stderr).toBe(0);
    expect((await status()).root.sealed).toBe(true);
    expect(await statusText()).toMatch(/^Sealed: +yes$/m);

    await unseal();
    const s = await status();
    expect(s.root.sealed).toBe(false);
    expect(s.keyCache.entries).toBe(0);
    expect(await statusText()).toMatch(/^Sealed: +no$/m);
  });
});

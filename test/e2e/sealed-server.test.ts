// A production server on the local-sealed root: operator init, start sealed, unseal share by share through the CLI,
// every key operation refused while sealed through both APIs, the emergency seal, restart (sealed again), rekey.
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kmsClient } from '../helpers/aws-clients.js';
import { freePort, runCli, spawnServer, type RunningProcess } from '../helpers/dev-server.js';
import { addPrincipal } from '../helpers/principals.js';
import { restClient, type DevCredentialsFile } from '../helpers/rest-client.js';

describe('a sealed production server', () => {
  let dir: string;
  let dataDir: string;
  let shareDir: string;
  let port: number;
  let server: RunningProcess | undefined;
  let admin: DevCredentialsFile;
  let engineer: DevCredentialsFile;
  let shares: string[];
  const credentialsFile = () => join(dataDir, 'admin-credentials.json');
  const start = async () => {
    server = await spawnServer(['--data-dir', dataDir, '--listen', `127.0.0.1:${port}`]);
  };
  const stop = async () => {
    await server?.stop();
    server = undefined;
  };
  const cli = (...args: string[]) => runCli([...args, '--credentials', credentialsFile()]);
  const unseal = (i: number, nonce?: string) => cli('operator', 'unseal', '--share-file', join(shareDir, `unseal-share-${i}.txt`), ...(nonce ? ['--nonce', nonce] : []));
  const nonceOf = (stdout: string) => /--nonce (\S+)/.exec(stdout)?.[1];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-sealed-'));
    dataDir = join(dir, 'data');
    shareDir = join(dir, 'shares');
    await import('node:fs/promises').then((fs) => fs.mkdir(shareDir));
    port = await freePort();
  });

  afterAll(async () => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('operator init writes 3 shares and the administrator credentials, each mode 0600', async () => {
    const r = await runCli(['operator', 'init', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--shares', '3', '--threshold', '2', '--share-dir', shareDir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('root of trust: local-sealed');
    expect(r.stdout).not.toMatch(/dds1\./); // written to files, not printed
    expect((await readdir(shareDir)).sort()).toEqual(['unseal-share-1.txt', 'unseal-share-2.txt', 'unseal-share-3.txt']);
    shares = await Promise.all([1, 2, 3].map(async (i) => (await readFile(join(shareDir, `unseal-share-${i}.txt`), 'utf8')).trim()));
    expect(new Set(shares).size).toBe(3);
    for (const f of [...[1, 2, 3].map((i) => join(shareDir, `unseal-share-${i}.txt`)), credentialsFile()]) expect((await stat(f)).mode & 0o777).toBe(0o600);
    admin = JSON.parse(await readFile(credentialsFile(), 'utf8')) as DevCredentialsFile;
    expect(admin.principalArn).toBe('arn:aws:iam::111122223333:user/admin');
    expect(admin.endpoint).toBe(`https://127.0.0.1:${port}`);
  });

  it('a second init is refused and changes nothing', async () => {
    const r = await runCli(['operator', 'init', '--data-dir', dataDir, '--credentials-out', join(dir, 'other.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already initialized/);
    await expect(stat(join(dir, 'other.json'))).rejects.toThrow();
  });

  it('starts sealed: health says sealed, key operations answer ERR_SEALED and a sealed KMSInternalException', async () => {
    await start();
    expect(server!.stdout()).toMatch(/root of trust: local-sealed; SEALED/);
    const rest = restClient(admin);
    const health = await rest('GET', '/v1/health');
    expect(health.status).toBe(503);
    expect(health.body.status).toBe('sealed');
    const created = await rest('POST', '/v1/keys', {});
    expect(created.status).toBe(503);
    expect(created.body.code).toBe('ERR_SEALED');
    const aws = kmsClient(admin);
    const error = await aws.send(new CreateKeyCommand({})).catch((e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
    expect((error as Error).name).toBe('KMSInternalException');
    expect((error as Error).message).toMatch(/sealed/);
    const status = await cli('operator', 'status');
    expect(status.stdout).toMatch(/local-sealed, SEALED; 2 of 3 shares unseal it/);
  });

  it('unseals with two shares from two custodians: progress, nonce, duplicate refused', async () => {
    const first = await unseal(1);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/unseal progress 1\/2/);
    const nonce = nonceOf(first.stdout);
    expect(nonce).toMatch(/^[0-9a-f-]{8,}$/);
    const duplicate = await unseal(1, nonce);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toMatch(/ERR_CONFLICT/);
    const wrongNonce = await unseal(2, '00000000-0000-4000-8000-000000000000');
    expect(wrongNonce.code).toBe(1);
    expect((await cli('operator', 'status')).stdout).toMatch(/progress 1\/2/);
    const second = await unseal(3, nonce);
    expect(second.stdout).toMatch(/Unsealed/);
    expect((await restClient(admin)('GET', '/v1/health')).body.status).toBe('ok');
  });

  let ciphertext: Uint8Array;
  let keyId: string;

  it('serves both APIs once unsealed', async () => {
    engineer = await addPrincipal(admin, 'engineer', { roles: ['data-engineer'] });
    const aws = kmsClient(engineer);
    keyId = (await aws.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    ciphertext = (await aws.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('4111111111111111') }))).CiphertextBlob!;
    expect(Buffer.from((await aws.send(new DecryptCommand({ CiphertextBlob: ciphertext }))).Plaintext!).toString()).toBe('4111111111111111');
  });

  it('operator seal stops everything at once; reset abandons an attempt', async () => {
    const sealed = await cli('operator', 'seal');
    expect(sealed.code).toBe(0);
    expect(sealed.stdout).toMatch(/SEALED/);
    const error = await kmsClient(engineer).send(new DecryptCommand({ CiphertextBlob: ciphertext })).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/sealed/);
    await unseal(2);
    const reset = await cli('operator', 'unseal', '--reset');
    expect(reset.stdout).toMatch(/reset/);
    expect((await cli('operator', 'status')).stdout).toMatch(/2 of 3 shares unseal it/);
  });

  it('restarts sealed; after unsealing, old ciphertexts decrypt', async () => {
    await stop();
    await start();
    expect((await restClient(admin)('GET', '/v1/health')).body.status).toBe('sealed');
    const nonce = nonceOf((await unseal(2)).stdout);
    await unseal(3, nonce);
    const plain = await kmsClient(engineer).send(new DecryptCommand({ CiphertextBlob: ciphertext }));
    expect(Buffer.from(plain.Plaintext!).toString()).toBe('4111111111111111');
  });

  it('rekey issues new shares; the old ones no longer unseal', async () => {
    const newDir = join(dir, 'new-shares');
    await import('node:fs/promises').then((fs) => fs.mkdir(newDir));
    const r = await cli('operator', 'rekey', '--shares', '2', '--threshold', '2', '--share-file', join(shareDir, 'unseal-share-1.txt'), '--share-file', join(shareDir, 'unseal-share-2.txt'), '--share-dir', newDir);
    expect(r.stderr).toBe('');
    expect((await readdir(newDir)).sort()).toEqual(['unseal-share-1.txt', 'unseal-share-2.txt']);
    await cli('operator', 'seal');
    const old = await unseal(1);
    expect(old.code).toBe(1);
    const first = await cli('operator', 'unseal', '--share-file', join(newDir, 'unseal-share-1.txt'));
    await cli('operator', 'unseal', '--share-file', join(newDir, 'unseal-share-2.txt'), '--nonce', nonceOf(first.stdout)!);
    const plain = await kmsClient(engineer).send(new DecryptCommand({ CiphertextBlob: ciphertext, KeyId: keyId }));
    expect(Buffer.from(plain.Plaintext!).toString()).toBe('4111111111111111');
  });
});

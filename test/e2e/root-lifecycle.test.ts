// The root's lifecycle through the CLI on a production server (local-sealed): break-glass recovery set up at init,
// rotate-root while serving, then the seal file lost and every key brought back onto a new seal with the custodians'
// recovery shares — old ciphertexts decrypt throughout.
import { mkdir, mkdtemp, readFile, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListKeysCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kmsClient } from '../helpers/aws-clients.js';
import { freePort, runCli, spawnServer, type RunningProcess } from '../helpers/dev-server.js';
import { addPrincipal } from '../helpers/principals.js';
import { restClient, type DevCredentialsFile } from '../helpers/rest-client.js';

describe('root lifecycle through the CLI', () => {
  let dir: string;
  let data: string;
  let port: number;
  let server: RunningProcess | undefined;
  let admin: DevCredentialsFile;
  let engineer: DevCredentialsFile;
  const ciphertexts: Array<{ keyId: string; ciphertext: string; plaintext: string }> = [];
  const credentials = () => join(data, 'admin-credentials.json');
  const files = (sub: string, prefix: string) => readdir(join(dir, sub)).then((names) => names.filter((n) => n.startsWith(prefix)).sort().map((n) => join(dir, sub, n)));
  const start = async () => {
    server = await spawnServer(['--data-dir', data, '--listen', `127.0.0.1:${port}`]);
  };
  const stop = async () => {
    await server?.stop();
    server = undefined;
  };
  const unsealWith = async (shareFiles: string[]) => {
    let nonce: string | undefined;
    for (const file of shareFiles) {
      const r = await runCli(['operator', 'unseal', '--credentials', credentials(), '--share-file', file, ...(nonce ? ['--nonce', nonce] : [])]);
      expect(r.code, r.stderr).toBe(0);
      nonce = /--nonce (\S+)/.exec(r.stdout)?.[1];
    }
  };
  const encryptOne = async (plaintext: string) => {
    const call = restClient(engineer);
    const { keyId } = (await call('POST', '/v1/keys', {})).body.key as { keyId: string };
    const r = await call('POST', '/v1/encrypt', { keyId, plaintext: Buffer.from(plaintext).toString('base64') });
    expect(r.status).toBe(200);
    ciphertexts.push({ keyId, ciphertext: r.body.ciphertext as string, plaintext });
  };
  const decryptAll = async () => {
    for (const c of ciphertexts) {
      const r = await restClient(engineer)('POST', '/v1/decrypt', { ciphertext: c.ciphertext });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(Buffer.from(r.body.plaintext as string, 'base64').toString()).toBe(c.plaintext);
    }
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-root-life-'));
    data = join(dir, 'data');
    for (const sub of ['unseal', 'recovery', 'new-unseal']) await mkdir(join(dir, sub));
    port = await freePort();
  });

  afterAll(async () => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('init with break-glass recovery shares; a second recovery key is refused', async () => {
    const init = await runCli([
      'operator', 'init', '--data-dir', data, '--listen', `127.0.0.1:${port}`, '--shares', '2', '--threshold', '2', '--share-dir', join(dir, 'unseal'),
      '--recovery-shares', '3', '--recovery-threshold', '2', '--recovery-share-dir', join(dir, 'recovery'),
    ]);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/Break-glass recovery shares/);
    expect(await files('recovery', 'recovery-share')).toHaveLength(3);
    admin = JSON.parse(await readFile(credentials(), 'utf8')) as DevCredentialsFile;
    const unseal = await files('unseal', 'unseal-share');
    const again = await runCli(['operator', 'enable-recovery', '--data-dir', data, '--shares', '3', '--threshold', '2', ...unseal.flatMap((f) => ['--unseal-share-file', f])]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/ERR_CONFLICT|already/i);
  });

  it('serves, and rotate-root --wait re-wraps everything while old ciphertexts keep decrypting', async () => {
    await start();
    await unsealWith(await files('unseal', 'unseal-share'));
    engineer = await addPrincipal(admin, 'engineer', { roles: ['data-engineer'] });
    await encryptOne('PAN 4111111111111111');
    await encryptOne('IBAN DE89370400440532013000');
    const rotate = await runCli(['operator', 'rotate-root', '--wait', '--credentials', credentials()]);
    expect(rotate.code, rotate.stderr).toBe(0);
    const progress = await runCli(['operator', 'root-progress', '--json', '--credentials', credentials()]);
    expect(progress.code, progress.stderr).toBe(0);
    expect(progress.stdout).toMatch(/"generation":\s*2/);
    await decryptAll();
    await encryptOne('SSN 078-05-1120');
  });

  it('loses the seal file; recover with two recovery shares onto a new seal; every old ciphertext decrypts', async () => {
    await stop();
    await rename(join(data, 'seal.json'), join(dir, 'lost-seal.json'));
    const recovery = await files('recovery', 'recovery-share');
    const tooFew = await runCli(['operator', 'recover', '--to', 'local-sealed', '--data-dir', data, '--recovery-share-file', recovery[0]!]);
    expect(tooFew.code).toBe(1);
    expect(tooFew.stderr).toMatch(/share/i);
    const recover = await runCli([
      'operator', 'recover', '--to', 'local-sealed', '--data-dir', data, '--shares', '2', '--threshold', '2', '--share-dir', join(dir, 'new-unseal'),
      '--recovery-share-file', recovery[0]!, '--recovery-share-file', recovery[2]!,
    ]);
    expect(recover.code, recover.stderr).toBe(0);
    expect(recover.stdout).toMatch(/recovered/);
    await start();
    await unsealWith(await files('new-unseal', 'unseal-share'));
    await decryptAll();
    // The administrator's access key, made at init, was escrowed too: SigV4 still works.
    expect((await kmsClient(admin).send(new ListKeysCommand({}))).Keys!.length).toBe(3);
  });
});

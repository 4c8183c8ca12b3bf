// `server --workers 2` on the local-sealed root: one unseal serves every worker (the primary holds the root),
// rotate-root through a worker adds a root key every worker then uses, a seal stops them all at once, a key disabled through one worker is refused by the others within a second, and a worker
// that dies is replaced. The jobs run in the one worker that holds the job lease: a due key is rotated exactly once.
import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCli, spawnServer, type RunningProcess } from '../helpers/dev-server.js';
import { addPrincipal } from '../helpers/principals.js';
import { restClient, type DevCredentialsFile } from '../helpers/rest-client.js';

const CLOSE = { connection: 'close' }; // a new connection per request, so requests spread over the workers

describe('server --workers 2', () => {
  let dir: string;
  let server: RunningProcess;
  let admin: DevCredentialsFile;
  let engineer: DevCredentialsFile;
  const credentials = () => join(dir, 'data', 'admin-credentials.json');
  const unseal = (i: number, nonce?: string) =>
    runCli(['operator', 'unseal', '--credentials', credentials(), '--share-file', join(dir, 'shares', `unseal-share-${i}.txt`), ...(nonce ? ['--nonce', nonce] : [])]);
  const workerPids = () => execFileSync('pgrep', ['-P', String(server.process.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number);
  /** Health from `n` fresh connections. */
  const healthFromAll = async (n = 8) => Promise.all(Array.from({ length: n }, async () => (await restClient(admin)('GET', '/v1/health', undefined, CLOSE)).body.status as string));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-workers-'));
    await mkdir(join(dir, 'shares'));
    const port = await freePort();
    const init = await runCli(['operator', 'init', '--data-dir', join(dir, 'data'), '--listen', `127.0.0.1:${port}`, '--shares', '2', '--threshold', '2', '--share-dir', join(dir, 'shares')]);
    expect(init.code, init.stderr).toBe(0);
    admin = JSON.parse(await readFile(credentials(), 'utf8')) as DevCredentialsFile;
    server = await spawnServer(['--data-dir', join(dir, 'data'), '--listen', `127.0.0.1:${port}`, '--workers', '2'], {
      DATADEFENDER_METADATA_CACHE_MS: '1000',
      DATADEFENDER_JOB_INTERVAL_SECONDS: '1',
      DATADEFENDER_JOB_LEASE_MS: '3000',
      DATADEFENDER_JOB_LEASE_RENEW_MS: '1000',
    });
  });

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints one ready line for two worker processes, sealed', () => {
    expect(server.stdout().trim().split('\n')).toHaveLength(1);
    expect(server.stdout()).toMatch(/SEALED.*\[2 workers\]/);
    expect(workerPids()).toHaveLength(2);
  });

  it('one unseal, share by share through any worker, unseals every worker', async () => {
    expect(new Set(await healthFromAll())).toEqual(new Set(['sealed']));
    const first = await unseal(1);
    const nonce = /--nonce (\S+)/.exec(first.stdout)?.[1];
    expect(nonce, first.stderr).toBeDefined();
    const second = await unseal(2, nonce);
    expect(second.stdout, second.stderr).toMatch(/Unsealed/);
    expect(new Set(await healthFromAll())).toEqual(new Set(['ok']));
  });

  it('a key disabled through one worker is refused by every worker within a second', async () => {
    engineer = await addPrincipal(admin, 'engineer', { roles: ['data-engineer'] });
    const call = restClient(engineer);
    const { keyId } = (await call('POST', '/v1/keys', {}, CLOSE)).body.key as { keyId: string };
    const encrypt = () => call('POST', '/v1/encrypt', { keyId, plaintext: Buffer.from('x').toString('base64') }, CLOSE);
    for (let i = 0; i < 4; i++) expect((await encrypt()).status).toBe(200); // warms both workers' caches
    expect((await restClient(admin)('POST', `/v1/keys/${keyId}/disable`, undefined, CLOSE)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    const after = await Promise.all(Array.from({ length: 6 }, encrypt));
    expect(after.map((r) => r.body.code)).toEqual(Array(6).fill('ERR_KEY_DISABLED'));
  });

  it('elects one worker to run the jobs: a due key is rotated exactly once, by the lease holder', async () => {
    const call = restClient(engineer);
    const { keyId } = (await call('POST', '/v1/keys', {}, CLOSE)).body.key as { keyId: string };
    const health = await Promise.all(Array.from({ length: 8 }, async () => (await restClient(admin)('GET', '/v1/health', undefined, CLOSE)).body.jobLeader as boolean));
    expect(new Set(health)).toEqual(new Set([true, false])); // connections alternate between the two workers
    const db = new Database(join(dir, 'data', 'datadefender.db'));
    try {
      const lease = db.prepare('select holder, epoch from job_leases where name = ?').get('key-jobs') as { holder: string; epoch: number };
      expect(workerPids()).toContain(Number(lease.holder.split(':')[1]));
      db.prepare('update keys set next_rotation_at = ? where id = ?').run(Date.now() - 1000, keyId);
      const versions = async () => ((await call('GET', `/v1/keys/${keyId}/rotations`, undefined, CLOSE)).body.rotations as { version: number }[]).map((r) => r.version);
      await expect.poll(versions, { timeout: 10_000, interval: 250 }).toEqual([2]);
      await new Promise((r) => setTimeout(r, 2_500)); // more job passes in both workers: nothing more happens
      expect(await versions()).toEqual([2]);
      const events = db
        .prepare("select outcome, count(*) as n from audit_events where event_name = 'RotateKey' and resource like ? group by outcome order by outcome")
        .all(`%${keyId}`);
      expect(events).toEqual([
        { outcome: 'attempt', n: 1 },
        { outcome: 'success', n: 1 },
      ]);
    } finally {
      db.close();
    }
  });

  it('rotate-root through a worker: the primary adds root key 2, every worker wraps and unwraps under it', async () => {
    const call = restClient(engineer);
    const encryptUnder = async (keyId: string, text: string) =>
      (await call('POST', '/v1/encrypt', { keyId, plaintext: Buffer.from(text).toString('base64') }, CLOSE)).body.ciphertext as string;
    const decryptAll = async (blob: string) =>
      Promise.all(Array.from({ length: 6 }, async () => (await call('POST', '/v1/decrypt', { ciphertext: blob }, CLOSE)).body.plaintext as string));
    const before = (await call('POST', '/v1/keys', {}, CLOSE)).body.key as { keyId: string };
    const old = await encryptUnder(before.keyId, 'before rotate-root');

    const rotate = await runCli(['operator', 'rotate-root', '--wait', '--credentials', credentials()]);
    expect(rotate.code, rotate.stderr).toBe(0);
    const progress = await runCli(['operator', 'root-progress', '--json', '--credentials', credentials()]);
    expect(progress.stdout).toMatch(/"generation":\s*2/);
    const seal = JSON.parse(await readFile(join(dir, 'data', 'seal.json'), 'utf8')) as { rootKeys?: unknown[] };
    expect(seal.rootKeys).toHaveLength(1); // root key 2, beside root key 1

    // A key made now is wrapped under root key 2 by one worker; the other has nothing cached and must unwrap it.
    const after = (await call('POST', '/v1/keys', {}, CLOSE)).body.key as { keyId: string };
    const fresh = await encryptUnder(after.keyId, 'after rotate-root');
    expect(new Set(await decryptAll(fresh))).toEqual(new Set([Buffer.from('after rotate-root').toString('base64')]));
    expect(new Set(await decryptAll(old))).toEqual(new Set([Buffer.from('before rotate-root').toString('base64')]));
  });

  it('operator seal through one worker stops every worker at once', async () => {
    const sealed = await runCli(['operator', 'seal', '--credentials', credentials()]);
    expect(sealed.code, sealed.stderr).toBe(0);
    expect(new Set(await healthFromAll())).toEqual(new Set(['sealed']));
  });

  it('replaces a worker that dies; the replacement shares the seal', async () => {
    const [victim] = workerPids();
    process.kill(victim!, 'SIGKILL');
    await expect.poll(() => workerPids().filter((p) => p !== victim).length, { timeout: 20_000, interval: 250 }).toBe(2);
    const first = await unseal(1);
    await unseal(2, /--nonce (\S+)/.exec(first.stdout)?.[1]);
    await expect.poll(async () => new Set(await healthFromAll()), { timeout: 10_000, interval: 250 }).toEqual(new Set(['ok']));
  });
});

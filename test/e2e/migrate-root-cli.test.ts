// migrate-root end to end through the CLI binary, on real server processes: a local-sealed deployment whose
// configuration also names the target root of trust (as the README asks) moves every key version onto
//  1. a PKCS#11 token (SoftHSM2 in a temporary directory) — the server is killed with SIGKILL while `root-progress`
//     shows the job part-way, restarted (sealed again, unsealed), and the same command resumes the job;
//  2. an upstream AWS-KMS-compatible service — a second DataDefender in dev mode — without a kill.
// Decrypts are issued throughout each job (with the key cache disabled, so each one unwraps through the root ring);
// afterwards every ciphertext kept by the test decrypts, new data encrypts, root-progress and status name the new
// root, and a restart on the new root of trust serves the same keys.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DisableKeyCommand, EnableKeyCommand } from '@aws-sdk/client-kms';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RootMigrationView } from '../../src/core/root-migration.js';
import { kmsClient, startUpstreamKms } from '../helpers/aws-clients.js';
import { freePort, runCli, spawnServer, type DevServer, type RunningProcess } from '../helpers/dev-server.js';
import { addPrincipal } from '../helpers/principals.js';
import { restClient, type DevCredentialsFile } from '../helpers/rest-client.js';
import { startSoftHsm, withRawSession, type SoftHsm, type SoftHsmToken } from '../helpers/softhsm.js';

interface Kept {
  keyId: string;
  ciphertext: string;
  plaintext: string;
}

type MigrationView = RootMigrationView;

interface ProgressAnswer {
  ring: { active: { generation: number; kind: string; descriptor: Record<string, unknown> }; generations: Array<{ generation: number; kind: string; state: string }> };
  migration: MigrationView | null;
  resumed?: boolean;
}

/** Runs `fn` over `items` with `width` calls in flight. */
async function pool<T>(items: readonly T[], width: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

/**
 * One production deployment in a temporary directory, driven only through the `datadefender` binary (init, server,
 * operator commands) and its HTTPS APIs.
 */
class Deployment {
  server: RunningProcess | undefined;
  admin!: DevCredentialsFile;
  engineer!: DevCredentialsFile;
  readonly kept: Kept[] = [];
  readonly data: string;
  readonly shareDir: string;
  port = 0;

  constructor(
    readonly dir: string,
    public env: Record<string, string>,
  ) {
    this.data = join(dir, 'data');
    this.shareDir = join(dir, 'unseal');
  }

  get credentials(): string {
    return join(this.data, 'admin-credentials.json');
  }

  /** `datadefender <args> --credentials <admin>` with the deployment's environment. */
  cli(...args: string[]) {
    return runCli([...args, '--credentials', this.credentials], this.env);
  }

  async cliJson<T>(...args: string[]): Promise<T> {
    const r = await this.cli(...args, '--json');
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout) as T;
  }

  progress(): Promise<ProgressAnswer> {
    return this.cliJson<ProgressAnswer>('operator', 'root-progress');
  }

  /** operator init (server stopped): a local-sealed root, 3 unseal shares of which 2 unseal. */
  async init(): Promise<void> {
    await mkdir(this.shareDir);
    this.port = await freePort();
    const init = await runCli(
      ['operator', 'init', '--data-dir', this.data, '--listen', `127.0.0.1:${this.port}`, '--shares', '3', '--threshold', '2', '--share-dir', this.shareDir],
      this.env,
    );
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/root of trust: local-sealed/);
    this.admin = JSON.parse(await readFile(this.credentials, 'utf8')) as DevCredentialsFile;
  }

  async start(): Promise<void> {
    await this.stop(); // a step that failed may have left its server running
    this.server = await spawnServer(['--data-dir', this.data, '--listen', `127.0.0.1:${this.port}`], this.env);
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }

  /** Two custodians submit their shares (files 3 and 1) through the CLI, the second one with the attempt's nonce. */
  async unseal(): Promise<void> {
    const shares = (await readdir(this.shareDir)).filter((n) => n.startsWith('unseal-share')).sort();
    expect(shares).toHaveLength(3);
    let nonce: string | undefined;
    for (const file of [shares[2]!, shares[0]!]) {
      const r = await runCli(['operator', 'unseal', '--credentials', this.credentials, '--share-file', join(this.shareDir, file), ...(nonce ? ['--nonce', nonce] : [])]);
      expect(r.code, r.stderr).toBe(0);
      nonce = /--nonce (\S+)/.exec(r.stdout)?.[1];
    }
    expect(nonce).toBeUndefined();
    expect(await this.operatorStatus()).toMatch(/^Root of trust: [a-z0-9-]+, unsealed\n$/);
  }

  /** `operator status`: the seal and the kind of the active root (the configured one until the ring is read). */
  async operatorStatus(): Promise<string> {
    const r = await runCli(['operator', 'status', '--credentials', this.credentials]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  }

  /** `count` keys created through the REST API, one ciphertext each, kept by the test. */
  async populate(count: number, label: string): Promise<void> {
    const call = restClient(this.engineer);
    await pool(Array.from({ length: count }, (_, i) => i), 8, async (i) => {
      const created = await call('POST', '/v1/keys', { description: `${label} ${i}` });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const keyId = created.body.key.keyId as string;
      const plaintext = `${label} account ${String(i).padStart(5, '0')} / ${keyId}`;
      const r = await call('POST', '/v1/encrypt', { keyId, plaintext: Buffer.from(plaintext).toString('base64') });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      this.kept.push({ keyId, ciphertext: r.body.ciphertext as string, plaintext });
    });
    expect(new Set(this.kept.map((k) => k.keyId)).size).toBe(this.kept.length);
  }

  /** Decrypts one kept ciphertext; returns what went wrong, or null. */
  async decryptOne(c: Kept, call = restClient(this.engineer)): Promise<string | null> {
    const r = await call('POST', '/v1/decrypt', { ciphertext: c.ciphertext });
    if (r.status !== 200) return `${c.keyId}: HTTP ${r.status} ${JSON.stringify(r.body)}`;
    if (!String(r.body.keyId).endsWith(`:key/${c.keyId}`)) return `${c.keyId}: answered for key ${r.body.keyId}`;
    const text = Buffer.from(r.body.plaintext as string, 'base64').toString();
    return text === c.plaintext ? null : `${c.keyId}: wrong plaintext ${text}`;
  }

  /** Every kept ciphertext decrypts to its plaintext. */
  async decryptAll(): Promise<void> {
    const failures: string[] = [];
    const call = restClient(this.engineer);
    await pool(this.kept, 8, async (c) => {
      const f = await this.decryptOne(c, call);
      if (f) failures.push(f);
    });
    expect(failures.slice(0, 5)).toEqual([]);
  }

  /**
   * Decrypts kept ciphertexts in a loop (4 in flight) until stopped: the server must keep serving while a job runs.
   * Returns how many succeeded and what failed.
   */
  decryptWhileRunning(): { stop(): Promise<{ ok: number; failures: string[] }> } {
    let stopped = false;
    let ok = 0;
    const failures: string[] = [];
    const call = restClient(this.engineer);
    const loops = Array.from({ length: 4 }, async (_, w) => {
      // Walks the kept ciphertexts from four different places, so both migrated and not yet migrated versions are read.
      let i = Math.floor((w * this.kept.length) / 4);
      while (!stopped) {
        const c = this.kept[i++ % this.kept.length]!;
        const f = await this.decryptOne(c, call).catch((e: Error) => `${c.keyId}: ${e.message}`);
        if (f) failures.push(f);
        else ok++;
      }
    });
    return {
      async stop() {
        stopped = true;
        await Promise.all(loops);
        return { ok, failures };
      },
    };
  }

  /** New data under the new root: a new key, encrypt, decrypt. */
  async encryptNew(label: string): Promise<void> {
    const call = restClient(this.engineer);
    const created = await call('POST', '/v1/keys', { description: label });
    expect(created.status).toBe(201);
    const keyId = created.body.key.keyId as string;
    const plaintext = `${label}: IBAN DE89370400440532013000`;
    const enc = await call('POST', '/v1/encrypt', { keyId, plaintext: Buffer.from(plaintext).toString('base64') });
    expect(enc.status, JSON.stringify(enc.body)).toBe(200);
    const kept = { keyId, ciphertext: enc.body.ciphertext as string, plaintext };
    expect(await this.decryptOne(kept)).toBeNull();
    this.kept.push(kept);
  }

  async status(): Promise<{ rootOfTrust: string; status: string; root: { kind: string; sealed: boolean }; keyCache: { maxEntries: number } }> {
    return this.cliJson('status');
  }
}

const baseEnv = {
  DATADEFENDER_ROOT_OF_TRUST: 'local-sealed',
  // Every decrypt unwraps its key version through the root ring, so decrypts during a job really exercise both the
  // old and the new root (with the cache, versions unwrapped before the job would be served from memory).
  DATADEFENDER_KEY_CACHE_SIZE: '0',
  // One blob per re-wrap batch: the job saves its cursor after every blob, so it is long enough to be caught mid-way.
  DATADEFENDER_JOB_BATCH_SIZE: '1',
};

describe('operator migrate-root --to pkcs11 through the CLI: SIGKILL mid-job, restart, resume', () => {
  // Enough key versions that the first pass outlasts a few `root-progress` round trips (each a CLI process start).
  const KEYS = 1500;
  let softhsm: SoftHsm;
  let token: SoftHsmToken;
  let d: Deployment;
  let killedAt: MigrationView;

  beforeAll(async () => {
    softhsm = await startSoftHsm();
    token = await softhsm.createToken('dd-migrate', '1357');
    const dir = await mkdtemp(join(tmpdir(), 'dd-migrate-pkcs11-'));
    await writeFile(join(dir, 'hsm.pin'), '1357\n', { mode: 0o600 });
    // The target's settings are in the configuration from the start, as migrate-root needs them.
    d = new Deployment(dir, {
      ...baseEnv,
      DATADEFENDER_PKCS11_MODULE: softhsm.module,
      DATADEFENDER_PKCS11_TOKEN_LABEL: token.label,
      DATADEFENDER_PKCS11_KEY_LABEL: 'dd-root',
      DATADEFENDER_PKCS11_PIN_FILE: join(dir, 'hsm.pin'),
    });
  });

  afterAll(async () => {
    if (d?.server?.process.exitCode === null) d.server.process.kill('SIGKILL');
    await d?.stop();
    if (d) await rm(d.dir, { recursive: true, force: true });
    await softhsm?.close();
  });

  it(`a local-sealed server, initialised and unsealed through the CLI, serves ${KEYS} keys`, async () => {
    await d.init();
    await d.start();
    expect(d.server!.stdout()).toMatch(/root of trust: local-sealed; SEALED/);
    await d.unseal();
    d.engineer = await addPrincipal(d.admin, 'engineer', { roles: ['data-engineer'] });
    await d.populate(KEYS, 'pkcs11-case');
    expect(await d.operatorStatus()).toBe('Root of trust: local-sealed, unsealed\n');
    expect(d.kept).toHaveLength(KEYS);
    expect((await d.progress()).migration).toBeNull();
  }, 60_000);

  it('migrate-root --to pkcs11 --create-key starts the job; SIGKILL while root-progress shows it part-way; decrypts succeed meanwhile', async () => {
    const load = d.decryptWhileRunning();
    const started = await d.cliJson<ProgressAnswer>('operator', 'migrate-root', '--to', 'pkcs11', '--create-key');
    expect(started.resumed).toBe(false);
    expect(started.ring.active).toEqual({ generation: 2, kind: 'pkcs11', descriptor: { token: 'label:dd-migrate', keyLabel: 'dd-root' } });
    expect(started.ring.generations.map((g) => [g.generation, g.kind, g.state])).toEqual([
      [1, 'local-sealed', 'retiring'],
      [2, 'pkcs11', 'active'],
    ]);
    expect(started.migration).toMatchObject({ operation: 'migrate', state: 'running', targetGeneration: 2, targetKind: 'pkcs11', fromGenerations: [1] });
    // Every key version, plus the administrator's and the engineer's access keys, the audit keys and the CA key.
    expect(started.migration!.total).toBeGreaterThan(KEYS);

    let seen: MigrationView | undefined;
    const polls: string[] = [];
    for (let i = 0; i < 40 && !seen; i++) {
      const m = (await d.progress()).migration!;
      polls.push(`${m.state} ${m.done}/${m.total}`);
      expect(m.state, polls.join(', ')).toBe('running');
      expect(m.done, `the first pass ended before root-progress saw it part-way: ${polls.join(', ')}`).toBeLessThan(m.total);
      if (m.done > 0) seen = m;
    }
    expect(seen, polls.join(', ')).toBeDefined();
    const during = await load.stop();
    d.server!.process.kill('SIGKILL');
    const exit = await new Promise<NodeJS.Signals | null>((resolve) => d.server!.process.once('exit', (_code, signal) => resolve(signal)));
    expect(exit).toBe('SIGKILL');
    d.server = undefined;
    killedAt = seen!;
    expect(during.failures).toEqual([]);
    expect(during.ok).toBeGreaterThan(0);
  }, 60_000);

  it('restarted (sealed again) and unsealed: root-progress shows the job part-way; the same command resumes it to the end while decrypts succeed', async () => {
    await d.start();
    // Still configured local-sealed: the server starts sealed; once unsealed, the ring's active root is the HSM's.
    expect(d.server!.stdout()).toMatch(/\(root of trust: local-sealed; SEALED/);
    await d.unseal();
    const after = await d.progress();
    expect(after.ring.active).toMatchObject({ generation: 2, kind: 'pkcs11' });
    expect(await d.operatorStatus()).toBe('Root of trust: pkcs11, unsealed\n');
    expect(after.migration).toMatchObject({ operation: 'migrate', targetKind: 'pkcs11', total: killedAt.total });
    expect(after.migration!.state).not.toBe('done');
    // Resumes from the cursor saved before the kill: nothing was lost, and the kill really came part-way.
    expect(after.migration!.done).toBeGreaterThanOrEqual(killedAt.done);
    expect(after.migration!.done).toBeLessThan(after.migration!.total);
    // Another job is refused while this one is unfinished.
    const other = await d.cli('operator', 'rotate-root');
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^datadefender: ERR_CONFLICT: A migrate-root --to pkcs11 is under way \(\d+\/\d+\); run it again to resume it/);

    const load = d.decryptWhileRunning();
    const resumed = await d.cli('operator', 'migrate-root', '--to', 'pkcs11', '--wait');
    const during = await load.stop();
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/^Resumed the job under way\.$/m);
    expect(resumed.stdout).toContain(`migrate-root --to pkcs11 to generation 2: done, ${killedAt.total}/${killedAt.total} (100%)`);
    expect(resumed.stdout).toMatch(/generations 1 retired\./);
    expect(during.failures).toEqual([]);
    expect(during.ok).toBeGreaterThan(0);

    const done = await d.progress();
    expect(done.migration).toMatchObject({ state: 'done', operation: 'migrate', targetKind: 'pkcs11', done: killedAt.total, total: killedAt.total, skipped: 0, lastError: null });
    expect(done.ring.generations.map((g) => [g.generation, g.kind, g.state])).toEqual([
      [1, 'local-sealed', 'retired'],
      [2, 'pkcs11', 'active'],
    ]);
    const status = await d.status();
    expect(status.rootOfTrust).toBe('pkcs11');
  }, 90_000);

  it('every kept ciphertext decrypts; new data encrypts under the HSM root', async () => {
    await d.decryptAll();
    await d.encryptNew('after migration');
    // --create-key made one AES-256 key object in the token: sensitive and not extractable.
    const keys = await withRawSession(softhsm, token, (api, session) => {
      api.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: 'dd-root' }]);
      const handles = api.C_FindObjects(session, 5);
      api.C_FindObjectsFinal(session);
      return handles.map((h) => api.C_GetAttributeValue(session, h, [{ type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_EXTRACTABLE }]).map((a) => (a.value as Buffer)[0]));
    });
    expect(keys).toEqual([[1, 0]]);
  }, 60_000);

  it('restarted with the retired local-sealed configuration: unsealed, key operations are refused, naming the configuration', async () => {
    await d.stop();
    await d.start();
    await d.unseal();
    const r = await restClient(d.engineer)('POST', '/v1/decrypt', { ciphertext: d.kept[0]!.ciphertext });
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ code: 'ERR_DEPENDENCY' });
    expect(r.body.detail).toMatch(/configured root of trust \(local-sealed\) is not a live generation of the root ring \(the active one is generation 2, pkcs11\)/);
    const created = await restClient(d.engineer)('POST', '/v1/keys', { description: 'under a retired root' });
    expect(created.status).toBe(503);
    expect(created.body).toMatchObject({ code: 'ERR_DEPENDENCY' });
    // It must not look healthy to a load balancer.
    const health = await restClient(d.engineer, { token: null })('GET', '/v1/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'degraded', root: 'unavailable' });
    await d.stop();
  }, 60_000);

  it('restarted with DATADEFENDER_ROOT_OF_TRUST=pkcs11: opens without unsealing and every ciphertext decrypts', async () => {
    d.env = { ...d.env, DATADEFENDER_ROOT_OF_TRUST: 'pkcs11' };
    await d.start();
    expect(d.server!.stdout()).toMatch(/root of trust: pkcs11\)/);
    const status = await d.status();
    expect(status).toMatchObject({ status: 'ok', rootOfTrust: 'pkcs11', root: { kind: 'pkcs11', sealed: false } });
    await d.decryptAll();
    await d.encryptNew('after restart on pkcs11');
    // The audit trail verifies across the SIGKILL; at its first start on the HSM the deployment got an HSM-resident
    // audit signing key, and the job's completion was audited once.
    const verified = await d.cli('audit', 'verify');
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^OK: \d+ events in \d+ chain\(s\), [1-9]\d* signed checkpoint\(s\)/);
    expect((await d.cli('audit', 'public-key')).stdout).toMatch(/^# audit-signing-2 \(ECDSA_SHA_256\)$/m);
    const completed = await d.cliJson<{ events: Array<{ outcome: string; details: Record<string, unknown> }> }>('audit', 'search', '--event-name', 'CompleteRootMigration');
    expect(completed.events.map((e) => [e.outcome, e.details.operation, e.details.kind, e.details.generation, e.details.retired, e.details.total])).toEqual([
      ['success', 'migrate', 'pkcs11', 2, [1], killedAt.total],
    ]);
    const migrate = await d.cliJson<{ events: Array<{ outcome: string; details: Record<string, unknown> }> }>('audit', 'search', '--event-name', 'MigrateRoot');
    expect(migrate.events.filter((e) => e.outcome === 'success').map((e) => e.details.resumed ?? false).sort()).toEqual([false, true]);
  }, 60_000);
});

describe('operator migrate-root --to aws-kms through the CLI: a second DataDefender as the upstream', () => {
  const KEYS = 300;
  let upstream: DevServer;
  let upstreamKey: string;
  let d: Deployment;

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dd-migrate-awskms-'));
    const started = await startUpstreamKms(join(dir, 'upstream'), 'root of a downstream DataDefender');
    ({ upstream, keyArn: upstreamKey } = started);
    d = new Deployment(dir, { ...baseEnv, ...started.env });
  });

  afterAll(async () => {
    await d?.stop();
    await upstream?.stop();
    if (d) await rm(d.dir, { recursive: true, force: true });
  });

  it(`a local-sealed server serves ${KEYS} keys`, async () => {
    await d.init();
    await d.start();
    await d.unseal();
    d.engineer = await addPrincipal(d.admin, 'engineer', { roles: ['data-engineer'] });
    await d.populate(KEYS, 'aws-kms-case');
    expect(d.kept).toHaveLength(KEYS);
  }, 60_000);

  it('migrate-root --to aws-kms --wait re-wraps everything under the upstream key while decrypts succeed', async () => {
    const load = d.decryptWhileRunning();
    const r = await d.cli('operator', 'migrate-root', '--to', 'aws-kms', '--wait');
    const during = await load.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/Resumed/);
    expect(r.stdout).toMatch(/^Root ring: active generation 2 \(aws-kms\)$/m);
    expect(r.stdout).toMatch(/^migrate-root --to aws-kms to generation 2: done, (\d+)\/\1 \(100%\)$/m);
    expect(during.failures).toEqual([]);
    expect(during.ok).toBeGreaterThan(0);

    const done = await d.progress();
    expect(done.migration).toMatchObject({ state: 'done', operation: 'migrate', targetKind: 'aws-kms', skipped: 0, lastError: null });
    expect(done.migration!.done).toBe(done.migration!.total);
    expect(done.migration!.total).toBeGreaterThan(KEYS);
    expect(done.ring.active).toEqual({ generation: 2, kind: 'aws-kms', descriptor: { keyArn: upstreamKey } });
    expect(done.ring.generations.map((g) => [g.generation, g.kind, g.state])).toEqual([
      [1, 'local-sealed', 'retired'],
      [2, 'aws-kms', 'active'],
    ]);
    expect((await d.status()).rootOfTrust).toBe('aws-kms');
  }, 90_000);

  it('every kept ciphertext decrypts, new data encrypts; with the upstream key disabled decrypts fail closed', async () => {
    await d.decryptAll();
    await d.encryptNew('after migration to aws-kms');
    // The key versions are now wrapped only by the upstream key: disabling it stops every unwrap (no cache here).
    const up = kmsClient(upstream.credentials);
    await up.send(new DisableKeyCommand({ KeyId: upstreamKey }));
    try {
      const r = await restClient(d.engineer)('POST', '/v1/decrypt', { ciphertext: d.kept[0]!.ciphertext });
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ code: 'ERR_DEPENDENCY' });
    } finally {
      await up.send(new EnableKeyCommand({ KeyId: upstreamKey }));
    }
    expect(await d.decryptOne(d.kept[0]!)).toBeNull();
  }, 60_000);

  it('restarted with DATADEFENDER_ROOT_OF_TRUST=aws-kms: opens without unsealing and every ciphertext decrypts', async () => {
    await d.stop();
    d.env = { ...d.env, DATADEFENDER_ROOT_OF_TRUST: 'aws-kms' };
    await d.start();
    expect(d.server!.stdout()).toMatch(/root of trust: aws-kms\)/);
    expect(await d.status()).toMatchObject({ status: 'ok', rootOfTrust: 'aws-kms', root: { kind: 'aws-kms', sealed: false } });
    await d.decryptAll();
  }, 60_000);
});

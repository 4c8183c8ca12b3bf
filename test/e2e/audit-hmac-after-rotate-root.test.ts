/**
 * The audit HMAC key survives root rotation: an encryption-context value recorded before `operator rotate-root`
 * keeps the same keyed hash (`hmac-sha256:audit-hmac-1:...`) afterwards and after a restart, so the old events stay
 * searchable by it. On the dev root (local, a second key file) and the production root (local-sealed, a second root
 * key in the seal file, unsealed again after the restart). The audit keys' rows are checked to be re-wrapped under
 * the new generation, so the rotation really touched the HMAC key (the test is not passing because nothing moved).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, freePort, runCli, spawnServer, startDevServer, type RunningProcess } from '../helpers/dev-server.js';
import { addPrincipal } from '../helpers/principals.js';
import { restClient, type DevCredentialsFile } from '../helpers/rest-client.js';

/** Runs the CLI with `input` on standard input (audit hash reads the value there, never from the arguments). */
function runCliWithInput(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** A running server on some root of trust: an administrator, a principal who may encrypt, and a restart. */
interface Deployment {
  admin: DevCredentialsFile;
  adminFile: string;
  user: DevCredentialsFile;
  dataDir: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

interface AuditKeyRow {
  id: string;
  purpose: string;
  generation: number;
}

/** The audit keys' rows straight from the database, with the root generation each wrapped blob names. */
function auditKeyRows(dataDir: string): AuditKeyRow[] {
  const db = new Database(join(dataDir, 'datadefender.db'), { readonly: true });
  try {
    const rows = db.prepare('select id, purpose, wrapped from audit_keys order by id').all() as { id: string; purpose: string; wrapped: Buffer }[];
    // core/root-ring-format.ts: [0x10|0x11][generation uint32 BE]...; a first byte below 0x10 is a legacy blob (generation 1).
    return rows.map((r) => ({ id: r.id, purpose: r.purpose, generation: r.wrapped[0]! < 0x10 ? 1 : r.wrapped.readUInt32BE(1) }));
  } finally {
    db.close();
  }
}

const ROOTS: Array<{ name: string; start: (dir: string) => Promise<Deployment> }> = [
  {
    name: 'dev (local root)',
    async start(dir) {
      let server = await startDevServer(dir);
      const admin = server.credentials;
      return {
        admin,
        adminFile: join(dir, 'dev-credentials.json'),
        user: admin, // the dev administrator also has the data-engineer role
        dataDir: dir,
        async restart() {
          await server.stop();
          server = await startDevServer(dir, { port: server.port });
        },
        stop: () => server.stop().then(() => undefined),
      };
    },
  },
  {
    name: 'production (local-sealed root)',
    async start(dir) {
      const data = join(dir, 'data');
      const shareDir = join(dir, 'unseal');
      await mkdir(shareDir);
      const port = await freePort();
      const init = await runCli(['operator', 'init', '--data-dir', data, '--listen', `127.0.0.1:${port}`, '--shares', '2', '--threshold', '2', '--share-dir', shareDir]);
      expect(init.code, init.stderr).toBe(0);
      const adminFile = join(data, 'admin-credentials.json');
      const admin = JSON.parse(await readFile(adminFile, 'utf8')) as DevCredentialsFile;
      const files = (await readdir(shareDir)).filter((n) => n.startsWith('unseal-share')).sort();
      const shares = await Promise.all(files.map(async (n) => (await readFile(join(shareDir, n), 'utf8')).trim()));
      expect(shares).toHaveLength(2);
      let server: RunningProcess = await spawnServer(['--data-dir', data, '--listen', `127.0.0.1:${port}`]);
      // Unsealed through the REST API (the CLI's operator unseal is covered by sealed-server.test.ts): two custodians.
      const unseal = async () => {
        const call = restClient(admin, { token: null });
        const first = await call('POST', '/v1/operator/unseal', { share: shares[0] });
        expect(first.status, JSON.stringify(first.body)).toBe(200);
        expect(first.body.root).toMatchObject({ sealed: true, progress: 1 });
        const second = await call('POST', '/v1/operator/unseal', { share: shares[1], nonce: first.body.root.nonce });
        expect(second.status, JSON.stringify(second.body)).toBe(200);
        expect(second.body.root.sealed).toBe(false);
      };
      await unseal();
      const user = await addPrincipal(admin, 'engineer', { roles: ['data-engineer'] });
      return {
        admin,
        adminFile,
        user,
        dataDir: data,
        async restart() {
          await server.stop();
          server = await spawnServer(['--data-dir', data, '--listen', `127.0.0.1:${port}`]);
          await unseal();
        },
        stop: () => server.stop().then(() => undefined),
      };
    },
  },
];

const KEYED_HASH = /^hmac-sha256:audit-hmac-1:[0-9a-f]{64}$/;

for (const root of ROOTS) {
  describe(`the audit HMAC key survives rotate-root (${root.name})`, () => {
    let dir: string;
    let d: Deployment;
    /** A sensitive encryption-context value, recorded only as its keyed hash. */
    const VALUE = `tenant-${randomBytes(12).toString('hex')}`;
    let keyId: string;
    let ciphertext: string;
    let before: { keyId: string; hash: string }[];
    let requestBefore: string;
    let requestAfterRotation: string;

    const hashesOf = async (value: string) => {
      const r = await restClient(d.admin)('POST', '/v1/audit/hash', { value });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body.hashes as { keyId: string; hash: string }[];
    };
    const cliHashesOf = async (value: string) => {
      const r = await runCliWithInput(['--credentials', d.adminFile, 'audit', 'hash'], `${value}\n`);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.trim().split('\n');
    };
    const encrypt = async () => {
      const r = await restClient(d.user)('POST', '/v1/encrypt', { keyId, plaintext: Buffer.from('4111111111111111').toString('base64'), encryptionContext: { tenant: VALUE } });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return { requestId: String(r.headers['x-request-id']), ciphertext: r.body.ciphertext as string };
    };
    /** The recorded encryption context of the one success event of `requestId`. */
    const recordedContext = async (requestId: string) => {
      const r = await restClient(d.admin)('GET', `/v1/audit/events?requestId=${requestId}&outcome=success`);
      expect(r.status).toBe(200);
      expect(r.body.events, requestId).toHaveLength(1);
      expect(r.body.events[0].eventName).toBe('Encrypt');
      return r.body.events[0].record.requestParameters.encryptionContext as Record<string, string>;
    };
    const requestIdsWithHash = async (hash: string) => {
      const r = await restClient(d.admin)('GET', `/v1/audit/events?hash=${encodeURIComponent(hash)}&eventName=Encrypt&limit=1000`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return (r.body.events as { requestId: string }[]).map((e) => e.requestId).sort();
    };

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'dd-hmac-rotate-'));
      d = await root.start(dir);
    });
    afterAll(async () => {
      await d?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('records an encryption-context value as its keyed hash under audit-hmac-1, all audit keys wrapped by generation 1', async () => {
      keyId = (await restClient(d.user)('POST', '/v1/keys', { description: 'hmac across rotate-root' })).body.key.keyId;
      ({ requestId: requestBefore, ciphertext } = await encrypt());
      before = await hashesOf(VALUE);
      expect(before).toHaveLength(1);
      expect(before[0]!.keyId).toBe('audit-hmac-1');
      expect(before[0]!.hash).toMatch(KEYED_HASH);
      expect(await recordedContext(requestBefore)).toEqual({ tenant: before[0]!.hash });
      expect(await requestIdsWithHash(before[0]!.hash)).toEqual([requestBefore]);
      // A different value hashes differently (the hash depends on the value, not only on the key).
      expect((await hashesOf(`${VALUE}x`))[0]!.hash).not.toBe(before[0]!.hash);
      const rows = auditKeyRows(d.dataDir);
      expect(rows.map((r) => r.id)).toEqual(['audit-hmac-1', 'audit-signing-1']);
      expect(rows.map((r) => r.generation)).toEqual([1, 1]);
    });

    it('rotate-root --wait re-wraps the audit keys under generation 2; the same value has the same hash while serving', { timeout: 60_000 }, async () => {
      const rotate = await runCli(['operator', 'rotate-root', '--wait', '--credentials', d.adminFile]);
      expect(rotate.code, rotate.stderr).toBe(0);
      const progress = await restClient(d.admin)('GET', '/v1/operator/root-migration');
      expect(progress.status).toBe(200);
      const answer = progress.body as { ring: { active: { generation: number }; generations: { generation: number; state: string }[] }; migration: { state: string } | null };
      expect(answer.ring.active.generation).toBe(2);
      expect(answer.ring.generations.map((g) => [g.generation, g.state])).toEqual([
        [1, 'retired'],
        [2, 'active'],
      ]);
      expect(answer.migration?.state).toBe('done');
      // The HMAC key was re-wrapped (same id, no new version), not replaced.
      const rows = auditKeyRows(d.dataDir);
      expect(rows.map((r) => r.id)).toEqual(['audit-hmac-1', 'audit-signing-1']);
      expect(rows.map((r) => r.generation)).toEqual([2, 2]);

      expect(await hashesOf(VALUE)).toEqual(before);
      ({ requestId: requestAfterRotation } = await encrypt());
      expect(await recordedContext(requestAfterRotation)).toEqual({ tenant: before[0]!.hash });
      expect(await requestIdsWithHash(before[0]!.hash)).toEqual([requestBefore, requestAfterRotation].sort());
    });

    it('after a restart the hash list is unchanged and the event recorded before the rotation is still found by it', { timeout: 60_000 }, async () => {
      await d.restart();
      const after = await hashesOf(VALUE);
      expect(after).toEqual(before);
      expect(await cliHashesOf(VALUE)).toEqual([before[0]!.hash]);
      expect(await recordedContext(requestBefore)).toEqual({ tenant: before[0]!.hash });
      const { requestId: requestAfterRestart } = await encrypt();
      expect(await recordedContext(requestAfterRestart)).toEqual({ tenant: before[0]!.hash });
      expect(await requestIdsWithHash(before[0]!.hash)).toEqual([requestBefore, requestAfterRotation, requestAfterRestart].sort());
      // Still no second HMAC key, and everything still works under the new root: the old ciphertext decrypts and
      // the chains (signed by the re-wrapped signing key) verify.
      expect(auditKeyRows(d.dataDir).map((r) => `${r.id}@${r.generation}`)).toEqual(['audit-hmac-1@2', 'audit-signing-1@2']);
      const dec = await restClient(d.user)('POST', '/v1/decrypt', { ciphertext, encryptionContext: { tenant: VALUE } });
      expect(dec.status).toBe(200);
      expect(Buffer.from(dec.body.plaintext, 'base64').toString()).toBe('4111111111111111');
      const verified = await runCli(['audit', 'verify', '--credentials', d.adminFile]);
      expect(verified.stdout).toMatch(/^OK: /);
      expect(verified.code).toBe(0);
    });
  });
}

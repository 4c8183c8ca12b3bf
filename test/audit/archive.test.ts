/**
 * Audit retention on real storage (SQLite and PostgreSQL) with the local root of trust and a manual clock: old
 * segments are archived to files that verify offline on their own, the remaining trail verifies online and as an
 * export, a database administrator's deletion or a forged archive record is still detected, a tampered segment is
 * never archived, a crash at any step loses nothing and a re-run finishes without duplicates, two archivers at once
 * corrupt nothing, and the retention setting refuses less than 365 days.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLocalRootOfTrust } from '../../src/adapters/root-of-trust/local/local-root-of-trust.js';
import { openPostgresStorage } from '../../src/adapters/storage/postgres/index.js';
import { openSqliteStorage } from '../../src/adapters/storage/sqlite/index.js';
import { signArchiveRecord } from '../../src/audit/archive-record.js';
import { createAuditArchiver, type AuditArchiver } from '../../src/audit/archiver.js';
import { publicKeyPem, type AuditPublicKey } from '../../src/audit/audit-keys.js';
import { startAuditRuntime, type AuditRuntime } from '../../src/audit/audit-runtime.js';
import { EXPORT_FORMAT, parseExportBuffer, type ExportLine } from '../../src/audit/export-format.js';
import { storedTrail } from '../../src/audit/store-trail.js';
import { verifyTrail } from '../../src/audit/verifier.js';
import { loadServerConfig } from '../../src/config/config.js';
import type { Storage } from '../../src/ports/storage.js';
import { runCli } from '../helpers/dev-server.js';
import { makeEvent } from '../storage/storage-contract.js';
import { PG_URL, pgQuery } from '../helpers/postgres.js';

const RUN = `dd_archive_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
const DAY = 86_400_000;
const T0 = Date.parse('2024-01-01T00:00:00Z');
let schemaCounter = 0;
const schemas: string[] = [];


interface Engine {
  name: 'sqlite' | 'postgres';
  open(dir: string): Promise<{ storage: Storage; sql: (text: string) => Promise<void> }>;
}

const ENGINES: Engine[] = [
  {
    name: 'sqlite',
    async open(dir) {
      const file = join(dir, 'dd.db');
      const storage = await openSqliteStorage({ file });
      const sql = async (text: string) => {
        const db = new Database(file);
        db.pragma('busy_timeout = 5000');
        try {
          db.exec(text);
        } finally {
          db.close();
        }
      };
      return { storage, sql };
    },
  },
  {
    name: 'postgres',
    async open() {
      const schema = `${RUN}_${++schemaCounter}`;
      schemas.push(schema);
      const storage = await openPostgresStorage({ connectionString: PG_URL, schema, poolSize: 4 });
      return { storage, sql: async (text: string) => void (await pgQuery(`set search_path to "${schema}"; ${text}`)) };
    },
  },
];

afterAll(async () => {
  for (const schema of schemas) await pgQuery(`drop schema if exists "${schema}" cascade`);
});

const keyMap = (keys: readonly AuditPublicKey[]) => new Map(keys.map((k) => [k.id, new Uint8Array(Buffer.from(k.publicKey, 'base64'))]));
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

for (const engine of ENGINES) {
  describe(`audit retention (${engine.name})`, () => {
    let dir: string;
    let archiveDir: string;
    let storage: Storage;
    let sql: (text: string) => Promise<void>;
    let runtime: AuditRuntime;
    let chainId: string;
    const clock = { t: T0, now: () => new Date(clock.t) };

    /** `n` events at the clock's time, then a signed checkpoint of the head; then a day passes. */
    const day = async (n: number) => {
      await Promise.all(Array.from({ length: n }, () => runtime.log.record(makeEvent({ eventTime: clock.now() }))));
      expect(await runtime.checkpointer.flush()).toBe(1);
      clock.t += DAY;
    };
    const archiver = (options: { store?: Storage; maxEventsPerFile?: number } = {}): AuditArchiver =>
      createAuditArchiver({ store: options.store ?? storage, keyring: runtime.keyring, clock, dir: archiveDir, retentionDays: 365, batchSize: 7, maxEventsPerFile: options.maxEventsPerFile ?? 50 });
    const keys = () => runtime.keyring.publicKeys();
    const verifyOnline = () => verifyTrail(storedTrail(storage, { publicKeys: keys() }), { publicKeys: keyMap(keys()) });
    const verifyFile = async (file: string) => verifyTrail(parseExportBuffer(await readFile(file)), { publicKeys: keyMap(keys()) });
    const sequences = async () => {
      const events = await storage.readChain(chainId, { limit: 10_000 });
      return events.map((e) => e.sequence);
    };
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), `dd-archive-${engine.name}-`));
      archiveDir = join(dir, 'archive');
      ({ storage, sql } = await engine.open(dir));
      const root = await openLocalRootOfTrust(join(dir, 'root.key'));
      clock.t = T0;
      runtime = startAuditRuntime({ store: storage, root, clock, sealed: () => false, checkpointEvents: 1_000_000, checkpointSeconds: 3600 });
      await runtime.ready();
      // Days 0 and 1: 40 events each (checkpoints at 40 and 80); a year and more later, 40 more (checkpoint at 120).
      await day(40);
      await day(40);
      clock.t = T0 + 500 * DAY;
      await day(40);
      chainId = runtime.chainId();
    });
    afterEach(async () => {
      await runtime.close();
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('archives segments older than the retention at signed checkpoints; the trail and each file verify on their own', async () => {
      const summary = await archiver().run();
      expect(summary.segments.map((s) => [s.firstSequence, s.lastSequence])).toEqual([
        [1, 40],
        [41, 80],
      ]);
      expect(summary).toMatchObject({ dryRun: false, deleted: 80, skipped: [] });
      expect(await sequences()).toEqual(range(81, 120));

      const online = await verifyOnline();
      expect(online).toMatchObject({ ok: true, events: 40, archives: 2, breaks: [] });
      expect(online.chains[0]).toMatchObject({ chainId, firstSequence: 81, lastSequence: 120, archives: 2, archivedThrough: 80 });

      // The remaining trail as an export file verifies offline.
      const lines: string[] = [];
      for await (const line of storedTrail(storage, { publicKeys: keys() })) lines.push(JSON.stringify(line));
      await writeFile(join(dir, 'remaining.jsonl'), `${lines.join('\n')}\n`);
      expect(await verifyFile(join(dir, 'remaining.jsonl'))).toMatchObject({ ok: true, events: 40 });

      // Each archive file verifies alone; its SHA-256 is the one its signed record names.
      const records = await storage.listArchiveRecords({ chainId });
      expect(records.map((r) => [r.firstSequence, r.lastSequence])).toEqual([
        [1, 40],
        [41, 80],
      ]);
      expect((await readdir(archiveDir)).sort()).toEqual(records.map((r) => r.file).sort());
      for (const r of records) {
        const bytes = await readFile(join(archiveDir, r.file));
        expect(sha256(bytes)).toBe(r.fileSha256);
        const report = await verifyFile(join(archiveDir, r.file));
        expect(report).toMatchObject({ ok: true, events: 40 });
        expect(report.chains[0]).toMatchObject({ firstSequence: r.firstSequence, lastSequence: r.lastSequence });
      }
      // A second run has nothing to do.
      expect(await archiver().run()).toMatchObject({ segments: [], deleted: 0, skipped: [] });
    });

    it('a dry run lists what is due and changes nothing', async () => {
      const summary = await archiver({ maxEventsPerFile: 1000 }).run({ dryRun: true });
      expect(summary.segments).toEqual([{ chainId, firstSequence: 1, lastSequence: 80, events: 80, file: null }]);
      expect(await sequences()).toEqual(range(1, 120));
      expect(await storage.listArchiveRecords()).toEqual([]);
    });

    it('still detects a deletion: a prefix deleted without an archive record, past the archive, or with its record removed', async () => {
      await sql(`delete from audit_events where chain_seq <= 30`);
      expect((await verifyOnline()).firstBreak).toMatchObject({ kind: 'deleted', sequence: 1, message: expect.stringMatching(/events 1\.\.30 are missing/) });

      await sql(`delete from audit_events where chain_seq <= 40`);
      // Archiving refuses to launder it: the segment does not verify, nothing is recorded or deleted.
      const summary = await archiver().run();
      expect(summary.segments).toEqual([]);
      expect(summary.skipped[0]!.reason).toMatch(/not archived: .*events 1\.\.40 are missing/);
      expect(await storage.listArchiveRecords()).toEqual([]);
      expect(await sequences()).toEqual(range(41, 120));
    });

    it('detects events deleted after the archived prefix, and an archive record removed by the database administrator', async () => {
      await archiver().run();
      await sql(`delete from audit_events where chain_seq <= 90`);
      expect((await verifyOnline()).firstBreak).toMatchObject({ kind: 'deleted', sequence: 81, message: expect.stringMatching(/events 81\.\.90 are missing/) });
      await sql(`delete from audit_archives where first_sequence = 41`);
      expect((await verifyOnline()).firstBreak).toMatchObject({ kind: 'deleted', sequence: 41 });
    });

    it('detects a forged archive record: a database administrator cannot sign one', async () => {
      const events = await storage.readChain(chainId, { limit: 40 });
      await sql(`delete from audit_events where chain_seq <= 40`);
      const attacker = generateKeyPairSync('ed25519').privateKey;
      const forger = { keyId: keys()[0]!.id, sign: async (payload: Uint8Array) => sign(null, payload, attacker) };
      await storage.appendArchiveRecord(
        await signArchiveRecord({ chainId, firstSequence: 1, lastSequence: 40, previousHash: '0'.repeat(64), lastHash: events.at(-1)!.hash, time: clock.now(), file: 'made-up.jsonl', fileSha256: '0'.repeat(64) }, forger),
      );
      const report = await verifyOnline();
      expect(report.ok).toBe(false);
      expect(report.firstBreak).toMatchObject({ kind: 'forged-archive', sequence: 1, message: expect.stringMatching(/archive record of events 1\.\.40 is not signed by a trusted audit key \(bad signature\)/) });
    });

    it('an edited archive file no longer verifies and no longer matches its record', async () => {
      await archiver().run();
      const [record] = await storage.listArchiveRecords({ chainId });
      const path = join(archiveDir, record!.file);
      const lines = (await readFile(path, 'utf8')).split('\n');
      const at = lines.findIndex((l) => l.includes('"type":"event"'));
      const event = JSON.parse(lines[at]!) as { record: string };
      event.record = event.record.replace('"eventName":"Encrypt"', '"eventName":"ListKeys"');
      lines[at] = JSON.stringify(event);
      await writeFile(path, lines.join('\n'));
      const edited = await readFile(path);
      expect(sha256(edited)).not.toBe(record!.fileSha256);
      expect((await verifyFile(path)).firstBreak).toMatchObject({ kind: 'edited', sequence: 1 });
    });

    it('loses nothing when it fails after writing the file and before recording it; a re-run completes without duplicates', async () => {
      const failing = Object.create(storage) as Storage;
      failing.appendArchiveRecord = () => Promise.reject(new Error('crash before the record'));
      await expect(archiver({ store: failing }).run()).rejects.toThrow('crash before the record');
      expect(await storage.listArchiveRecords()).toEqual([]);
      expect(await sequences()).toEqual(range(1, 120));
      const leftOver = await readdir(archiveDir);
      expect(leftOver).toHaveLength(1);
      expect((await verifyOnline()).ok).toBe(true);

      const summary = await archiver().run();
      expect(summary.segments).toHaveLength(2);
      const records = await storage.listArchiveRecords();
      expect(records.map((r) => r.firstSequence)).toEqual([1, 41]);
      expect(records.some((r) => leftOver.includes(r.file))).toBe(false);
      expect(await sequences()).toEqual(range(81, 120));
      expect((await verifyOnline()).ok).toBe(true);
    });

    it('removes its temporary file when writing fails, and sweeps one a crash left behind once it is an hour old', async () => {
      const failing = Object.create(storage) as Storage;
      failing.readChain = () => Promise.reject(new Error('storage gone mid-write'));
      await expect(archiver({ store: failing }).run()).rejects.toThrow('storage gone mid-write');
      expect(await readdir(archiveDir)).toEqual([]);

      const stale = join(archiveDir, `.audit-${chainId}-000000000001-000000000040-0badf00d.jsonl.partial`);
      const young = join(archiveDir, `.audit-${chainId}-000000000001-000000000040-0ddba11a.jsonl.partial`);
      await writeFile(stale, 'crashed');
      await writeFile(young, 'being written by another process');
      const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
      await utimes(stale, twoHoursAgo, twoHoursAgo);
      await archiver().run();
      const left = await readdir(archiveDir);
      expect(left).not.toContain(basename(stale));
      expect(left).toContain(basename(young));
    });

    it('loses nothing when it fails after recording and before (or while) deleting; a re-run finishes the deletion', async () => {
      const failing = Object.create(storage) as Storage;
      let calls = 0;
      failing.deleteArchivedEvents = (...args) => (++calls === 3 ? Promise.reject(new Error('crash while deleting')) : storage.deleteArchivedEvents(...args));
      await expect(archiver({ store: failing }).run()).rejects.toThrow('crash while deleting');
      expect((await storage.listArchiveRecords()).map((r) => r.firstSequence)).toEqual([1]);
      expect(await sequences()).toEqual(range(15, 120));
      // Archived events still present (a deletion under way) verify against their record.
      expect(await verifyOnline()).toMatchObject({ ok: true, events: 106 });

      const summary = await archiver().run();
      expect(summary.deleted).toBe(26 + 40);
      expect((await storage.listArchiveRecords()).map((r) => [r.firstSequence, r.lastSequence])).toEqual([
        [1, 40],
        [41, 80],
      ]);
      expect(await sequences()).toEqual(range(81, 120));
      expect((await verifyOnline()).ok).toBe(true);
    });

    it('two archivers at once corrupt nothing: one record per segment, every recorded file present and verifying', async () => {
      await Promise.all([archiver().run(), archiver().run(), archiver().run()]);
      await archiver().run();
      const records = await storage.listArchiveRecords();
      expect(records.map((r) => [r.firstSequence, r.lastSequence])).toEqual([
        [1, 40],
        [41, 80],
      ]);
      expect((await readdir(archiveDir)).filter((f) => !f.startsWith('.')).sort()).toEqual(records.map((r) => r.file).sort());
      for (const r of records) expect(sha256(await readFile(join(archiveDir, r.file)))).toBe(r.fileSha256);
      expect(await sequences()).toEqual(range(81, 120));
      expect((await verifyOnline()).ok).toBe(true);
    });

    it('storage deletes only what a record covers and admits only records that continue the chain', async () => {
      await expect(storage.deleteArchivedEvents(chainId, 1, 10)).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
      expect(await sequences()).toEqual(range(1, 120));
      await archiver().run();
      await expect(storage.deleteArchivedEvents(chainId, 81, 90)).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
      const [first] = await storage.listArchiveRecords();
      await expect(storage.appendArchiveRecord(first!)).rejects.toMatchObject({ code: 'ERR_ALREADY_EXISTS' });
      await expect(storage.appendArchiveRecord({ ...first!, firstSequence: 90, lastSequence: 100 })).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
      await expect(storage.appendArchiveRecord({ ...first!, firstSequence: 30, lastSequence: 100 })).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    });

    if (engine.name === 'sqlite') {
      it('`datadefender audit verify --file` accepts an archive file offline with the pinned key, and refuses an edited one', async () => {
        await archiver().run();
        const pem = join(dir, 'audit.pem');
        await writeFile(pem, publicKeyPem(keys()[0]!));
        const [, second] = await storage.listArchiveRecords();
        const file = join(archiveDir, second!.file);
        const ok = await runCli(['audit', 'verify', '--file', file, '--public-key', pem]);
        expect(ok.stderr).toBe('');
        expect(ok.code).toBe(0);
        expect(ok.stdout).toMatch(/^OK: 40 events in 1 chain\(s\), 1 signed checkpoint\(s\)/);
        expect(ok.stdout).toContain('events 41..80 (40), last checkpoint 80 at');
        expect(ok.stdout).toContain('archived 1..40 (1 signed record(s))');
        const text = await readFile(file, 'utf8');
        await writeFile(join(dir, 'cut.jsonl'), text.replace(/\n[^\n]*"type":"archive"[^\n]*/, ''));
        const cut = await runCli(['audit', 'verify', '--file', join(dir, 'cut.jsonl'), '--public-key', pem]);
        expect(cut.code).toBe(3);
        expect(cut.stdout).toMatch(/first break: \[deleted\] .*events 1\.\.40 are missing/);
      });
    }
  });
}

describe('export format versions', () => {
  it('an archive record under a format 1 header is refused; format 1 exports still parse', () => {
    const header = JSON.stringify({ type: 'header', format: EXPORT_FORMAT, exportedAt: '2026-01-01T00:00:00.000Z', publicKeys: [] });
    const archive = JSON.stringify({ type: 'archive', chainId: 'c', firstSequence: 1, lastSequence: 2, previousHash: 'a', lastHash: 'b', time: 't', file: 'f', fileSha256: 's', keyId: 'k', payload: 'p', signature: 'x' });
    expect([...parseExportBuffer(Buffer.from(`${header}\n`))].map((l: ExportLine) => l.type)).toEqual(['header']);
    expect(() => [...parseExportBuffer(Buffer.from(`${header}\n${archive}\n`))]).toThrow(/Line 2 of the export is an archive record, which datadefender-audit-export\/1 does not have/);
  });
});

describe('retention configuration', () => {
  const base = { DATADEFENDER_AUDIT_ARCHIVE_DIR: '/var/lib/datadefender/audit-archive' };
  it('keeps everything by default and accepts 365 days or more with an archive directory', () => {
    expect(loadServerConfig({}, {}).auditRetentionDays).toBe(0);
    expect(loadServerConfig({}, { ...base, DATADEFENDER_AUDIT_RETENTION_DAYS: '365' })).toMatchObject({ auditRetentionDays: 365, auditArchiveDir: base.DATADEFENDER_AUDIT_ARCHIVE_DIR });
  });
  it('refuses a retention under 365 days (PCI DSS 10.5.1) and one without an archive directory', () => {
    expect(() => loadServerConfig({}, { ...base, DATADEFENDER_AUDIT_RETENTION_DAYS: '364' })).toThrow(/auditRetentionDays: an audit retention must be at least 365 days \(PCI DSS 10\.5\.1/);
    expect(() => loadServerConfig({}, { DATADEFENDER_AUDIT_RETENTION_DAYS: '400' })).toThrow(/auditArchiveDir: an audit retention needs auditArchiveDir/);
  });
});

/**
 * Audit retention end to end, on SQLite and on PostgreSQL: a dev server configured with a 365-day retention and an
 * archive directory; `datadefender audit archive [--dry-run]` works for an administrator and a compliance officer,
 * is denied to a security analyst, and is itself on the trail; the trail (with its ArchiveAuditTrail events) still
 * verifies online. (Archiving real old segments needs a year-old trail: test/audit/archive.test.ts does it with a
 * manual clock on both engines, and runs `audit verify --file` on an archive file.)
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPrincipal } from '../helpers/principals.js';
import { runCli, startDevServer, type DevServer } from '../helpers/dev-server.js';
import { PG_URL, pgQuery } from '../helpers/postgres.js';

const schema = `dd_archive_e2e_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;


const ENGINES = [
  { name: 'sqlite', env: (): Record<string, string> => ({}), cleanup: async () => {} },
  { name: 'postgres', env: (): Record<string, string> => ({ DATADEFENDER_DATABASE_URL: PG_URL, DATADEFENDER_DATABASE_SCHEMA: schema }), cleanup: () => pgQuery(`drop schema if exists "${schema}" cascade`) },
];

for (const engine of ENGINES) {
  describe(`audit retention end to end (${engine.name})`, () => {
    let dir: string;
    let server: DevServer;
    const cli = (creds: string, ...args: string[]) => runCli(['--credentials', creds, ...args]);

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), `dd-archive-e2e-${engine.name}-`));
      server = await startDevServer(dir, {
        env: { DATADEFENDER_AUDIT_RETENTION_DAYS: '365', DATADEFENDER_AUDIT_ARCHIVE_DIR: join(dir, 'archive'), DATADEFENDER_AUDIT_CHECKPOINT_EVENTS: '5', ...engine.env() },
      });
    });
    afterAll(async () => {
      await server?.stop();
      await engine.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    it('archives on demand for administrators and compliance officers, denies security analysts, and audits each call', async () => {
      const admin = join(dir, 'dev-credentials.json');
      const dry = await cli(admin, 'audit', 'archive', '--dry-run');
      expect(dry.stderr).toBe('');
      expect(dry.code).toBe(0);
      expect(dry.stdout).toMatch(/^0 segment\(s\) due \(events before \d{4}-/);

      const real = await cli(admin, '--json', 'audit', 'archive');
      expect(real.code).toBe(0);
      const summary = JSON.parse(real.stdout) as { dryRun: boolean; segments: unknown[]; deleted: number; cutoff: string };
      expect(summary).toMatchObject({ dryRun: false, segments: [], deleted: 0 });
      // The cutoff is the retention before now: a year and a day at most.
      expect(Date.now() - Date.parse(summary.cutoff)).toBeGreaterThanOrEqual(365 * 86_400_000 - 60_000);
      expect(await readdir(join(dir, 'archive'))).toEqual([]);

      const officerCreds = await addPrincipal(server.credentials, 'officer', { roles: ['compliance-officer'] });
      const analystCreds = await addPrincipal(server.credentials, 'analyst', { roles: ['security-analyst'] });
      await writeFile(join(dir, 'officer.json'), JSON.stringify(officerCreds));
      await writeFile(join(dir, 'analyst.json'), JSON.stringify(analystCreds));
      expect((await cli(join(dir, 'officer.json'), 'audit', 'archive', '--dry-run')).code).toBe(0);
      const denied = await cli(join(dir, 'analyst.json'), 'audit', 'archive');
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toMatch(/not authorized|AccessDenied/i);

      const found = await cli(admin, '--json', 'audit', 'search', '--event-name', 'ArchiveAuditTrail');
      expect(found.code).toBe(0);
      const events = (JSON.parse(found.stdout) as { events: { outcome: string; principal: string }[] }).events;
      expect(events.filter((e) => e.outcome !== 'attempt').map((e) => e.outcome).sort()).toEqual(['denied', 'success', 'success', 'success']);
      expect(events.some((e) => e.outcome === 'denied' && e.principal.endsWith('/analyst'))).toBe(true);

      const verified = await cli(admin, 'audit', 'verify');
      expect(verified.stderr).toBe('');
      expect(verified.code).toBe(0);
      expect(verified.stdout).toMatch(/^OK: \d+ events in 1 chain\(s\)/);
    });
  });
}

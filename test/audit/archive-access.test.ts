/**
 * Applying the audit retention is an authorized, audited operation (datadefender:ArchiveAuditTrail: administrators,
 * compliance officers and DataDefender's own jobs; not security analysts), refused when no retention is configured;
 * the background job runs it on its timer, skips while paused, and stops cleanly.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArchiveSummary } from '../../src/audit/archiver.js';
import { jobContext } from '../../src/core/job-context.js';
import { startAuditArchiveJob } from '../../src/jobs/audit-archive-job.js';
import { context, coreFixture } from '../helpers/core-fixture.js';

describe('ArchiveAuditTrail', () => {
  let fx: Awaited<ReturnType<typeof coreFixture>>;
  beforeEach(async () => {
    fx = await coreFixture();
  });
  afterEach(async () => {
    await fx.close();
  });

  it('is denied to a security analyst, allowed to administrators, compliance officers and jobs, and refused without a retention; every call is audited', async () => {
    const archive = (roles: string[]) => fx.service.auditTrail.archive(context(roles), { dryRun: true });
    await expect(archive(['security-analyst'])).rejects.toMatchObject({ code: 'ERR_ACCESS_DENIED' });
    await expect(archive(['data-engineer'])).rejects.toMatchObject({ code: 'ERR_ACCESS_DENIED' });
    for (const roles of [['administrator'], ['compliance-officer']]) {
      await expect(archive(roles)).rejects.toMatchObject({ code: 'ERR_INVALID_STATE', message: expect.stringMatching(/No audit retention is configured/) });
    }
    await expect(fx.service.auditTrail.archive(jobContext(fx.service.scope), { dryRun: false })).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    const events = await fx.storage.readAudit({ limit: 100, eventName: 'ArchiveAuditTrail' });
    const outcomes = events.filter((e) => e.outcome !== 'attempt').map((e) => e.outcome);
    expect(outcomes).toEqual(['denied', 'denied', 'failure', 'failure', 'failure']);
    expect(events.at(-1)!.details).toMatchObject({ dryRun: false });
  });
});

describe('the audit archive job', () => {
  const summary: ArchiveSummary = { dryRun: false, cutoff: new Date(0).toISOString(), segments: [], deleted: 0, skipped: [] };

  it('runs first after its first delay, then on its interval, never while paused, and not after stop', async () => {
    let runs = 0;
    let paused = false;
    const job = startAuditArchiveJob({ archive: async () => (runs++, summary), logger: pino({ level: 'silent' }), firstRunMs: 10, intervalMs: 30, paused: () => paused });
    await new Promise((r) => setTimeout(r, 120));
    expect(runs).toBeGreaterThanOrEqual(2);
    paused = true;
    await new Promise((r) => setTimeout(r, 40));
    const whilePaused = runs;
    await new Promise((r) => setTimeout(r, 100));
    expect(runs).toBe(whilePaused);
    expect(await job.runOnce()).toBe(summary);
    await job.stop();
    paused = false;
    const stopped = runs;
    await new Promise((r) => setTimeout(r, 100));
    expect(runs).toBe(stopped);
  });

  it('a failing run is reported and the next one still runs', async () => {
    let calls = 0;
    const errors: unknown[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void errors.push(line) });
    const job = startAuditArchiveJob({ archive: async () => (++calls === 1 ? Promise.reject(new Error('disk full')) : summary), logger, firstRunMs: 60_000 });
    await expect(job.runOnce()).rejects.toThrow('disk full');
    expect(await job.runOnce()).toBe(summary);
    await job.stop();
    expect(errors.join('')).toContain('audit archive job failed');
  });
});

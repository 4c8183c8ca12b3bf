/**
 * The audit retention job: applies the retention (audit/archiver.ts, through core's audited ArchiveAuditTrail) on a
 * timer in the process that runs jobs.
 * Invariants: one run at a time in a process (a run never overlaps the previous one; the archiver serializes too);
 * the storage-level conditions of the archiver make runs in several processes at once safe; scheduled runs are
 * skipped while `paused()` (a sealed root: nothing can be signed); a failed run is logged and retried next time.
 */
import type { Logger } from 'pino';
import type { ArchiveSummary } from '../audit/archiver.js';

/** Retention is counted in days: once an hour is plenty. */
export const AUDIT_ARCHIVE_INTERVAL_MS = 3_600_000;
/** The first run, a minute after start (a process restarted more often than hourly still archives). */
export const AUDIT_ARCHIVE_FIRST_RUN_MS = 60_000;

export interface AuditArchiveJob {
  /** One full pass: archive and delete every segment due. */
  runOnce(): Promise<ArchiveSummary>;
  stop(): Promise<void>;
}

export function startAuditArchiveJob(deps: { archive: () => Promise<ArchiveSummary>; logger: Logger; intervalMs?: number; firstRunMs?: number; paused?: () => boolean }): AuditArchiveJob {
  const { archive, logger, intervalMs = AUDIT_ARCHIVE_INTERVAL_MS, firstRunMs = AUDIT_ARCHIVE_FIRST_RUN_MS, paused = () => false } = deps;
  let running: Promise<unknown> = Promise.resolve();

  const pass = async () => {
    const summary = await archive();
    if (summary.segments.length + summary.deleted > 0) logger.info({ segments: summary.segments.length, deleted: summary.deleted }, 'audit segments archived');
    for (const s of summary.skipped) logger.warn({ chainId: s.chainId }, `audit chain not archived: ${s.reason}`);
    return summary;
  };

  const runOnce = () => {
    const next = running.then(pass);
    running = next.catch((err: unknown) => logger.error({ err }, 'audit archive job failed'));
    return next;
  };

  let stopped = false;
  let timer: NodeJS.Timeout;
  const schedule = (ms: number) => {
    timer = setTimeout(() => {
      if (!paused()) void runOnce().catch(() => {});
      if (!stopped) schedule(intervalMs);
    }, ms);
    timer.unref();
  };
  schedule(firstRunMs);
  return {
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

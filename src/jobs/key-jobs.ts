/**
 * Background jobs that drive the core: automatic rotation and scheduled deletion, and pruning the metadata change
 * feed after them (its old rows are no longer read by anyone: core/metadata-feed.ts).
 * Invariants: one run at a time per process (a run never overlaps the previous one); each run works in
 * bounded batches until nothing is due; storage-level compare-and-swap makes concurrent runs in several
 * processes safe (a key is rotated or destroyed once); scheduled passes are skipped while `paused()` (a sealed root,
 * or this process not being the job leader: jobs/leader-lease.ts), and a pass stops before its next batch once it is
 * (or once stop() is called: shutdown waits for one batch, not for a whole pass).
 * Traffic first: between batches a pass yields to the event loop (a macrotask, plus `batchPauseMs` when set), so
 * requests queued behind a batch are served before the next batch starts; a deletion batch flushes destroyed
 * material once at its end (Storage.batchDestroys; SQLite: one WAL checkpoint per batch, not one per key).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { KeyService } from '../core/key-service.js';

export interface KeyJobs {
  /** One full pass: rotate and delete everything due. */
  runOnce(): Promise<{ rotated: number; deleted: number; failed: number }>;
  stop(): Promise<void>;
}

export function startKeyJobs(deps: {
  service: KeyService;
  intervalMs: number;
  batchSize: number;
  logger: Logger;
  paused?: () => boolean;
  /** Pause between two batches of one pass (0: just yield to the event loop). */
  batchPauseMs?: number;
  /** Storage.batchDestroys: one post-destroy flush per deletion batch instead of one per key. */
  batchDestroys?: <T>(work: () => Promise<T>) => Promise<T>;
  /** Deletes the metadata change feed's rows that no process reads any more; returns how many. */
  pruneChanges?: () => Promise<number>;
}): KeyJobs {
  const { service, intervalMs, batchSize, logger, paused = () => false, batchPauseMs = 0, batchDestroys = (work) => work(), pruneChanges = async () => 0 } = deps;
  let running: Promise<unknown> = Promise.resolve();
  let stopping = false;
  /** Checked before every batch: a pass ends early when paused or stopping (shutdown need not wait for 100,000 keys). */
  const halted = () => stopping || paused();

  const drain = async (step: () => Promise<{ done: number; failed: number }>) => {
    let done = 0;
    let failed = 0;
    for (let first = true; ; first = false) {
      if (!first) await sleep(batchPauseMs);
      if (halted()) return { done, failed };
      const r = await step();
      done += r.done;
      failed += r.failed;
      if (r.done + r.failed < batchSize || r.done === 0) return { done, failed };
    }
  };

  const pass = async () => {
    const rotation = await drain(async () => {
      const r = await service.rotation.rotateDueKeys(batchSize);
      return { done: r.rotated, failed: r.failed };
    });
    const deletion = await drain(async () => {
      const r = await batchDestroys(() => service.deletion.deleteDueKeys(batchSize));
      return { done: r.deleted, failed: r.failed };
    });
    const summary = { rotated: rotation.done, deleted: deletion.done, failed: rotation.failed + deletion.failed };
    if (summary.rotated + summary.deleted + summary.failed > 0) logger.info(summary, 'key jobs ran');
    if (!halted()) await pruneChanges();
    return summary;
  };

  const runOnce = () => {
    const next = running.then(pass);
    running = next.catch((err: unknown) => logger.error({ err }, 'key jobs failed'));
    return next;
  };

  const timer = setInterval(() => void (paused() ? undefined : runOnce().catch(() => {})), intervalMs);
  timer.unref();
  return {
    runOnce,
    async stop() {
      stopping = true;
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * Background jobs that drive the core: automatic rotation and scheduled deletion.
 * Invariants: one run at a time per process (a run never overlaps the previous one); each run works in
 * bounded batches until nothing is due; storage-level compare-and-swap makes concurrent runs in several
 * processes safe (a key is rotated or destroyed once); scheduled passes are skipped while `paused()` (a sealed root).
 */
import type { Logger } from 'pino';
import type { KeyService } from '../core/key-service.js';

export interface KeyJobs {
  /** One full pass: rotate and delete everything due. */
  runOnce(): Promise<{ rotated: number; deleted: number; failed: number }>;
  stop(): Promise<void>;
}

export function startKeyJobs(deps: { service: KeyService; intervalMs: number; batchSize: number; logger: Logger; paused?: () => boolean }): KeyJobs {
  const { service, intervalMs, batchSize, logger, paused = () => false } = deps;
  let running: Promise<unknown> = Promise.resolve();

  const drain = async (step: () => Promise<{ done: number; failed: number }>) => {
    let done = 0;
    let failed = 0;
    for (;;) {
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
      const r = await service.deletion.deleteDueKeys(batchSize);
      return { done: r.deleted, failed: r.failed };
    });
    const summary = { rotated: rotation.done, deleted: deletion.done, failed: rotation.failed + deletion.failed };
    if (summary.rotated + summary.deleted + summary.failed > 0) logger.info(summary, 'key jobs ran');
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
      clearInterval(timer);
      await running;
    },
  };
}

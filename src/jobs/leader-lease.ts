/**
 * Leader election for the background jobs through a lease in the shared storage: every server process (every worker
 * of `--workers N`, every node on one PostgreSQL) competes, and a job wrapped by `runWhileLeader` runs only in the
 * process that holds the lease.
 *
 * Invariants:
 * - At most one process believes it leads at any instant, given clocks that tick at the same rate (offsets between
 *   hosts do not matter): the lease's expiry lives in the database's clock, and a process counts its own lease
 *   `durationMs` from the moment it *sent* the acquire-or-renew on its monotonic clock — never later than the database
 *   started counting — so it stops believing it leads no later than the database lets another process take over.
 * - The holder renews every `renewMs` (a third of the lease by default); any process that is not the holder retries
 *   at the same pace, so a lease left by a stopped or crashed holder moves within `durationMs + renewMs`.
 * - A holder that loses the lease (a failed renewal until expiry, or a pause — GC, SIGSTOP — past expiry) stops
 *   starting new batches: the wrapped job's `paused` predicate turns true and key-jobs checks it before every batch.
 *   What it had already started (at most the key in flight) is kept harmless by the per-key compare-and-swap in
 *   storage, not by the fencing token: a rotation is Storage.addVersion's CAS on current_version and a deletion is
 *   Storage.destroyKey's conditional re-check, so a stale holder racing the new one cannot rotate a key twice or
 *   destroy one that is not due. The epoch (fencing token) is reported in status and logs to make takeovers visible.
 * - `stop()` releases the lease (only if still held at the same epoch) after the jobs have stopped, so a clean
 *   shutdown hands over at the next renewal interval instead of waiting for expiry.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { JobLeaseStore } from '../ports/job-lease-store.js';

/** A background job: a pass on demand, and stop (waits for the pass in flight). */
export interface Job<R> {
  runOnce(): Promise<R>;
  stop(): Promise<void>;
}

export interface LeaderStatus {
  /** Whether this process holds the lease now. */
  leader: boolean;
  /** This process's holder id. */
  holder: string;
  /** The fencing epoch of the lease while this process holds it, else null. */
  epoch: number | null;
}

export interface LeaderLease {
  isLeader(): boolean;
  status(): LeaderStatus;
  /** Stops competing and releases the lease if held. Call after the wrapped jobs have stopped. */
  stop(): Promise<void>;
}

export interface LeaderLeaseOptions {
  store: JobLeaseStore;
  /** The lease's name: every process competing for the same jobs uses the same name. */
  name: string;
  durationMs: number;
  renewMs: number;
  logger: Logger;
  /** Unique per process; default hostname:pid:random. */
  holder?: string;
  /** Monotonic milliseconds; default performance.now. */
  monotonic?: () => number;
}

/** A process-unique holder id: readable in logs (host and pid) and unique across restarts. */
export const processHolderId = () => `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

/**
 * Starts competing for the lease; resolves after the first attempt, so `isLeader()` is meaningful at once.
 * Storage errors never throw from here: they are logged, and a held lease simply runs out.
 */
export async function startLeaderLease(options: LeaderLeaseOptions): Promise<LeaderLease> {
  const { store, name, durationMs, renewMs, logger, holder = processHolderId(), monotonic = () => performance.now() } = options;
  let deadline = -Infinity;
  let epoch: number | null = null;
  let stopped = false;
  const isLeader = () => !stopped && monotonic() < deadline;

  const attempt = async () => {
    const sentAt = monotonic();
    const wasLeader = isLeader();
    try {
      const lease = await store.acquireJobLease(name, holder, durationMs);
      if (lease) {
        deadline = sentAt + durationMs;
        if (!wasLeader || lease.epoch !== epoch) logger.info({ lease: name, holder, epoch: lease.epoch }, 'this process is now the job leader');
        epoch = lease.epoch;
      } else {
        if (wasLeader) logger.warn({ lease: name, holder, epoch }, 'lost the job lease to another process');
        deadline = -Infinity;
        epoch = null;
      }
    } catch (err) {
      logger.warn({ err, lease: name }, 'could not renew the job lease; it runs out unless a later renewal succeeds');
    }
  };

  let inFlight: Promise<void> = attempt();
  await inFlight;
  const timer = setInterval(() => {
    inFlight = inFlight.then(attempt);
  }, renewMs);
  timer.unref();

  return {
    isLeader,
    status: () => ({ leader: isLeader(), holder, epoch: isLeader() ? epoch : null }),
    async stop() {
      clearInterval(timer);
      await inFlight;
      const held = isLeader() ? epoch : null;
      stopped = true;
      if (held === null) return;
      await store.releaseJobLease(name, holder, held).catch((err: unknown) => logger.warn({ err, lease: name }, 'could not release the job lease; it expires by itself'));
    },
  };
}

/**
 * Starts a job that runs only while `lease` is held by this process. `start` receives the predicate to pass as
 * (part of) the job's `paused` option: true while this process is not the leader, so its own timer skips passes
 * and a pass in progress stops before its next batch. `runOnce()` on a follower resolves to undefined without running.
 */
export function runWhileLeader<R>(lease: Pick<LeaderLease, 'isLeader'>, start: (notLeader: () => boolean) => Job<R>): Job<R | undefined> {
  const notLeader = () => !lease.isLeader();
  const job = start(notLeader);
  return {
    runOnce: () => (notLeader() ? Promise.resolve(undefined) : job.runOnce()),
    stop: () => job.stop(),
  };
}

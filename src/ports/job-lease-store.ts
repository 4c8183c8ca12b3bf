/**
 * What leader election for the background jobs (jobs/leader-lease.ts) needs of storage: named leases in the shared
 * database, so every server process — every worker on one node, every node on one PostgreSQL — competes for them.
 * Invariants: acquire-or-renew is one atomic conditional statement, so of any number of concurrent callers at most one
 * holds a lease at a time; a lease's expiry is computed from the database's clock only (never a caller's), so
 * processes with skewed clocks agree on who holds it; the epoch (fencing token) grows by one every time the lease
 * changes hands and never decreases.
 */

export interface JobLease {
  name: string;
  /** Opaque id of the holding process. */
  holder: string;
  /** The fencing token: increases each time the lease passes to a different holder (or is taken again after a release). */
  epoch: number;
  /** In the database's clock. */
  expiresAt: Date;
}

export interface JobLeaseStore {
  /**
   * Takes lease `name` for `holder` when it is free, expired or released, or renews it when `holder` holds it already;
   * either way it then expires `durationMs` after the database's current time. Returns the lease when `holder` holds
   * it after the call, undefined when another holder's unexpired lease stands.
   */
  acquireJobLease(name: string, holder: string, durationMs: number): Promise<JobLease | undefined>;
  /** Gives lease `name` up, only if `holder` holds it at `epoch`; returns whether it did. */
  releaseJobLease(name: string, holder: string, epoch: number): Promise<boolean>;
  /** The lease as stored (possibly expired or released), if it was ever taken. */
  getJobLease(name: string): Promise<JobLease | undefined>;
}

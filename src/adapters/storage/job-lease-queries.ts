/**
 * The JobLeaseStore over Kysely (both engines): leases for leader election of the background jobs.
 * Invariants:
 * - acquireJobLease is one INSERT ... ON CONFLICT DO UPDATE ... WHERE: on PostgreSQL the conflicting row is locked and
 *   the WHERE re-evaluated on its latest version, on SQLite every write is serialized, so of concurrent callers at most
 *   one holds an unexpired lease; a losing caller changes nothing and gets no row back.
 * - Time is the database's only: "now" is statement_timestamp() (PostgreSQL) or unixepoch('subsec') (SQLite, one
 *   file on one host), read inside the statement; callers' clocks never reach the row.
 * - The epoch grows by one whenever the lease is taken rather than renewed (another holder, or after expiry or
 *   release); a live renewal by its holder keeps it. Release only by the holder at its epoch (sets the expiry to 0).
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { ValidationError } from '../../errors/index.js';
import type { JobLease, JobLeaseStore } from '../../ports/job-lease-store.js';
import type { StorageDatabase } from './schema.js';
import type { ConflictMapping } from './storage-dialect.js';

type Guard = <T>(work: () => Promise<T>, conflicts?: ConflictMapping) => Promise<T>;

/** The database's current time in epoch milliseconds, per engine. */
const NOW_MS: Record<'sqlite' | 'postgres', RawBuilder<number>> = {
  sqlite: sql<number>`cast(unixepoch('subsec') * 1000 as integer)`,
  postgres: sql<number>`(extract(epoch from statement_timestamp()) * 1000)::bigint`,
};

interface LeaseRow {
  name: string;
  holder: string;
  epoch: number | string;
  expires_at: number | string;
}

const toLease = (r: LeaseRow): JobLease => ({ name: r.name, holder: r.holder, epoch: Number(r.epoch), expiresAt: new Date(Number(r.expires_at)) });

function checkDuration(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 1) throw new ValidationError('The lease duration must be a positive integer of milliseconds.');
  return ms;
}

export function createJobLeaseQueries(db: Kysely<StorageDatabase>, guard: Guard, kind: 'sqlite' | 'postgres'): JobLeaseStore {
  const now = NOW_MS[kind];
  return {
    acquireJobLease(name, holder, durationMs) {
      return guard(async () => {
        const duration = checkDuration(durationMs);
        const { rows } = await sql<LeaseRow>`
          insert into job_leases (name, holder, epoch, expires_at) values (${name}, ${holder}, 1, ${now} + ${duration})
          on conflict (name) do update set
            epoch = case when job_leases.holder = excluded.holder and job_leases.expires_at > ${now} then job_leases.epoch else job_leases.epoch + 1 end,
            holder = excluded.holder,
            expires_at = excluded.expires_at
          where job_leases.holder = excluded.holder or job_leases.expires_at <= ${now}
          returning name, holder, epoch, expires_at`.execute(db);
        return rows[0] && toLease(rows[0]);
      });
    },

    releaseJobLease(name, holder, epoch) {
      return guard(async () => {
        const r = await db.updateTable('job_leases').set({ expires_at: 0 }).where('name', '=', name).where('holder', '=', holder).where('epoch', '=', epoch).executeTakeFirst();
        return r.numUpdatedRows === 1n;
      });
    },

    getJobLease(name) {
      return guard(async () => {
        const row = await db.selectFrom('job_leases').selectAll().where('name', '=', name).executeTakeFirst();
        return row && toLease(row);
      });
    },
  };
}

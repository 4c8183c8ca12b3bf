/**
 * Migration 0010: leases for leader election of the background jobs (issue #8): one row per job name, holding the
 * holder process's id, the fencing epoch and the expiry in the database's clock (epoch milliseconds).
 * Invariant: append-only like every migration (never edit once released). Table types live here, beside the DDL.
 */
import { sql, type ColumnDataType, type Expression, type Kysely, type Migration } from 'kysely';

/** job_leases rows. */
export interface JobLeasesTable {
  name: string;
  holder: string;
  epoch: number;
  expires_at: number;
}

/** The column types this migration needs (a slice of migrations.ts's MigrationDialect; not imported: no cycle). */
interface JobLeaseColumnTypes {
  idText: ColumnDataType | Expression<unknown>;
}

export function jobLeases(d: JobLeaseColumnTypes): Migration {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the schema at migration 0010 is not today's
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('job_leases')
        .addColumn('name', d.idText, (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('epoch', 'bigint', (c) => c.notNull().check(sql`epoch >= 1`))
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}

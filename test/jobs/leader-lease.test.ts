/**
 * Leader election for the jobs through a storage lease, on SQLite (several connections to one file) and on PostgreSQL
 * (several pools on one schema): of concurrent contenders exactly one holds the lease; renewal keeps it; it moves when
 * the holder stops or expires; the fencing epoch grows on every change of hands; a job wrapped by the lease runs only
 * in the leader. PostgreSQL must be reachable: when it is not, these tests fail; they never skip.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPostgresStorage } from '../../src/adapters/storage/postgres/index.js';
import { openSqliteStorage } from '../../src/adapters/storage/sqlite/index.js';
import { startKeyJobs } from '../../src/jobs/key-jobs.js';
import { runWhileLeader, startLeaderLease, type LeaderLease } from '../../src/jobs/leader-lease.js';
import type { Storage } from '../../src/ports/storage.js';
import { context, coreFixture } from '../helpers/core-fixture.js';

const PG_URL = process.env.DATADEFENDER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUN = `dd_lease_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const silent = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(async () => {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  const { rows } = await client.query<{ nspname: string }>('select nspname from pg_namespace where nspname like $1', [`${RUN}%`]);
  for (const { nspname } of rows) await client.query(`drop schema if exists "${nspname}" cascade`);
  await client.end();
});

interface Engine {
  /** A fresh database and `n` separate storages (own connections) on it. */
  open(n: number): Promise<{ storages: Storage[]; close(): Promise<void> }>;
}

let schemas = 0;
const ENGINES: Record<'sqlite' | 'postgres', Engine> = {
  sqlite: {
    async open(n) {
      const dir = await mkdtemp(join(tmpdir(), 'dd-lease-'));
      const storages: Storage[] = [];
      for (let i = 0; i < n; i++) storages.push(await openSqliteStorage({ file: join(dir, 'dd.db') }));
      return {
        storages,
        async close() {
          for (const s of storages) await s.close();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  },
  postgres: {
    async open(n) {
      const schema = `${RUN}_${++schemas}`;
      const storages: Storage[] = [];
      for (let i = 0; i < n; i++) storages.push(await openPostgresStorage({ connectionString: PG_URL, schema, poolSize: 4 }));
      return {
        storages,
        async close() {
          for (const s of storages) await s.close();
        },
      };
    },
  },
};

describe.each(Object.entries(ENGINES))('job lease store on %s', (_engine, engine) => {
  let db: Awaited<ReturnType<Engine['open']>>;
  beforeEach(async () => {
    db = await engine.open(4);
  });
  afterEach(async () => db.close());

  it('of concurrent contenders exactly one takes the lease, every round', async () => {
    for (let round = 0; round < 10; round++) {
      const name = `race-${round}`;
      const results = await Promise.all(db.storages.flatMap((s, i) => [0, 1].map((j) => s.acquireJobLease(name, `holder-${i}-${j}`, 60_000))));
      const winners = results.filter((r) => r !== undefined);
      expect(winners).toHaveLength(1);
      expect(winners[0]!.epoch).toBe(1);
      expect((await db.storages[0]!.getJobLease(name))?.holder).toBe(winners[0]!.holder);
    }
  });

  it('renewal by the holder keeps the epoch and extends the expiry; others are refused until it lapses', async () => {
    const [a, b] = db.storages as [Storage, Storage];
    const first = await a.acquireJobLease('jobs', 'A', 1500);
    expect(first).toMatchObject({ holder: 'A', epoch: 1 });
    await sleep(900);
    const renewed = await a.acquireJobLease('jobs', 'A', 1500);
    expect(renewed?.epoch).toBe(1);
    expect(renewed!.expiresAt.getTime()).toBeGreaterThan(first!.expiresAt.getTime());
    await sleep(900); // past the first expiry, within the renewed one
    expect(await b.acquireJobLease('jobs', 'B', 1500)).toBeUndefined();
    await sleep(800); // past the renewed expiry
    expect(await b.acquireJobLease('jobs', 'B', 1500)).toMatchObject({ holder: 'B', epoch: 2 });
    expect(await a.acquireJobLease('jobs', 'A', 1500)).toBeUndefined();
  });

  it('release hands the lease over at once, only by its holder at its epoch; taking it back bumps the epoch', async () => {
    const [a, b] = db.storages as [Storage, Storage];
    await a.acquireJobLease('jobs', 'A', 60_000);
    expect(await b.releaseJobLease('jobs', 'B', 1)).toBe(false);
    expect(await a.releaseJobLease('jobs', 'A', 2)).toBe(false);
    expect(await b.acquireJobLease('jobs', 'B', 60_000)).toBeUndefined();
    expect(await a.releaseJobLease('jobs', 'A', 1)).toBe(true);
    expect(await b.acquireJobLease('jobs', 'B', 60_000)).toMatchObject({ holder: 'B', epoch: 2 });
    expect(await b.releaseJobLease('jobs', 'B', 2)).toBe(true);
    expect(await b.acquireJobLease('jobs', 'B', 60_000)).toMatchObject({ holder: 'B', epoch: 3 });
  });

  it('leader leases: one leader at every sample, kept by renewal, moved when the leader stops', async () => {
    const leases: LeaderLease[] = [];
    for (const [i, store] of db.storages.entries()) {
      leases.push(await startLeaderLease({ store, name: 'jobs', durationMs: 800, renewMs: 200, logger: silent, holder: `node-${i}` }));
    }
    try {
      const leadersAt = () => leases.map((l, i) => (l.isLeader() ? i : -1)).filter((i) => i >= 0);
      const samples: number[][] = [];
      for (let t = 0; t < 30; t++) {
        samples.push(leadersAt());
        await sleep(50);
      }
      // 1.5 s, twice the lease's lifetime: the same single leader throughout (renewal keeps it).
      expect(samples.every((s) => s.length === 1 && s[0] === samples[0]![0])).toBe(true);
      const first = samples[0]![0]!;
      expect(leases[first]!.status()).toMatchObject({ leader: true, holder: `node-${first}`, epoch: 1 });

      await leases[first]!.stop();
      expect(leases[first]!.isLeader()).toBe(false);
      await expect.poll(() => leadersAt().length, { timeout: 2_000, interval: 20 }).toBe(1);
      const next = leadersAt()[0]!;
      expect(next).not.toBe(first);
      expect(leases[next]!.status().epoch).toBe(2);
      for (let t = 0; t < 20; t++) {
        expect(leadersAt()).toEqual([next]);
        await sleep(50);
      }
    } finally {
      for (const l of leases) await l.stop();
    }
  });

  it('a holder paused past expiry stops leading at its own deadline, before another process can take over', async () => {
    const [a, b] = db.storages as [Storage, Storage];
    let offset = 0; // a's monotonic clock jumps as if its process had been stopped
    const leaseA = await startLeaderLease({ store: a, name: 'jobs', durationMs: 600, renewMs: 60_000, logger: silent, holder: 'A', monotonic: () => performance.now() + offset });
    const leaseB = await startLeaderLease({ store: b, name: 'jobs', durationMs: 600, renewMs: 100, logger: silent, holder: 'B' });
    try {
      expect([leaseA.isLeader(), leaseB.isLeader()]).toEqual([true, false]);
      offset = 600;
      expect(leaseA.isLeader()).toBe(false); // A no longer believes it leads, though the database may still say so
      await expect.poll(() => leaseB.isLeader(), { timeout: 2_000, interval: 20 }).toBe(true);
      expect(leaseB.status().epoch).toBe(2);
    } finally {
      await leaseA.stop();
      await leaseB.stop();
    }
  });
});

describe('a job wrapped by the lease', () => {
  let f: Awaited<ReturnType<typeof coreFixture>>;
  beforeEach(async () => {
    f = await coreFixture();
  });
  afterEach(async () => f.close());

  it('runs in the leader only: the follower does nothing, its timer skips, and the leader rotates each due key once', async () => {
    const ctx = context();
    const keys = await Promise.all(Array.from({ length: 5 }, () => f.service.keys.create(ctx, {})));
    f.clock.advanceDays(181);
    const leader = await startLeaderLease({ store: f.storage, name: 'key-jobs', durationMs: 60_000, renewMs: 20_000, logger: silent, holder: 'leader' });
    const follower = await startLeaderLease({ store: f.storage, name: 'key-jobs', durationMs: 60_000, renewMs: 20_000, logger: silent, holder: 'follower' });
    // The follower's own timer fires every 20 ms: it must skip every pass.
    const start = (intervalMs: number) => (notLeader: () => boolean) => startKeyJobs({ service: f.service, intervalMs, batchSize: 2, logger: silent, paused: notLeader });
    const followerJobs = runWhileLeader(follower, start(20));
    const leaderJobs = runWhileLeader(leader, start(3_600_000));
    try {
      expect(await followerJobs.runOnce()).toBeUndefined();
      await sleep(200);
      for (const key of keys) expect((await f.storage.getKey(key.id))?.currentVersion).toBe(1);
      expect(await leaderJobs.runOnce()).toEqual({ rotated: 5, deleted: 0, failed: 0 });
      await sleep(100);
      for (const key of keys) expect((await f.storage.listVersions(key.id)).map((v) => v.version)).toEqual([1, 2]);
    } finally {
      await followerJobs.stop();
      await leaderJobs.stop();
      await follower.stop();
      await leader.stop();
    }
  });
});

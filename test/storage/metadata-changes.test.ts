/**
 * The metadata change feed (issue #8: key records stay cached until they change, and every process sees every change
 * within the staleness bound): the triggers of migration 0011 record each UPDATE and DELETE of a key or an alias —
 * whoever makes it, the adapter or an operator's SQL — in commit order, on both engines; and the read cache over it
 * (core/cached-storage.ts + core/metadata-feed.ts) keeps records past any TTL while the feed is quiet, drops exactly
 * what another process changed, stops serving from memory when the feed cannot be read, and never caches a read that
 * straddles a change. Real SQLite and PostgreSQL; time is a fake clock handed to the cache.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { withReadCache } from '../../src/core/cached-storage.js';
import type { KeyRecord, Storage } from '../../src/ports/storage.js';
import { observed } from '../helpers/observed-storage.js';
import { ENGINES, openPopulation, PG_URL, type Population } from './key-population.js';

const STALENESS_MS = 1000;

/** Runs one SQL statement on `keys` the way an operator would: outside the adapter, schema-qualified on PostgreSQL. */
async function operatorSql(p: Population, statement: string, params: unknown[]): Promise<void> {
  if (p.engine === 'sqlite') {
    const db = new Database(join(p.dir, 'datadefender.db'));
    try {
      db.prepare(statement.replace(/\$\d/g, '?')).run(...params);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(statement.replace(/\bkeys\b/, `"${p.schema}".keys`), params);
  } finally {
    await client.end();
  }
}

/** A read cache as one process holds it, with its own clock and its storage reads counted. */
function processCache(storage: Storage) {
  let now = 1_000_000;
  const { storage: counted, reads } = observed(storage);
  const cache = withReadCache(counted, { maxStalenessMs: STALENESS_MS, maxEntries: 100, ttlMs: 3_600_000, now: () => now });
  return {
    cache,
    reads,
    advance: (ms: number) => void (now += ms),
    /** Lets an on-demand poll started by the last read finish. */
    settle: () => new Promise((resolve) => setTimeout(resolve, 50)),
  };
}

describe.each(ENGINES)('metadata change feed on %s', (engine) => {
  let p: Population;
  let ids: string[];
  beforeAll(async () => {
    p = await openPopulation(engine);
    ids = await p.seed(6);
  });
  afterAll(async () => {
    await p?.close();
  });

  it('records every update and delete of a key or an alias, by the adapter or by SQL, in commit order; inserts are not recorded', async () => {
    const { storage } = p;
    const start = await storage.lastMetadataChange();
    const now = new Date();
    await storage.createAlias({ name: 'alias/feed-a', keyId: ids[0]!, createdAt: now, updatedAt: now });
    await storage.updateKey(ids[0]!, { description: 'changed by the adapter' });
    await storage.updateAlias('alias/feed-a', ids[1]!, now);
    await operatorSql(p, 'update keys set description = $1 where id = $2', ['changed by SQL', ids[2]]);
    await storage.deleteAlias('alias/feed-a');

    const changes = await storage.readMetadataChanges(start, 100);
    expect(changes.map(({ kind, name }) => `${kind}:${name}`)).toEqual([`key:${ids[0]}`, 'alias:alias/feed-a', `key:${ids[2]}`, 'alias:alias/feed-a']);
    const sequences = changes.map((c) => c.sequence);
    expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
    expect(new Set(sequences).size).toBe(sequences.length);
    expect(await storage.lastMetadataChange()).toBe(sequences.at(-1));
    expect(await storage.readMetadataChanges(sequences[1]!, 1)).toEqual([changes[2]]);
  });

  it('keeps a record cached while nothing changes, for as long as reads keep the feed polled (no TTL)', async () => {
    const a = processCache(p.storage);
    await a.cache.getKey(ids[3]!);
    expect(a.reads.getKey).toBe(1);
    for (let i = 0; i < 40; i++) {
      a.advance(300); // 12 s in all: a one-second TTL would have expired twelve times
      expect((await a.cache.getKey(ids[3]!))?.id).toBe(ids[3]);
      await a.settle();
    }
    expect(a.reads.getKey).toBe(1);
  });

  it("sees another process's change within the staleness bound, and only that key is read again", async () => {
    const a = processCache(p.storage);
    await a.cache.getKey(ids[4]!);
    await a.cache.getKey(ids[5]!);
    expect(a.reads.getKey).toBe(2);
    await p.storage.updateKey(ids[4]!, { state: 'Disabled' }); // another process: not through this cache

    let seen: KeyRecord | undefined;
    let elapsed = 0;
    while (elapsed <= STALENESS_MS) {
      seen = await a.cache.getKey(ids[4]!);
      if (seen?.state === 'Disabled') break;
      await a.settle();
      a.advance(250);
      elapsed += 250;
    }
    expect(seen?.state).toBe('Disabled');
    expect(elapsed).toBeLessThanOrEqual(STALENESS_MS);
    await a.cache.getKey(ids[5]!);
    expect(a.reads.getKey).toBe(3); // the unchanged key stayed cached
    await p.storage.updateKey(ids[4]!, { state: 'Enabled' });
  });

  it('reads through once the feed cannot vouch for the cache (polls failing), and caches again when it recovers', async () => {
    let failing = false;
    const flaky = new Proxy(p.storage, {
      get(target, property, receiver) {
        if (property === 'readMetadataChanges' && failing) return () => Promise.reject(new Error('storage down'));
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const a = processCache(flaky);
    await a.cache.getKey(ids[1]!);
    failing = true;
    a.advance(STALENESS_MS / 2);
    await a.cache.getKey(ids[1]!); // still within the bound: from memory, and a poll (that fails) starts
    await a.settle();
    expect(a.reads.getKey).toBe(1);
    a.advance(STALENESS_MS);
    await a.cache.getKey(ids[1]!);
    await a.settle();
    expect(a.reads.getKey).toBe(2);
    failing = false;
    a.advance(STALENESS_MS / 4);
    await a.cache.getKey(ids[1]!); // starts a poll that succeeds; this read still goes through
    await a.settle();
    await a.cache.getKey(ids[1]!);
    expect(a.reads.getKey).toBe(3);
  });

  it('does not cache a read that straddles a change the feed reported', async () => {
    let release: (() => void) | undefined;
    const slow = new Proxy(p.storage, {
      get(target, property, receiver) {
        if (property === 'getKey' && release === undefined) {
          return async (id: string) => {
            const before = await target.getKey(id); // read before the change ...
            await new Promise<void>((resolve) => (release = resolve)); // ... returned after the feed reported it
            return before;
          };
        }
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const a = processCache(slow);
    await a.settle();
    const straddling = a.cache.getKey(ids[2]!);
    await vi.waitFor(() => expect(release).toBeDefined());
    await p.storage.updateKey(ids[2]!, { description: 'changed while read' });
    a.advance(STALENESS_MS / 4);
    await a.cache.getAlias('alias/none'); // any read kicks the poll that reports the change
    await a.settle();
    release!();
    expect((await straddling)?.description).not.toBe('changed while read');
    expect((await a.cache.getKey(ids[2]!))?.description).toBe('changed while read');
  });

  it('prunes by age only', async () => {
    const last = await p.storage.lastMetadataChange();
    expect(await p.storage.pruneMetadataChanges(new Date(Date.now() - 3_600_000))).toBe(0);
    expect(await p.storage.lastMetadataChange()).toBe(last);
    expect(await p.storage.pruneMetadataChanges(new Date(Date.now() + 60_000))).toBeGreaterThan(0);
    expect(await p.storage.readMetadataChanges(0, 10)).toEqual([]);
  });
});

describe('metadata change feed on postgres, concurrently', () => {
  let q: Population;
  let keyId: string;
  beforeAll(async () => {
    q = await openPopulation('postgres');
    [keyId] = (await q.seed(1)) as [string];
  });
  afterAll(async () => {
    await q?.close();
  });

  it('never deadlocks a key destruction with an update of one of its aliases (the lock comes before the row)', async () => {
    const now = new Date();
    await q.storage.createAlias({ name: 'alias/feed-race', keyId: keyId!, createdAt: now, updatedAt: now });
    const connect = async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`set search_path = "${q.schema}"`);
      return c;
    };
    const [destroyer, updater] = [await connect(), await connect()];
    try {
      await destroyer.query('begin');
      await destroyer.query('update keys set description = $1 where id = $2', ['going', keyId]); // holds the feed lock
      await updater.query('begin');
      const update = updater.query('update aliases set updated_at = updated_at + 1 where name = $1', ['alias/feed-race']);
      await new Promise((resolve) => setTimeout(resolve, 200)); // the update now waits for the feed lock
      await destroyer.query('delete from aliases where name = $1', ['alias/feed-race']); // would wait for the update's row lock
      await destroyer.query('commit');
      expect((await update).rowCount).toBe(0); // it ran after the delete, on no row
      await updater.query('commit');
    } finally {
      await destroyer.end();
      await updater.end();
    }
  });
});

/**
 * One process's reader of the metadata change feed (ports/metadata-change-store.ts): tells the read cache which key
 * records and aliases other processes changed, so the cache keeps them until they change instead of for a second.
 * Invariants:
 * - fresh() is true only while the last poll that was applied started at most `maxStalenessMs` ago: every change
 *   committed before that poll started has been handed to onChange, so a cached record is never more than
 *   `maxStalenessMs` behind the database; when polls fail or stop (storage down), fresh() turns false and the cache
 *   reads through, never serving what it can no longer vouch for.
 * - Polls run on demand, one at a time: a call to fresh() starts one when the last started `maxStalenessMs / 4` ago
 *   or more, so an idle process never polls and a busy one polls four times per staleness bound. No timer.
 * - The first poll starts at once and only finds where the feed ends; nothing is cached before it is applied, and
 *   `ready` resolves when it settles, so a reader that awaits it before its first read can cache that read.
 * - A process whose last applied poll is older than RESET_AFTER_MS may have missed rows that were pruned since:
 *   it drops everything (onReset) and starts again from the feed's end.
 * - `generation` grows whenever a poll drops something; a read that began in an older generation is not cached (it
 *   may have read a record just before the change that the poll reported).
 */
import type { MetadataChange, MetadataChangeStore } from '../ports/metadata-change-store.js';

const PAGE = 1000;
/** Half of how long the feed keeps its rows (PRUNE_AFTER_MS). */
const RESET_AFTER_MS = 30 * 60_000;
/** Changes are kept this long; the job leader prunes older ones (jobs/key-jobs.ts). */
export const PRUNE_AFTER_MS = 2 * RESET_AFTER_MS;

export interface MetadataFeed {
  /** Whether cached records may be served now; starts a poll when one is due. */
  fresh(): boolean;
  /** Settles (never rejects) when the first poll has succeeded or failed. */
  readonly ready: Promise<void>;
  /** A token for a read that may be cached: undefined when nothing may be cached yet. */
  readToken(): number | undefined;
  /** Whether a read that took `token` may still be cached (no poll dropped anything since). */
  stillValid(token: number | undefined): boolean;
}

export function createMetadataFeed(
  store: MetadataChangeStore,
  options: { maxStalenessMs: number; onChange: (change: MetadataChange) => void; onReset: () => void; now?: () => number },
): MetadataFeed {
  const { maxStalenessMs, onChange, onReset, now = Date.now } = options;
  const pollEveryMs = maxStalenessMs / 4;
  let cursor: number | undefined;
  let appliedAt = -Infinity;
  let startedAt = -Infinity;
  let polling = false;
  let generation = 0;

  const poll = async (start: number) => {
    if (cursor === undefined || start - appliedAt > RESET_AFTER_MS) {
      const end = await store.lastMetadataChange();
      if (cursor !== undefined) onReset();
      generation++;
      cursor = end;
    } else {
      for (let more = true; more; ) {
        const changes = await store.readMetadataChanges(cursor, PAGE);
        if (changes.length > 0) generation++;
        for (const change of changes) onChange(change);
        cursor = changes.at(-1)?.sequence ?? cursor;
        more = changes.length === PAGE;
      }
    }
    appliedAt = start;
  };

  const startPoll = (t: number): Promise<void> => {
    polling = true;
    startedAt = t;
    // A failed poll is not applied: freshness runs out and the cache reads through until one succeeds.
    return poll(t).then(
      () => void (polling = false),
      () => void (polling = false),
    );
  };
  const ready = startPoll(now());

  return {
    ready,
    fresh() {
      const t = now();
      if (!polling && t - startedAt >= pollEveryMs) void startPoll(t);
      return t - appliedAt <= maxStalenessMs;
    },
    readToken: () => (cursor === undefined ? undefined : generation),
    stillValid: (token) => token === generation,
  };
}

/**
 * Re-wrapping every stored blob under a new root generation, in batches, resumably: the engine behind rotate-root,
 * migrate-root and recover.
 *
 * Invariants:
 * - blobs are read in keyset order (collection by collection: key versions by (key id, version), then access keys by
 *   id) and a pass resumes from the cursor saved after each batch, so an interrupted job continues where it stopped;
 * - a re-wrapped blob is written only if the row still holds the bytes that were read (compare-and-swap), so a
 *   concurrent change (a new version, an import, a deletion, another re-wrap) is never overwritten; a lost swap is
 *   counted as a conflict and looked at again by the next pass;
 * - the job is finished only after a complete pass (from the first row) that found nothing to move and lost no
 *   swap: nothing wrapped under an old generation is left when it reports done (blobs that cannot be moved, such as
 *   blobs without an escrow during a recovery, are counted as skipped and reported);
 * - plaintext material exists only between the unwrap and the wrap of one blob, and is destroyed after.
 */
import { randomUuid, type SecretBytes } from '../crypto/index.js';
import { WRAPPED_SECRET_TABLES, type RootMigrationRecord, type RootRingStorage, type WrappedSecretTable } from '../ports/root-ring-storage.js';
import type { Clock } from '../ports/clock.js';
import { auditKeyAad } from '../audit/audit-keys.js';
import { materialAad } from './key-material.js';
import { pinAad } from './hsm-keys.js';
import { caKeyAad } from './secret-aads.js';

/** One stored blob and how to replace it. */
export interface WrappedItem {
  /** Resumes the collection after this item. */
  cursor: string;
  wrapped: Uint8Array;
  aad: Uint8Array;
  /** Compare-and-swap: writes `next` only if the row still holds `wrapped`. */
  replace(next: Uint8Array): Promise<boolean>;
}

/** A table of blobs wrapped by the root of trust. */
export interface WrappedCollection {
  readonly name: string;
  list(after: string | undefined, limit: number): Promise<WrappedItem[]>;
}

/**
 * AAD of a wrapped secret access key. The same bytes as identity/credentials.ts `accessKeyAad` (core may not
 * import identity/; a test keeps the two equal).
 */
export function accessKeySecretAad(id: string): Buffer {
  return Buffer.from(`datadefender/access-key/v1/${id}`, 'utf8');
}

/** The blobs every deployment has: key versions, access-key secrets and audit keys. */
export function defaultWrappedCollections(storage: RootRingStorage): WrappedCollection[] {
  return [
    {
      name: 'key-versions',
      async list(after, limit) {
        let position: { keyId: string; version: number } | undefined;
        if (after !== undefined) {
          const cut = after.lastIndexOf('/');
          position = { keyId: after.slice(0, cut), version: Number(after.slice(cut + 1)) };
        }
        const rows = await storage.listWrappedKeyVersions(position, limit);
        return rows.map((r) => ({
          cursor: `${r.keyId}/${r.version}`,
          wrapped: r.wrapped,
          aad: materialAad(r.keyId, r.version),
          replace: (next: Uint8Array) => storage.replaceKeyVersionWrap(r.keyId, r.version, r.wrapped, next),
        }));
      },
    },
    {
      name: 'access-keys',
      async list(after, limit) {
        const rows = await storage.listWrappedAccessKeys(after, limit);
        return rows.map((r) => ({
          cursor: r.id,
          wrapped: r.wrapped,
          aad: accessKeySecretAad(r.id),
          replace: (next: Uint8Array) => storage.replaceAccessKeyWrap(r.id, r.wrapped, next),
        }));
      },
    },
    {
      name: 'audit-keys',
      async list(after, limit) {
        const rows = await storage.listWrappedAuditKeys(after, limit);
        return rows.map((r) => ({
          cursor: r.id,
          wrapped: r.wrapped,
          aad: auditKeyAad({ id: r.id, purpose: r.purpose as 'signing' | 'hmac', algorithm: r.algorithm }),
          replace: (next: Uint8Array) => storage.replaceAuditKeyWrap(r.id, r.wrapped, next),
        }));
      },
    },
    ...WRAPPED_SECRET_TABLES.map((table) => ({
      name: table,
      async list(after: string | undefined, limit: number) {
        const rows = await storage.listWrappedSecrets(table, after, limit);
        return rows.map((r) => ({
          cursor: r.id,
          wrapped: r.wrapped,
          aad: SECRET_AAD[table](r.id),
          replace: (next: Uint8Array) => storage.replaceSecretWrap(table, r.id, r.wrapped, next),
        }));
      },
    })),
  ];
}

/** The AAD each WRAPPED_SECRET_TABLES row was wrapped with. */
const SECRET_AAD: Record<WrappedSecretTable, (id: string) => Uint8Array> = {
  'custom-key-store-pins': pinAad,
  'pki-ca-keys': caKeyAad,
};

/** How one blob is judged and moved. */
export interface RewrapStep {
  /** True when the blob is already where the job moves blobs to. */
  current(wrapped: Uint8Array): boolean | Promise<boolean>;
  /** The plaintext of a blob to move, or null when it cannot be had (then the blob is skipped). */
  open(wrapped: Uint8Array, aad: Uint8Array): Promise<SecretBytes | null>;
  /** Wraps plaintext where the job moves blobs to. */
  seal(plaintext: SecretBytes, aad: Uint8Array): Promise<Uint8Array>;
}

interface Cursor {
  /** Pass number, from 1. */
  p: number;
  /** Index of the collection under way. */
  c: number;
  /** Last item done in that collection. */
  a?: string;
}

function parseCursor(text: string | null): Cursor {
  if (text === null) return { p: 1, c: 0 };
  try {
    const v = JSON.parse(text) as Cursor;
    if (Number.isSafeInteger(v.p) && v.p >= 1 && Number.isSafeInteger(v.c) && v.c >= 0 && (v.a === undefined || typeof v.a === 'string')) return v;
  } catch {
    // fall through: a damaged cursor restarts the pass (safe: the job ends only after a clean complete pass)
  }
  return { p: 1, c: 0 };
}

export interface RewrapJobOptions {
  storage: RootRingStorage;
  clock: Clock;
  collections: readonly WrappedCollection[];
  step: RewrapStep;
  batchSize: number;
  /** Wait before each verification pass (pass 2 on), so other servers see the new active generation first. */
  settleMs: number;
  /** Called after each batch is saved; throwing stops the job there (tests use it to interrupt a job). */
  onBatch?: (job: RootMigrationRecord) => void | Promise<void>;
  /** True when the job should stop after the batch under way (server shutting down). */
  stopping?: () => boolean;
}

/** Complete passes before a job gives up (each later pass only meets blobs written concurrently). */
const MAX_PASSES = 20;

export class RewrapStopped extends Error {
  constructor() {
    super('The root re-wrap job was stopped; run the command again to resume it.');
  }
}

/**
 * Runs `job` from its cursor until a complete pass finds nothing left to move; saves progress after every batch.
 * Returns the job as last saved (still `running`: the caller finishes it).
 * @throws whatever a step, the storage or `onBatch` throws (the job keeps its saved cursor and can be resumed);
 * RewrapStopped when `stopping()` turned true.
 */
export async function runRewrapJob(job: RootMigrationRecord, options: RewrapJobOptions): Promise<RootMigrationRecord> {
  const { storage, clock, collections, step, batchSize, settleMs } = options;
  let current = job;
  const save = async (patch: Partial<RootMigrationRecord>): Promise<void> => {
    const next: RootMigrationRecord = { ...current, ...patch, revision: current.revision + 1, updatedAt: clock.now() };
    if (!(await storage.updateRootMigration(next, current.revision))) {
      throw new RewrapConflict();
    }
    current = next;
  };

  let cursor = parseCursor(current.cursor);
  for (;;) {
    if (cursor.p >= 2 && cursor.c === 0 && cursor.a === undefined && settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
    let moved = 0;
    let conflicts = 0;
    let skipped = 0;
    const fromStart = cursor.c === 0 && cursor.a === undefined;
    while (cursor.c < collections.length) {
      const collection = collections[cursor.c]!;
      const items = await collection.list(cursor.a, batchSize);
      for (const item of items) {
        if (await step.current(item.wrapped)) continue;
        const plaintext = await step.open(item.wrapped, item.aad);
        if (plaintext === null) {
          skipped++;
          continue;
        }
        let next: Uint8Array;
        try {
          next = await step.seal(plaintext, item.aad);
        } finally {
          plaintext.destroy();
        }
        if (await item.replace(next)) moved++;
        else conflicts++;
      }
      cursor = items.length < batchSize ? { p: cursor.p, c: cursor.c + 1 } : { p: cursor.p, c: cursor.c, a: items[items.length - 1]!.cursor };
      const done = cursor.p === 1 ? Math.min(current.total, current.done + items.length) : current.done;
      await save({ cursor: JSON.stringify(cursor), done, skipped: cursor.p === 1 ? current.skipped + skipped : current.skipped, lastError: null });
      if (cursor.p === 1) skipped = 0;
      await options.onBatch?.(current);
      if (options.stopping?.()) throw new RewrapStopped();
    }
    const clean = moved === 0 && conflicts === 0;
    if (cursor.p >= 2 && fromStart && clean) {
      await save({ done: current.total, skipped });
      return current;
    }
    if (cursor.p >= MAX_PASSES) throw new Error(`The root re-wrap did not settle after ${MAX_PASSES} passes (blobs keep changing); run the command again.`);
    cursor = { p: cursor.p + 1, c: 0 };
    await save({ cursor: JSON.stringify(cursor) });
  }
}

/** Another process updated the same job: this one stops (the other carries on). */
export class RewrapConflict extends Error {
  constructor() {
    super('Another process is running this root re-wrap job.');
  }
}

/** A new re-wrap job record, running from every live generation to `targetGeneration`, with the count of blobs to move. */
export async function newRewrapJob(
  storage: RootRingStorage,
  job: { operation: RootMigrationRecord['operation']; targetGeneration: number; targetKind: string; generations: ReadonlyArray<{ generation: number; state: string }>; now: Date },
): Promise<RootMigrationRecord> {
  return {
    id: randomUuid(),
    operation: job.operation,
    targetGeneration: job.targetGeneration,
    targetKind: job.targetKind,
    fromGenerations: job.generations.filter((g) => g.state !== 'retired').map((g) => g.generation),
    state: 'running',
    revision: 1,
    cursor: null,
    done: 0,
    total: await storage.countWrapped(),
    skipped: 0,
    lastError: null,
    startedAt: job.now,
    updatedAt: job.now,
    finishedAt: null,
  };
}

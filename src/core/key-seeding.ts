/**
 * Seeding a key population in bulk (benchmarks and load tests: a million keys in minutes, not one API call each).
 * Invariants:
 * - every key is what CreateKey makes with no options: SYMMETRIC_DEFAULT for ENCRYPT_DECRYPT, origin AWS_KMS, Enabled,
 *   the default key policy (the account's principals, through their own permissions), automatic rotation at the
 *   default period; its first version is made by KeyMaterial.newVersion — fresh material from the CSPRNG wrapped by
 *   the root of trust with AAD binding key id and version — so seeded keys encrypt and decrypt like any other;
 * - keys are written through the storage's bulk path, one transaction per batch: a failed batch leaves nothing of
 *   itself behind, and batches before it stay;
 * - this is an operator tool, not a request: it is not authorized and writes no audit events (run it before the
 *   server serves, or on a bench database).
 */
import { randomUuid } from '../crypto/index.js';
import { ValidationError } from '../errors/index.js';
import type { Clock } from '../ports/clock.js';
import type { BulkKeyStore, KeyRecord, KeyWithFirstVersion } from '../ports/storage.js';
import { addDays } from './key-context.js';
import type { KeyMaterial } from './key-material.js';
import { newMaterial } from './key-specs.js';

export const DEFAULT_SEED_BATCH = 10_000;

export interface SeedDeps {
  storage: BulkKeyStore;
  material: Pick<KeyMaterial, 'newVersion'>;
  clock: Clock;
  defaultRotationPeriodDays: number;
}

export interface SeedOptions {
  count: number;
  /** Keys per transaction (default 10,000). */
  batchSize?: number;
  description?: string;
  /** Called after each batch commits, with the ids it created. */
  onBatch?(ids: readonly string[]): void;
}

async function seededKey(deps: SeedDeps, description: string): Promise<KeyWithFirstVersion> {
  const now = deps.clock.now();
  const id = randomUuid();
  const period = deps.defaultRotationPeriodDays;
  const key: KeyRecord = {
    id,
    createdAt: now,
    description,
    keySpec: 'SYMMETRIC_DEFAULT',
    keyUsage: 'ENCRYPT_DECRYPT',
    origin: 'AWS_KMS',
    state: 'Enabled',
    currentVersion: 1,
    rotationPeriodDays: period,
    nextRotationAt: addDays(now, period),
    deletionAt: null,
    pendingWindowDays: null,
    tags: {},
    policy: null,
  };
  const first = await deps.material.newVersion(id, 1, await newMaterial(key.keySpec), 'ORIGINAL', now);
  return { key, first };
}

/**
 * Creates `count` keys in batches; resolves to how many were created.
 * @throws ValidationError for a count or batch size that is not a non-negative (positive) safe integer;
 *         whatever the root of trust or the storage throws (the batches already committed stay).
 */
export async function seedKeys(deps: SeedDeps, options: SeedOptions): Promise<number> {
  const { count, batchSize = DEFAULT_SEED_BATCH, description = '' } = options;
  if (!Number.isSafeInteger(count) || count < 0) throw new ValidationError('The key count must be a non-negative integer.');
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new ValidationError('The batch size must be a positive integer.');
  let created = 0;
  while (created < count) {
    const n = Math.min(batchSize, count - created);
    const batch = await Promise.all(Array.from({ length: n }, () => seededKey(deps, description)));
    await deps.storage.insertKeys(batch);
    created += n;
    options.onBatch?.(batch.map((e) => e.key.id));
  }
  return created;
}

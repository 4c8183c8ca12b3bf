/**
 * The scheduled-deletion job: keys whose waiting period has passed are destroyed with every version of their
 * material and their aliases (crypto-shredding: data under them is unrecoverable afterwards).
 * Invariant: Storage.destroyKey re-checks state and date in its transaction, so a deletion cancelled at the
 * last moment, or already done by another process, is not destroyed twice or by mistake.
 */
import type { KeyContext } from './key-context.js';
import { jobContext } from './job-context.js';

export function createKeyDeletion(kc: KeyContext) {
  const { storage, run, clock, scope, material } = kc;
  return {
    /** Destroys up to `batchSize` due keys; returns the counts. */
    async deleteDueKeys(batchSize: number): Promise<{ deleted: number; failed: number }> {
      const now = clock.now();
      let deleted = 0;
      let failed = 0;
      for (const key of await storage.listKeysDueForDeletion(now, batchSize)) {
        try {
          const destroyed = await run(jobContext(scope), 'DeleteKey', { readOnly: false }, async (op) => {
            await op.authorize(key);
            await op.beforeChange();
            return storage.destroyKey(key.id, now);
          });
          material.forget(key.id);
          if (destroyed) deleted++;
        } catch {
          failed++;
        }
      }
      return { deleted, failed };
    },
  };
}

export type KeyDeletion = ReturnType<typeof createKeyDeletion>;

/**
 * The scheduled-deletion job: keys whose waiting period has passed are destroyed with every version of their
 * material and their aliases (crypto-shredding: data under them is unrecoverable afterwards).
 * Invariant: Storage.destroyKey re-checks state and date in its transaction, so a deletion cancelled at the
 * last moment, or already done by another process, is not destroyed twice or by mistake.
 * Keys in a custom key store (origin AWS_CLOUDHSM) are destroyed only while their store is connected (else they stay
 * PendingDeletion), and their token object with them; objects left behind by a failure are swept on later passes.
 */
import type { KeyContext } from './key-context.js';
import { jobContext } from './job-context.js';

export function createKeyDeletion(kc: KeyContext) {
  const { storage, run, clock, scope, material, hsmKeys } = kc;
  return {
    /** Destroys up to `batchSize` due keys; returns the counts. */
    async deleteDueKeys(batchSize: number): Promise<{ deleted: number; failed: number }> {
      const now = clock.now();
      let deleted = 0;
      let failed = 0;
      for (const key of await storage.listKeysDueForDeletion(now, batchSize)) {
        if (key.origin === 'AWS_CLOUDHSM' && !(await hsmKeys.canDestroy(key).catch(() => false))) continue;
        try {
          const destroyed = await run(jobContext(scope), 'DeleteKey', { readOnly: false }, async (op) => {
            await op.authorize(key);
            await op.beforeChange();
            const done = await storage.destroyKey(key.id, now);
            if (done && key.origin === 'AWS_CLOUDHSM') op.details.keyObjectDestroyed = await hsmKeys.destroyObject(key.id);
            return done;
          });
          material.forget(key.id);
          if (destroyed) deleted++;
        } catch {
          failed++;
        }
      }
      if (hsmKeys.available) {
        const swept = await hsmKeys.sweepOrphans(batchSize).catch(() => ({ swept: 0, failed: 1 }));
        failed += swept.failed;
      }
      return { deleted, failed };
    },
  };
}

export type KeyDeletion = ReturnType<typeof createKeyDeletion>;

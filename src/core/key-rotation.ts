/**
 * Rotation: automatic (scheduled, run by the rotation job) and on demand. Each rotation adds a version of
 * material; old versions stay for decryption until the key is destroyed. AWS KMS rotate-keys.md:
 * only rotatable specs; on-demand rotation does not move the automatic schedule; at most 25 on-demand
 * rotations per key; status reads disabled while the key is pending deletion.
 * Invariant: a version is added only by Storage.addVersion's compare-and-swap, so concurrent rotations in
 * several processes never leave a gap or a duplicate version.
 */
import { LimitExceededError, UnsupportedError } from '../errors/index.js';
import type { KeyRecord } from '../ports/storage.js';
import { keyArn } from './arn.js';
import { addDays, describeRecord, type KeyContext, type KeyDescription } from './key-context.js';
import { assertState } from './key-state-rules.js';
import { applyTransition } from './key-transition.js';
import { KEY_SPECS, isKeySpec, newMaterial } from './key-specs.js';
import { LIMITS, checkInteger } from './limits.js';
import type { RequestContext } from './request-context.js';
import { jobContext } from './job-context.js';

export interface RotationStatus {
  keyArn: string;
  enabled: boolean;
  periodDays: number | null;
  nextRotationAt: Date | null;
}

export interface RotationEntry {
  keyArn: string;
  version: number;
  keyMaterialId: string;
  rotationType: 'AUTOMATIC' | 'ON_DEMAND';
  rotatedAt: Date;
}

const MAX_CAS_ATTEMPTS = 20;

export function createKeyRotation(kc: KeyContext) {
  const { storage, run, clock, scope, resolver, material } = kc;

  const assertRotatable = (key: KeyRecord) => {
    const spec = isKeySpec(key.keySpec) ? KEY_SPECS[key.keySpec] : undefined;
    if (key.origin !== 'AWS_KMS') throw new UnsupportedError(`${keyArn(scope, key.id)} origin is ${key.origin} which is not valid for this operation.`);
    if (!spec?.rotatable) throw new UnsupportedError(`${keyArn(scope, key.id)} cannot be rotated.`);
    return spec;
  };

  /** Adds version current+1 if nobody else rotated first; false when the compare-and-swap lost. */
  const addNextVersion = async (key: KeyRecord, type: 'AUTOMATIC' | 'ON_DEMAND', nextRotationAt: Date | null) => {
    assertRotatable(key);
    const next = await material.newVersion(key.id, key.currentVersion + 1, await newMaterial(key.keySpec), type, clock.now());
    return storage.addVersion(next, key.currentVersion, nextRotationAt);
  };

  const setRotation = (ctx: RequestContext, identifier: string, enabled: boolean, periodDays?: number) =>
    run(ctx, enabled ? 'EnableKeyRotation' : 'DisableKeyRotation', { readOnly: false }, async (op) => {
      const key = await resolver.resolve(identifier, { allowAlias: false });
      const arn = keyArn(scope, key.id);
      await op.authorize(key);
      assertState('configureRotation', key.state, arn);
      assertRotatable(key);
      const period = enabled
        ? checkInteger('RotationPeriodInDays', periodDays ?? key.rotationPeriodDays ?? kc.settings.defaultRotationPeriodDays, LIMITS.rotationPeriodDays)
        : null;
      op.details.rotationPeriodDays = period;
      await op.beforeChange();
      const patch = { rotationPeriodDays: period, nextRotationAt: period === null ? null : addDays(clock.now(), period) };
      return applyTransition(kc, key, 'configureRotation', patch);
    });

  return {
    /** @throws KeyDisabledError, InvalidStateError, UnsupportedError, ValidationError */
    enableRotation: (ctx: RequestContext, identifier: string, periodDays?: number) => setRotation(ctx, identifier, true, periodDays),
    disableRotation: (ctx: RequestContext, identifier: string) => setRotation(ctx, identifier, false),

    getRotationStatus(ctx: RequestContext, identifier: string): Promise<RotationStatus> {
      return run(ctx, 'GetKeyRotationStatus', { readOnly: true }, async (op) => {
        const key = await resolver.resolve(identifier, { allowAlias: false });
        const arn = keyArn(scope, key.id);
        await op.authorize(key);
        assertRotatable(key);
        const enabled = key.rotationPeriodDays !== null && key.state !== 'PendingDeletion';
        return {
          keyArn: arn,
          enabled,
          periodDays: enabled ? key.rotationPeriodDays : null,
          nextRotationAt: enabled ? key.nextRotationAt : null,
        };
      });
    },

    /** New material now, without moving the automatic schedule. @throws LimitExceededError after 25 */
    rotateOnDemand(ctx: RequestContext, identifier: string): Promise<KeyDescription> {
      return run(ctx, 'RotateKeyOnDemand', { readOnly: false }, async (op) => {
        let key = await resolver.resolve(identifier, { allowAlias: false });
        const arn = keyArn(scope, key.id);
        await op.authorize(key);
        for (let attempt = 1; ; attempt++) {
          assertState('use', key.state, arn);
          assertRotatable(key);
          const onDemand = (await storage.listVersions(key.id)).filter((v) => v.rotationType === 'ON_DEMAND').length;
          if (onDemand >= LIMITS.onDemandRotations) {
            throw new LimitExceededError(`${arn} has reached the limit of ${LIMITS.onDemandRotations} on-demand rotations.`);
          }
          if (attempt === 1) await op.beforeChange();
          if (await addNextVersion(key, 'ON_DEMAND', key.nextRotationAt)) {
            op.details.keyVersion = key.currentVersion + 1;
            return describeRecord(scope, { ...key, currentVersion: key.currentVersion + 1 });
          }
          if (attempt === MAX_CAS_ATTEMPTS) throw new LimitExceededError(`${arn} is being rotated concurrently; retry.`);
          key = await resolver.resolve(key.id, { allowAlias: false });
        }
      });
    },

    /** Completed rotations, oldest first (the original material is not a rotation). */
    listRotations(ctx: RequestContext, identifier: string): Promise<RotationEntry[]> {
      return run(ctx, 'ListKeyRotations', { readOnly: true }, async (op) => {
        const key = await resolver.resolve(identifier, { allowAlias: false });
        const arn = keyArn(scope, key.id);
        await op.authorize(key);
        assertRotatable(key);
        const versions = await storage.listVersions(key.id);
        return versions.flatMap((v) =>
          v.rotationType === 'ORIGINAL'
            ? []
            : [{ keyArn: arn, version: v.version, keyMaterialId: v.materialId, rotationType: v.rotationType, rotatedAt: v.createdAt }],
        );
      });
    },

    /**
     * The automatic-rotation job's step: rotates up to `batchSize` keys that are due. A key rotated by another
     * process meanwhile is skipped; a failure (audited) leaves the key due for the next run.
     */
    async rotateDueKeys(batchSize: number): Promise<{ rotated: number; failed: number }> {
      const now = clock.now();
      let rotated = 0;
      let failed = 0;
      for (const key of await storage.listKeysDueForRotation(now, batchSize)) {
        const done = await run(jobContext(scope), 'RotateKey', { readOnly: false }, async (op) => {
          await op.authorize(key);
          op.details.keyVersion = key.currentVersion + 1;
          await op.beforeChange();
          return addNextVersion(key, 'AUTOMATIC', addDays(now, key.rotationPeriodDays ?? kc.settings.defaultRotationPeriodDays));
        }).catch(() => {
          failed++;
          return false;
        });
        if (done) rotated++;
      }
      return { rotated, failed };
    },
  };
}

export type KeyRotation = ReturnType<typeof createKeyRotation>;

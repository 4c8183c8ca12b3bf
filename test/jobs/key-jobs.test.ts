import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startKeyJobs } from '../../src/jobs/key-jobs.js';
import { context, coreFixture } from '../helpers/core-fixture.js';

describe('key jobs', () => {
  let f: Awaited<ReturnType<typeof coreFixture>>;
  beforeEach(async () => {
    f = await coreFixture();
  });
  afterEach(async () => f.close());

  it('rotates and deletes everything due, in bounded batches, and reports the counts', async () => {
    const ctx = context();
    const keys = await Promise.all(Array.from({ length: 7 }, () => f.service.keys.create(ctx, {})));
    for (const key of keys.slice(0, 3)) await f.service.keys.scheduleDeletion(ctx, key.id, 7);
    f.clock.advanceDays(181);
    const jobs = startKeyJobs({ service: f.service, intervalMs: 3_600_000, batchSize: 2, logger: pino({ level: 'silent' }) });
    expect(await jobs.runOnce()).toEqual({ rotated: 4, deleted: 3, failed: 0 });
    expect(await jobs.runOnce()).toEqual({ rotated: 0, deleted: 0, failed: 0 });
    await jobs.stop();
    const remaining = (await f.service.keys.list(ctx, {})).items;
    expect(remaining).toHaveLength(4);
    expect(remaining.every((k) => k.currentVersion === 2)).toBe(true);
  });

  it('counts failures and leaves the keys due when the audit trail is down', async () => {
    const ctx = context();
    await f.service.keys.create(ctx, {});
    f.clock.advanceDays(181);
    f.faults.mode = 'fail';
    const jobs = startKeyJobs({ service: f.service, intervalMs: 3_600_000, batchSize: 10, logger: pino({ level: 'silent' }) });
    expect(await jobs.runOnce()).toEqual({ rotated: 0, deleted: 0, failed: 1 });
    f.faults.mode = 'ok';
    expect(await jobs.runOnce()).toEqual({ rotated: 1, deleted: 0, failed: 0 });
    await jobs.stop();
  });
});

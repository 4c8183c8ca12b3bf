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

  it('stops before the next batch once paused (lost leadership or sealed), and resumes where it stopped', async () => {
    const ctx = context();
    await Promise.all(Array.from({ length: 6 }, () => f.service.keys.create(ctx, {})));
    f.clock.advanceDays(181);
    let batches = 0;
    const rotateDueKeys = f.service.rotation.rotateDueKeys;
    f.service.rotation.rotateDueKeys = (n: number) => (batches++, rotateDueKeys(n));
    const jobs = startKeyJobs({ service: f.service, intervalMs: 3_600_000, batchSize: 2, batchPauseMs: 5, logger: pino({ level: 'silent' }), paused: () => batches >= 2 });
    expect(await jobs.runOnce()).toEqual({ rotated: 4, deleted: 0, failed: 0 });
    batches = 0;
    expect(await jobs.runOnce()).toEqual({ rotated: 2, deleted: 0, failed: 0 });
    await jobs.stop();
  });

  it('stop() ends a pass in progress after its current batch', async () => {
    const ctx = context();
    await Promise.all(Array.from({ length: 6 }, () => f.service.keys.create(ctx, {})));
    f.clock.advanceDays(181);
    const jobs = startKeyJobs({ service: f.service, intervalMs: 3_600_000, batchSize: 2, batchPauseMs: 300, logger: pino({ level: 'silent' }) });
    const pass = jobs.runOnce();
    await new Promise((r) => setTimeout(r, 50)); // the first batch has started (it starts at once)
    await jobs.stop();
    expect(await pass).toEqual({ rotated: 2, deleted: 0, failed: 0 });
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

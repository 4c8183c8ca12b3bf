/**
 * Who may read, verify and export the audit trail (the role matrix of issue #6): security analysts search and verify
 * but do not export; compliance officers also export; administrators do both; key users do none. Each read is itself
 * an audited event.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { context, coreFixture } from '../helpers/core-fixture.js';

let f: Awaited<ReturnType<typeof coreFixture>>;
beforeEach(async () => {
  f = await coreFixture();
});
afterEach(async () => {
  await f.close();
});

const outcome = async (p: Promise<unknown>): Promise<string> => p.then(() => 'allowed', (e: { code?: string }) => e.code ?? 'unknown');

describe('audit trail access', () => {
  it('follows the role matrix for search, verify and export', async () => {
    const trail = f.service.auditTrail;
    const as = (role: string) => context([role], role);
    const matrix: Record<string, string[]> = {};
    for (const role of ['administrator', 'security-analyst', 'compliance-officer', 'data-engineer', 'application']) {
      matrix[role] = [
        await outcome(trail.read(as(role), { limit: 1, hashes: [`hmac-sha256:audit-hmac-1:${'0'.repeat(64)}`] })),
        await outcome(trail.chains(as(role), 'verify')),
        await outcome(trail.checkpoints(as(role), 'verify')),
        await outcome(trail.chainEvents(as(role), 'export', 'x', { afterSequence: 0, limit: 1 })),
      ];
    }
    expect(matrix).toEqual({
      administrator: ['allowed', 'allowed', 'allowed', 'allowed'],
      'security-analyst': ['allowed', 'allowed', 'allowed', 'ERR_ACCESS_DENIED'],
      'compliance-officer': ['allowed', 'allowed', 'allowed', 'allowed'],
      'data-engineer': ['ERR_ACCESS_DENIED', 'ERR_ACCESS_DENIED', 'ERR_ACCESS_DENIED', 'ERR_ACCESS_DENIED'],
      application: ['ERR_ACCESS_DENIED', 'ERR_ACCESS_DENIED', 'ERR_ACCESS_DENIED', 'ERR_ACCESS_DENIED'],
    });
    const events = await f.storage.readAudit({ limit: 1000 });
    expect(events.filter((e) => e.eventName === 'ExportAuditTrail').map((e) => e.outcome).sort()).toEqual(['denied', 'denied', 'denied', 'success', 'success']);
    expect(events.filter((e) => e.eventName === 'VerifyAuditTrail').length).toBe(10);
  });

  it('searches by keyed hash only for the exact format (ValidationError otherwise, after the permission check)', async () => {
    const trail = f.service.auditTrail;
    const good = `hmac-sha256:audit-hmac-1:${'ab'.repeat(32)}`;
    expect(await trail.read(context(['security-analyst'], 'sa'), { limit: 10, hashes: [good] })).toEqual([]);
    const bad = [[], [good.toUpperCase()], [`${good.slice(0, -1)}%`], ['hmac-sha256:audit-hmac-1:_'], [good, '\\'], Array.from({ length: 17 }, () => good)];
    for (const hashes of bad) {
      await expect(trail.read(context(['security-analyst'], 'sa'), { limit: 10, hashes }), JSON.stringify(hashes)).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    }
    await expect(trail.read(context(['application'], 'app'), { limit: 10, hashes: ['%'] })).rejects.toMatchObject({ code: 'ERR_ACCESS_DENIED' });
    const lookups = (await f.storage.readAudit({ limit: 1000 })).filter((e) => e.eventName === 'LookupEvents');
    expect(lookups.map((e) => e.outcome)).toEqual(['success', ...bad.map(() => 'failure'), 'denied']);
  });

  it('computes keyed hashes only with the audit keys, never recording the value', async () => {
    await expect(f.service.auditTrail.hash(context(['security-analyst'], 'sa'), 'needle')).rejects.toMatchObject({ code: 'ERR_DEPENDENCY' });
    const events = await f.storage.readAudit({ limit: 1000 });
    const e = events.find((x) => x.eventName === 'ComputeAuditHash')!;
    expect(e.details.valueLength).toBe(6);
    expect(JSON.stringify(events)).not.toContain('needle');
  });
});

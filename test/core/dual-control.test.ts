// Dual control in the core, with a manual clock: approvals lapse after their TTL, whether pending or approved,
// and an approval serves only its requester's identical request.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { context, coreFixture } from '../helpers/core-fixture.js';

type Fixture = Awaited<ReturnType<typeof coreFixture>>;
let f: Fixture;
const alice = context(['administrator', 'data-engineer'], 'alice');
const bob = context(['administrator'], 'bob');
const carol = context(['administrator'], 'carol');

beforeEach(async () => {
  f = await coreFixture({ dualControl: { enabled: true, operations: ['DisableKey'], approvalTtlSeconds: 3600 } });
});
afterEach(() => f.close());

const approvalIdOf = async (promise: Promise<unknown>): Promise<string> => {
  const err = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as { code?: string; approvalId?: string } | undefined;
  expect(err?.code).toBe('ERR_APPROVAL_REQUIRED');
  return err!.approvalId!;
};

describe('dual control', () => {
  it('lets an approval lapse after its TTL, pending or approved', async () => {
    const key = await f.service.keys.create(alice, {});
    const pendingId = await approvalIdOf(f.service.keys.disable(alice, key.id));
    f.clock.advanceDays(1);
    await expect(f.service.approvals.approve(bob, pendingId)).rejects.toMatchObject({ code: 'ERR_INVALID_STATE', message: expect.stringMatching(/expired/) });

    const approvedId = await approvalIdOf(f.service.keys.disable(alice, key.id));
    expect(approvedId).not.toBe(pendingId);
    await f.service.approvals.approve(bob, approvedId);
    f.clock.advanceDays(1);
    const renewed = await approvalIdOf(f.service.keys.disable(alice, key.id));
    expect(renewed).not.toBe(approvedId);
    expect((await f.service.keys.describe(alice, key.id)).state).toBe('Enabled');
  });

  it('serves only the requester: another administrator repeating the request needs an approval of their own', async () => {
    const key = await f.service.keys.create(alice, {});
    const id = await approvalIdOf(f.service.keys.disable(alice, key.id));
    await f.service.approvals.approve(bob, id);
    const carols = await approvalIdOf(f.service.keys.disable(carol, key.id));
    expect(carols).not.toBe(id);
    expect((await f.service.keys.disable(alice, key.id)).state).toBe('Disabled');
  });

  it('refuses approvers who may not perform the operation themselves', async () => {
    const key = await f.service.keys.create(alice, {});
    const id = await approvalIdOf(f.service.keys.disable(alice, key.id));
    const base = context(['security-analyst'], 'erin');
    const approveOnly = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'datadefender:ApproveRequest', Resource: '*' }] });
    const erin = { ...base, caller: { ...base.caller, policies: [{ name: 'approver', document: approveOnly }] } };
    await expect(f.service.approvals.approve(base, id)).rejects.toMatchObject({ code: 'ERR_ACCESS_DENIED', message: expect.stringMatching(/datadefender:ApproveRequest/) });
    await expect(f.service.approvals.approve(erin, id)).rejects.toMatchObject({ code: 'ERR_ACCESS_DENIED', message: expect.stringMatching(/cannot decide its approval/) });
    expect((await f.service.approvals.get(bob, id)).status).toBe('Pending');
  });

  it('leaves operations outside the configured set alone', async () => {
    const key = await f.service.keys.create(alice, {});
    expect((await f.service.keys.scheduleDeletion(alice, key.id, 7)).state).toBe('PendingDeletion');
  });

  it('refuses an approver who is the subject of the change', async () => {
    const dc = await coreFixture({ dualControl: { enabled: true, operations: ['AddPrincipalRole'], approvalTtlSeconds: 3600 } });
    try {
      const approval = {
        id: '11111111-1111-4111-8111-111111111111', operation: 'datadefender:AddPrincipalRole', resource: bob.caller.arn, requestDigest: 'd', summary: {},
        requesterId: alice.caller.principalId, requesterArn: alice.caller.arn, status: 'Pending' as const, approverId: null, approverArn: null,
        createdAt: dc.clock.now(), expiresAt: new Date(dc.clock.now().getTime() + 3_600_000), decidedAt: null, consumedAt: null,
      };
      await dc.storage.createApproval(approval);
      await expect(dc.service.approvals.approve(bob, approval.id)).rejects.toMatchObject({ code: 'ERR_ACCESS_DENIED', message: 'You cannot decide a request that changes your own principal.' });
      expect((await dc.service.approvals.approve(carol, approval.id)).status).toBe('Approved');
    } finally {
      await dc.close();
    }
  });
});

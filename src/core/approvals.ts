/**
 * Dual-control approval requests (dual-control.ts creates them): list, read, approve, reject.
 * Invariants: nobody decides their own request, nor a request that changes their own principal; the approver must be authorized for `datadefender:ApproveRequest`
 * (or RejectRequest) and also, by the policies in force now, for the requested operation on its resource, so a
 * second *authorized* principal approves; a decision is one conditional update (only a pending, unexpired request
 * changes), and both identities are in the audit event.
 */
import { AccessDeniedError, InvalidStateError, NotFoundError, ValidationError } from '../errors/index.js';
import { APPROVAL_STATUSES, type ApprovalRecord, type ApprovalStatus, type Page } from '../ports/storage.js';
import type { AccessControl, Target } from './access-control.js';
import { parseKmsArn } from './arn.js';
import type { KeyContext } from './key-context.js';
import { checkInteger } from './limits.js';
import type { RequestContext } from './request-context.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function approvalView(a: ApprovalRecord) {
  return {
    id: a.id,
    operation: a.operation,
    resource: a.resource,
    summary: a.summary,
    status: a.status,
    requestedBy: a.requesterArn,
    decidedBy: a.approverArn,
    createdAt: a.createdAt.toISOString(),
    expiresAt: a.expiresAt.toISOString(),
    decidedAt: a.decidedAt?.toISOString() ?? null,
    consumedAt: a.consumedAt?.toISOString() ?? null,
  };
}

export function createApprovals(kc: KeyContext, access: AccessControl) {
  const { storage, run, clock } = kc;

  const find = async (id: string) => {
    const approval = UUID.test(id) ? await storage.getApproval(id) : undefined;
    if (!approval) throw new NotFoundError(`Approval request ${id.slice(0, 64)} does not exist.`);
    return approval;
  };

  /** The requested operation's target as it is now (a key record when the resource is a key). */
  const targetOf = async (approval: ApprovalRecord): Promise<Target> => {
    if (approval.resource === null) return null;
    const kms = parseKmsArn(approval.resource);
    const key = kms?.resource.startsWith('key/') ? await storage.getKey(kms.resource.slice(4)) : undefined;
    return key ?? { arn: approval.resource };
  };

  const decide = (ctx: RequestContext, id: string, decision: 'Approved' | 'Rejected') =>
    run(ctx, `${decision === 'Approved' ? 'Approve' : 'Reject'}Request`, { readOnly: false, action: `datadefender:${decision === 'Approved' ? 'Approve' : 'Reject'}Request` }, async (op) => {
      await op.authorize(null);
      const approval = await find(id);
      Object.assign(op.details, { approvalId: approval.id, operation: approval.operation, requestedBy: approval.requesterArn });
      if (approval.requesterId === ctx.caller.principalId) throw new AccessDeniedError('You cannot decide your own approval request.');
      if (approval.resource === ctx.caller.arn) throw new AccessDeniedError('You cannot decide a request that changes your own principal.');
      const now = clock.now();
      const onOperation = await access.authorize(ctx.caller, approval.operation, await targetOf(approval), undefined, { sourceIp: ctx.sourceIp, now });
      if (onOperation.decision !== 'allow') {
        throw new AccessDeniedError(`User: ${ctx.caller.arn} is not authorized to perform ${approval.operation} on ${approval.resource ?? '*'}, so cannot decide its approval.`);
      }
      if (approval.status !== 'Pending' || approval.expiresAt <= now) {
        throw new InvalidStateError(`Approval request ${approval.id} is ${approval.expiresAt <= now ? 'expired' : approval.status}.`);
      }
      await op.beforeChange();
      const updated = await storage.decideApproval(approval.id, decision, { id: ctx.caller.principalId, arn: ctx.caller.arn }, now);
      if (!updated) throw new InvalidStateError(`Approval request ${approval.id} is no longer pending.`);
      return approvalView(updated);
    });

  return {
    list(ctx: RequestContext, page: { status?: string; limit?: number; marker?: string }): Promise<Page<ReturnType<typeof approvalView>>> {
      return run(ctx, 'ListApprovals', { readOnly: true, action: 'datadefender:ListApprovals' }, async (op) => {
        await op.authorize(null);
        if (page.status !== undefined && !APPROVAL_STATUSES.includes(page.status as ApprovalStatus)) {
          throw new ValidationError(`Status must be one of ${APPROVAL_STATUSES.join(', ')}.`);
        }
        const limit = checkInteger('Limit', page.limit ?? 100, { min: 1, max: 1000 });
        const result = await storage.listApprovals({
          limit,
          ...(page.marker === undefined ? {} : { marker: page.marker }),
          ...(page.status === undefined ? {} : { status: page.status as ApprovalStatus }),
        });
        return { ...result, items: result.items.map(approvalView) };
      });
    },

    get(ctx: RequestContext, id: string) {
      return run(ctx, 'GetApproval', { readOnly: true, action: 'datadefender:GetApproval' }, async (op) => {
        await op.authorize(null);
        return approvalView(await find(id));
      });
    },

    approve: (ctx: RequestContext, id: string) => decide(ctx, id, 'Approved'),
    reject: (ctx: RequestContext, id: string) => decide(ctx, id, 'Rejected'),
  };
}

export type Approvals = ReturnType<typeof createApprovals>;

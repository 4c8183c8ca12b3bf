/**
 * Dual control (PCI DSS 3.6.1.2, 3.7.6): a sensitive operation runs only with a second, distinct principal's
 * approval. The first call creates a pending approval request and fails with ApprovalRequiredError naming it;
 * another principal authorized for the same operation approves it; the requester repeats the identical request
 * (same operation, same parameters: the request digest) within the TTL and it runs once.
 * Invariants:
 * - an approval is consumed by one conditional update, so an approved request runs at most once, even when
 *   repeated concurrently;
 * - an approval only ever serves its requester and the exact request it was created for (digest, operation);
 * - a repeated call while the request is still pending answers with the same approval id (no pile-up);
 * - creating the request is a state change: the attempt is audited first.
 */
import { randomUuid, sha256Hex } from '../crypto/index.js';
import { ApprovalRequiredError } from '../errors/index.js';
import type { Clock } from '../ports/clock.js';
import type { ApprovalRecord, Storage } from '../ports/storage.js';
import type { RequestContext } from './request-context.js';

export interface DualControlSettings {
  enabled: boolean;
  /** Operation names (AWS names, or DataDefender's, e.g. `AttachPrincipalPolicy`) that need a second approval. */
  operations: readonly string[];
  approvalTtlSeconds: number;
}

export interface DualControl {
  /** True when `operation` needs an approval under the configuration. */
  requires(operation: string): boolean;
  /**
   * Consumes the caller's approved request for this exact request, or creates (or finds) a pending one and throws.
   * `beforeChange` records the attempt before a new request is stored.
   * @throws ApprovalRequiredError (ERR_APPROVAL_REQUIRED)
   */
  gate(
    ctx: RequestContext,
    request: { operation: string; resource: string | null; summary: Record<string, unknown> },
    beforeChange: () => Promise<void>,
  ): Promise<ApprovalRecord>;
}

/** The digest identifying "the same request" when the front end gave none (in-process callers). */
function fallbackDigest(operation: string, resource: string | null, summary: Record<string, unknown>): string {
  return sha256Hex(JSON.stringify([operation, resource, summary]));
}

export function createDualControl(deps: { storage: Storage; clock: Clock; settings: DualControlSettings }): DualControl {
  const { storage, clock, settings } = deps;
  const gated = new Set(settings.operations);

  const pendingError = (approval: ApprovalRecord) =>
    new ApprovalRequiredError(
      `${approval.operation} requires the approval of a second principal (dual control). Approval request ${approval.id} is ` +
        `pending; once another principal approves it, repeat the same request before ${approval.expiresAt.toISOString()}.`,
      approval.id,
    );

  return {
    requires: (operation) => settings.enabled && gated.has(operation),
    async gate(ctx, { operation, resource, summary }, beforeChange) {
      const digest = ctx.requestDigest?.() ?? fallbackDigest(operation, resource, summary);
      const now = clock.now();
      const mine = (await storage.findApprovals(ctx.caller.principalId, digest)).filter(
        (a) => a.operation === operation && a.resource === resource && a.expiresAt > now,
      );
      for (const approved of mine.filter((a) => a.status === 'Approved')) {
        if (await storage.consumeApproval(approved.id, now)) return approved;
      }
      const pending = mine.find((a) => a.status === 'Pending');
      if (pending) throw pendingError(pending);
      await beforeChange();
      const approval: ApprovalRecord = {
        id: randomUuid(),
        operation,
        resource,
        requestDigest: digest,
        summary,
        requesterId: ctx.caller.principalId,
        requesterArn: ctx.caller.arn,
        status: 'Pending',
        approverId: null,
        approverArn: null,
        createdAt: now,
        expiresAt: new Date(now.getTime() + settings.approvalTtlSeconds * 1000),
        decidedAt: null,
        consumedAt: null,
      };
      await storage.createApproval(approval);
      throw pendingError(approval);
    },
  };
}

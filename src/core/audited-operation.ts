/**
 * Runs one use case on the request path: authorize -> (audit the attempt before any state change) -> perform
 * -> audit the outcome -> return.
 * Invariants: every run, allowed or denied, succeeded or failed, appends an outcome event before returning;
 * a use case that changes state appends an `attempt` event first, so no change is ever unrecorded;
 * if an append fails the caller gets AuditUnavailableError and no result; a use case that forgets to
 * authorize fails with an internal error instead of returning.
 * Existence is not revealed to callers who may not act on a key: a key or alias that does not exist, when the
 * request failed before authorization, is answered as the same access denial a caller without permission gets on
 * an existing key (unless the caller's own permissions allow the action on it, as AWS KMS answers NotFound then).
 * A sealed root of trust refuses every operation before it starts (SealedError), audited like any failure.
 * Dual control: an allowed operation that the configuration gates runs only with a consumed approval (dual-control.ts);
 * the approval and both identities go into the audit event.
 */
import { randomUuid } from '../crypto/index.js';
import { InternalError, NotFoundError, SealedError, toDataDefenderError, type DataDefenderError } from '../errors/index.js';
import { accessDenied } from './access-control.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditEvent } from '../ports/audit-sink.js';
import type { Clock } from '../ports/clock.js';
import type { KeyRecord } from '../ports/storage.js';
import { isKeyTarget, type AccessControl, type Conditions, type Target } from './access-control.js';
import type { DualControl } from './dual-control.js';
import type { RequestContext } from './request-context.js';

export const SEALED_MESSAGE = 'DataDefender is sealed: key operations are refused until operators unseal it (datadefender operator unseal).';

const DENIALS = new Set(['ERR_ACCESS_DENIED', 'ERR_UNAUTHENTICATED', 'ERR_APPROVAL_REQUIRED']);

export interface Operation {
  /** Non-secret facts for the audit event (sizes, spec, encryption-context keys, version). */
  readonly details: Record<string, unknown>;
  /**
   * Authorizes the caller for this operation (or for `action`, e.g. ReEncryptFrom) on `target` (a key, another
   * resource by ARN, or null for account-level actions), with the request's condition facts; then, when dual
   * control gates the operation and the change is `sensitive` (default true), requires a consumed approval.
   * @throws AccessDeniedError, ApprovalRequiredError
   */
  authorize(target: Target, action?: string, conditions?: Conditions, options?: { sensitive?: boolean }): Promise<void>;
  /**
   * Records that a rule of the operation itself allowed the caller (a grant's retiring principal; `public` for the
   * few operations anyone may call, such as submitting an unseal share).
   */
  authorizedBy(key: KeyRecord | null, rule: string): void;
  /** Records the attempt durably; call right before the first state change. */
  beforeChange(): Promise<void>;
  /**
   * What the answer created, for the success event's responseElements (identifiers, never secrets); `created` is
   * the ARN of a resource the operation made, for the event's resources when authorization named none.
   */
  respond(facts: Record<string, unknown>, created?: string): void;
}

export interface RunOptions {
  readOnly: boolean;
  /** Root-of-trust operations (status, unseal, seal) run while sealed; every other operation is refused then. */
  whileSealed?: boolean;
  /** The action the operation is authorized as, when not `kms:<name>` (e.g. `datadefender:CreatePrincipal`). */
  action?: string;
}

export type RunOperation = <T>(
  ctx: RequestContext,
  name: string,
  options: RunOptions,
  perform: (op: Operation) => Promise<T>,
) => Promise<T>;

/** The details without the answer's facts: only a success has responseElements (as in CloudTrail). */
function withoutResponse(details: Record<string, unknown>): Record<string, unknown> {
  const { response: _answer, ...rest } = details;
  return rest;
}

export function createOperationRunner(deps: {
  audit: AuditLog;
  access: AccessControl;
  clock: Clock;
  dualControl: DualControl;
  /** True while the root of trust is sealed: every operation is refused (and audited). */
  sealed: () => boolean;
}): RunOperation {
  const { audit, access, clock, dualControl, sealed } = deps;
  return async <T>(ctx: RequestContext, name: string, { readOnly, action: defaultAction = name, whileSealed = false }: RunOptions, perform: (op: Operation) => Promise<T>) => {
    let resource: string | null = null;
    let authorized = false;
    const details: Record<string, unknown> = {};
    const event = (outcome: AuditEvent['outcome'], errorCode: string | null, errorMessage: string | null = null): AuditEvent => ({
      eventId: randomUuid(),
      eventTime: clock.now(),
      eventName: name,
      eventSource: ctx.source,
      requestId: ctx.requestId,
      principal: ctx.caller.arn,
      credential: ctx.caller.credential,
      sourceIp: ctx.sourceIp,
      userAgent: ctx.userAgent,
      resource,
      outcome,
      errorCode,
      readOnly,
      details: outcome === 'success' ? { ...details } : withoutResponse(details),
      roles: ctx.caller.roles,
      errorMessage,
    });
    const op: Operation = {
      details,
      async authorize(target, action = defaultAction, conditions, options) {
        const arn = target === null ? null : isKeyTarget(target) ? access.arnOf(target) : target.arn;
        resource ??= arn;
        const decision = await access.authorize(ctx.caller, action, target, conditions, { sourceIp: ctx.sourceIp, now: clock.now() });
        details.authorization ??= decision;
        // Named through an alias, a denial names the alias, as for a missing one: the key behind it stays unknown.
        if (decision.decision !== 'allow') throw accessDenied(ctx.caller.arn, action, conditions?.requestAlias ? access.aliasArnOf(conditions.requestAlias) : arn);
        if (options?.sensitive !== false && dualControl.requires(name)) {
          const approval = await dualControl.gate(ctx, { operation: action, resource: arn, summary: { ...details, authorization: undefined } }, op.beforeChange);
          details.approval = { id: approval.id, requestedBy: approval.requesterArn, approvedBy: approval.approverArn };
        }
        authorized = true;
      },
      authorizedBy(key, rule) {
        if (key) resource ??= access.arnOf(key);
        details.authorization ??= { decision: 'allow', by: rule };
        authorized = true;
      },
      beforeChange: () => audit.record(event('attempt', null)),
      respond(facts, created) {
        details.response = { ...(details.response as Record<string, unknown> | undefined), ...facts };
        if (created) resource ??= created;
      },
    };

    /** A missing key or alias named by a caller who may not act on it: the answer an existing key would give. */
    const masked = async (failure: DataDefenderError): Promise<DataDefenderError> => {
      if (!(failure instanceof NotFoundError) || failure.resource === undefined) return failure;
      const decision = await access.authorize(ctx.caller, defaultAction, { arn: failure.resource }, undefined, { sourceIp: ctx.sourceIp, now: clock.now() });
      if (decision.decision === 'allow') return failure;
      details.authorization ??= decision;
      resource ??= failure.resource;
      return accessDenied(ctx.caller.arn, defaultAction, failure.resource);
    };

    let result: T;
    try {
      if (!whileSealed && sealed()) throw new SealedError(SEALED_MESSAGE);
      result = await perform(op);
      if (!authorized) throw new InternalError({ cause: new Error(`${name} returned without authorizing`) });
    } catch (err) {
      const failure = authorized ? toDataDefenderError(err) : await masked(toDataDefenderError(err));
      const outcome = DENIALS.has(failure.code) ? 'denied' : 'failure';
      await audit.record(event(outcome, failure.code, failure.message));
      if (ctx.audit) ctx.audit.recorded = true;
      throw failure;
    }
    await audit.record(event('success', null));
    if (ctx.audit) ctx.audit.recorded = true;
    return result;
  };
}

/**
 * Runs one use case on the request path: authorize -> (audit the attempt before any state change) -> perform
 * -> audit the outcome -> return.
 * Invariants: every run, allowed or denied, succeeded or failed, appends an outcome event before returning;
 * a use case that changes state appends an `attempt` event first, so no change is ever unrecorded;
 * if an append fails the caller gets AuditUnavailableError and no result; a use case that forgets to
 * authorize fails with an internal error instead of returning.
 */
import { randomUuid } from '../crypto/index.js';
import { InternalError, toDataDefenderError } from '../errors/index.js';
import { accessDenied } from './access-control.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditEvent } from '../ports/audit-sink.js';
import type { Clock } from '../ports/clock.js';
import type { KeyRecord } from '../ports/storage.js';
import type { AccessControl, Conditions } from './access-control.js';
import type { RequestContext } from './request-context.js';

const DENIALS = new Set(['ERR_ACCESS_DENIED', 'ERR_UNAUTHENTICATED']);

export interface Operation {
  /** Non-secret facts for the audit event (sizes, spec, encryption-context keys, version). */
  readonly details: Record<string, unknown>;
  /**
   * Authorizes the caller for this operation (or for `action`, e.g. ReEncryptFrom) on `key` (null for
   * account-level actions), with the request's condition facts. @throws AccessDeniedError
   */
  authorize(key: KeyRecord | null, action?: string, conditions?: Conditions): Promise<void>;
  /** Records that a rule of the operation itself allowed the caller (e.g. a grant's retiring principal). */
  authorizedBy(key: KeyRecord, rule: string): void;
  /** Records the attempt durably; call right before the first state change. */
  beforeChange(): Promise<void>;
}

export type RunOperation = <T>(
  ctx: RequestContext,
  name: string,
  options: { readOnly: boolean },
  perform: (op: Operation) => Promise<T>,
) => Promise<T>;

export function createOperationRunner(deps: { audit: AuditLog; access: AccessControl; clock: Clock }): RunOperation {
  const { audit, access, clock } = deps;
  return async <T>(ctx: RequestContext, name: string, { readOnly }: { readOnly: boolean }, perform: (op: Operation) => Promise<T>) => {
    let resource: string | null = null;
    let authorized = false;
    const details: Record<string, unknown> = {};
    const event = (outcome: AuditEvent['outcome'], errorCode: string | null): AuditEvent => ({
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
      details: { ...details },
    });
    const op: Operation = {
      details,
      async authorize(key, action = name, conditions) {
        const arn = key === null ? null : access.arnOf(key);
        resource ??= arn;
        const decision = await access.authorize(ctx.caller, action, key, conditions, { sourceIp: ctx.sourceIp, now: clock.now() });
        details.authorization ??= decision;
        if (decision.decision !== 'allow') throw accessDenied(ctx.caller.arn, action, arn);
        authorized = true;
      },
      authorizedBy(key, rule) {
        resource ??= access.arnOf(key);
        details.authorization ??= { decision: 'allow', by: rule };
        authorized = true;
      },
      beforeChange: () => audit.record(event('attempt', null)),
    };

    let result: T;
    try {
      result = await perform(op);
      if (!authorized) throw new InternalError({ cause: new Error(`${name} returned without authorizing`) });
    } catch (err) {
      const failure = toDataDefenderError(err);
      const outcome = DENIALS.has(failure.code) ? 'denied' : 'failure';
      await audit.record(event(outcome, failure.code));
      if (ctx.audit) ctx.audit.recorded = true;
      throw failure;
    }
    await audit.record(event('success', null));
    if (ctx.audit) ctx.audit.recorded = true;
    return result;
  };
}

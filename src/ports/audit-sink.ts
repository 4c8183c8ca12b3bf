/** One audit record. Never carries plaintext, key material, secrets or tokens. */
export interface AuditEvent {
  eventId: string;
  eventTime: Date;
  /** AWS operation name for both APIs, e.g. `Encrypt`, `CreateKey`. */
  eventName: string;
  /** `rest` or `aws-kms` or `job`. */
  eventSource: string;
  requestId: string;
  /** Principal ARN, or `anonymous` when authentication failed. */
  principal: string;
  /** `token:<accessor>`, `access-key:<id>`, `job` ... */
  credential: string | null;
  sourceIp: string | null;
  userAgent: string | null;
  /** Key ARN the operation touched, when there is one. */
  resource: string | null;
  /** `attempt` (written before a state change), `success`, `failure` or `denied`. */
  outcome: 'attempt' | 'success' | 'failure' | 'denied';
  errorCode: string | null;
  readOnly: boolean;
  /** Non-secret request facts: key spec, encryption-context keys, sizes, key version. */
  details: Record<string, unknown>;
}

export interface StoredAuditEvent extends AuditEvent {
  sequence: number;
}

/** Durable store of audit events. `append` resolves only once every event is durable. */
export interface AuditSink {
  append(events: readonly AuditEvent[]): Promise<void>;
  /** Events in append order, after `afterSequence` (exclusive). */
  readAudit(options: { afterSequence?: number; limit: number }): Promise<StoredAuditEvent[]>;
}

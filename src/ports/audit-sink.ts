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
  /** The caller's built-in roles, when known (CloudTrail userIdentity). */
  roles?: readonly string[];
  /** The client-facing error message (fixed texts; never driver or internal detail). */
  errorMessage?: string | null;
  /** The event's place in its hash chain; set by the audit log just before the append (audit-chain.ts). */
  chain?: ChainLink;
}

/** An event's link in its chain: `hash` = SHA-256 of `record` (the CloudTrail-shaped JSON text, stored as is). */
export interface ChainLink {
  chainId: string;
  sequence: number;
  /** Hex SHA-256 of the previous event's record (64 zeros for sequence 1). */
  previousHash: string;
  hash: string;
  /** The CloudTrail-shaped JSON text hashed; it names chainId, sequence and previousHash itself. */
  record: string;
}

export interface StoredAuditEvent extends AuditEvent {
  sequence: number;
}

/**
 * A search of the trail: every filter given must match (exact values; time range inclusive from, exclusive to;
 * `hashes` any of them).
 */
export interface AuditSearch {
  afterSequence?: number;
  limit: number;
  eventName?: string;
  principal?: string;
  resource?: string;
  outcome?: AuditEvent['outcome'];
  requestId?: string;
  from?: Date;
  to?: Date;
  /**
   * Keyed hashes (`hmac-sha256:audit-hmac-<n>:<hex>`, audit/sensitive.ts): an event matches when its stored record
   * (or, unchained, its details) contains any of them, as an exact, case-sensitive substring; none matches nothing.
   */
  hashes?: readonly string[];
}

/** Durable store of audit events. `append` resolves only once every event is durable. */
export interface AuditSink {
  /**
   * True when appends may be pipelined: they are committed in call order, each all-or-nothing, and once an append
   * fails, every later append carrying events of the same chain fails too (nothing behind a failure is committed).
   * The audit log then keeps several batches in flight; otherwise one.
   */
  readonly orderedAppends?: boolean;
  append(events: readonly AuditEvent[]): Promise<void>;
  /** Events matching the search in global sequence order, after `afterSequence` (exclusive). */
  readAudit(options: AuditSearch): Promise<StoredAuditEvent[]>;
}

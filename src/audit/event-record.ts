/**
 * The CloudTrail-shaped record of one audit event: the JSON text that is hashed into the chain and exported.
 * Invariants: built only from an already redacted event (sensitive.ts), so it never holds plaintext, key material,
 * secrets or tokens (a token appears only as its public accessor); it names its own chain position
 * (`chain.id`, `chain.sequence`, `chain.previousHash`), so its hash commits to where it sits; the text is plain
 * JSON.stringify output (field order fixed by construction): it is stored and exported as is, and the verifier hashes
 * the stored text, never a re-serialization, so no canonical form is needed (and none is paid for per event).
 */
import type { AuditEvent } from '../ports/audit-sink.js';

export const EVENT_VERSION = '1.08';

/** CloudTrail eventSource per front end. */
const EVENT_SOURCES: Readonly<Record<string, string>> = {
  'aws-kms': 'kms.amazonaws.com',
  rest: 'datadefender.rest',
  job: 'datadefender.jobs',
};

export interface UserIdentity {
  type: 'IAMUser' | 'AssumedRole' | 'AWSService' | 'Anonymous';
  arn: string;
  roles?: readonly string[];
  credentialKind: string;
  accessKeyId?: string;
  tokenAccessor?: string;
  clientCertificateFingerprint?: string;
}

/** The record's fields (see README "Audit trail" for each). */
export interface CloudTrailRecord {
  eventVersion: string;
  eventID: string;
  eventTime: string;
  eventSource: string;
  eventName: string;
  eventType: 'AwsApiCall' | 'AwsServiceEvent';
  userIdentity: UserIdentity;
  sourceIPAddress: string | null;
  userAgent: string | null;
  requestID: string;
  readOnly: boolean;
  outcome: AuditEvent['outcome'];
  errorCode: string | null;
  errorMessage: string | null;
  resources: { ARN: string; type: string }[];
  requestParameters: Record<string, unknown>;
  responseElements: Record<string, unknown> | null;
  /** The policy decision and the statement that decided it. */
  authorization: unknown;
  /** Dual control: the approval consumed, requester and approver. */
  approval: unknown;
  chain: { id: string; sequence: number; previousHash: string };
}

function userIdentity(principal: string, credential: string | null, roles: readonly string[] | undefined): UserIdentity {
  const [kind = 'none', value] = (credential ?? 'none').split(/:(.*)/s);
  const type = principal === 'anonymous' ? 'Anonymous' : kind === 'job' ? 'AWSService' : principal.includes(':role/') ? 'AssumedRole' : 'IAMUser';
  const id: UserIdentity = { type, arn: principal, credentialKind: kind, ...(roles ? { roles: [...roles] } : {}) };
  if (value !== undefined) {
    if (kind === 'access-key') id.accessKeyId = value;
    else if (kind === 'token') id.tokenAccessor = value;
    else if (kind === 'certificate') id.clientCertificateFingerprint = value;
  }
  return id;
}

function resourceType(arn: string): string {
  if (arn.includes(':key/')) return 'AWS::KMS::Key';
  if (arn.includes(':alias/')) return 'AWS::KMS::Alias';
  if (arn.includes(':user/') || arn.includes(':role/')) return 'AWS::IAM::Principal';
  return 'DataDefender::Resource';
}

/** The record of `event` (already redacted) at `chain` position. */
export function eventRecord(event: AuditEvent, chain: { id: string; sequence: number; previousHash: string }): CloudTrailRecord {
  const { authorization = null, approval = null, response, ...requestParameters } = event.details;
  return {
    eventVersion: EVENT_VERSION,
    eventID: event.eventId,
    eventTime: event.eventTime.toISOString(),
    eventSource: EVENT_SOURCES[event.eventSource] ?? event.eventSource,
    eventName: event.eventName,
    eventType: event.eventSource === 'job' ? 'AwsServiceEvent' : 'AwsApiCall',
    userIdentity: userIdentity(event.principal, event.credential, event.roles),
    sourceIPAddress: event.sourceIp,
    userAgent: event.userAgent,
    requestID: event.requestId,
    readOnly: event.readOnly,
    outcome: event.outcome,
    errorCode: event.errorCode,
    errorMessage: event.errorMessage ?? null,
    resources: event.resource === null ? [] : [{ ARN: event.resource, type: resourceType(event.resource) }],
    requestParameters,
    responseElements: response !== null && typeof response === 'object' ? (response as Record<string, unknown>) : null,
    authorization,
    approval,
    chain,
  };
}

/** The text of a record (what is stored, exported and hashed). */
export function recordText(record: CloudTrailRecord): string {
  return JSON.stringify(record);
}

/**
 * Row <-> record mapping, one pair of functions per table, shared by both engines.
 * Dates are epoch milliseconds in the database and Date objects outside; null stays null.
 */
import { InternalError, ValidationError } from '../../errors/index.js';
import type { AuditEvent, StoredAuditEvent } from '../../ports/audit-sink.js';
import {
  APPROVAL_STATUSES,
  KEY_STATES,
  PRINCIPAL_KINDS,
  type AccessKeyRecord,
  type AliasRecord,
  type ApprovalRecord,
  type ClientCertificateRecord,
  type GrantConstraints,
  type GrantRecord,
  type KeyPatch,
  type KeyRecord,
  type KeyState,
  type KeyVersionRecord,
  type ManagedPolicyRecord,
  type PrincipalPatch,
  type PrincipalRecord,
  type RotationType,
  type TokenRecord,
} from '../../ports/storage.js';
import type {
  AccessKeysTable,
  AliasesTable,
  ApprovalsTable,
  AuditEventsTable,
  ClientCertificatesTable,
  GrantsTable,
  KeysTable,
  KeyVersionsTable,
  PoliciesTable,
  PrincipalsTable,
  TokensTable,
} from './schema.js';

const ROTATION_TYPES: readonly RotationType[] = ['ORIGINAL', 'AUTOMATIC', 'ON_DEMAND'];
const ACCESS_KEY_STATUSES: readonly AccessKeyRecord['status'][] = ['Active', 'Inactive'];
const OUTCOMES: readonly AuditEvent['outcome'][] = ['attempt', 'success', 'failure', 'denied'];

// ---- scalar helpers -------------------------------------------------------------------------------------

export function toMillis(date: Date): number {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new ValidationError('A date given to storage is not valid.');
  return ms;
}

export function toNullableMillis(date: Date | null): number | null {
  return date === null ? null : toMillis(date);
}

function toDate(ms: number | string): Date {
  return new Date(Number(ms));
}

function toNullableDate(ms: number | string | null): Date | null {
  return ms === null ? null : toDate(ms);
}

/** Buffers are passed through; other Uint8Arrays are viewed (not copied) as Buffers, which both drivers bind. */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function oneOf<T extends string>(value: string, allowed: readonly T[], column: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw corrupt(column);
  return value as T;
}

function corrupt(column: string): InternalError {
  return new InternalError({ cause: new Error(`storage returned an invalid value in column ${column}`) });
}

function parseJson(text: string, column: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InternalError({ cause: new Error(`storage returned invalid JSON in column ${column}`, { cause: err }) });
  }
}

function parseStringMap(text: string, column: string): Record<string, string> {
  const value = parseJson(text, column);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corrupt(column);
  for (const v of Object.values(value)) if (typeof v !== 'string') throw corrupt(column);
  return value as Record<string, string>;
}

function parseStringArray(text: string, column: string): string[] {
  const value = parseJson(text, column);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw corrupt(column);
  return value as string[];
}

function parseObject(text: string, column: string): Record<string, unknown> {
  const value = parseJson(text, column);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corrupt(column);
  return value as Record<string, unknown>;
}

// ---- keys -----------------------------------------------------------------------------------------------

export function keyToRow(key: KeyRecord): KeysTable {
  return {
    id: key.id,
    created_at: toMillis(key.createdAt),
    description: key.description,
    key_spec: key.keySpec,
    key_usage: key.keyUsage,
    origin: key.origin,
    state: key.state,
    current_version: key.currentVersion,
    rotation_period_days: key.rotationPeriodDays,
    next_rotation_at: toNullableMillis(key.nextRotationAt),
    deletion_at: toNullableMillis(key.deletionAt),
    pending_window_days: key.pendingWindowDays,
    tags: JSON.stringify(key.tags),
    policy: key.policy,
  };
}

export function rowToKey(row: KeysTable): KeyRecord {
  return {
    id: row.id,
    createdAt: toDate(row.created_at),
    description: row.description,
    keySpec: row.key_spec,
    keyUsage: row.key_usage,
    origin: row.origin,
    state: oneOf<KeyState>(row.state, KEY_STATES, 'keys.state'),
    currentVersion: Number(row.current_version),
    rotationPeriodDays: row.rotation_period_days === null ? null : Number(row.rotation_period_days),
    nextRotationAt: toNullableDate(row.next_rotation_at),
    deletionAt: toNullableDate(row.deletion_at),
    pendingWindowDays: row.pending_window_days === null ? null : Number(row.pending_window_days),
    tags: parseStringMap(row.tags, 'keys.tags'),
    policy: row.policy ?? null,
  };
}

/** The columns a KeyPatch sets; properties that are absent or undefined are left alone. */
export function keyPatchToRow(patch: KeyPatch): Partial<KeysTable> {
  const row: Partial<KeysTable> = {};
  if (patch.description !== undefined) row.description = patch.description;
  if (patch.state !== undefined) row.state = patch.state;
  if (patch.rotationPeriodDays !== undefined) row.rotation_period_days = patch.rotationPeriodDays;
  if (patch.nextRotationAt !== undefined) row.next_rotation_at = toNullableMillis(patch.nextRotationAt);
  if (patch.deletionAt !== undefined) row.deletion_at = toNullableMillis(patch.deletionAt);
  if (patch.pendingWindowDays !== undefined) row.pending_window_days = patch.pendingWindowDays;
  if (patch.policy !== undefined) row.policy = patch.policy;
  if (patch.tags !== undefined) row.tags = JSON.stringify(patch.tags);
  return row;
}

// ---- key versions ---------------------------------------------------------------------------------------

export function versionToRow(version: KeyVersionRecord): KeyVersionsTable {
  return {
    key_id: version.keyId,
    version: version.version,
    material_id: version.materialId,
    wrapped: toBuffer(version.wrapped),
    created_at: toMillis(version.createdAt),
    rotation_type: version.rotationType,
  };
}

export function rowToVersion(row: KeyVersionsTable): KeyVersionRecord {
  return {
    keyId: row.key_id,
    version: Number(row.version),
    materialId: row.material_id,
    wrapped: row.wrapped,
    createdAt: toDate(row.created_at),
    rotationType: oneOf(row.rotation_type, ROTATION_TYPES, 'key_versions.rotation_type'),
  };
}

// ---- aliases --------------------------------------------------------------------------------------------

export function aliasToRow(alias: AliasRecord): AliasesTable {
  return {
    name: alias.name,
    key_id: alias.keyId,
    created_at: toMillis(alias.createdAt),
    updated_at: toMillis(alias.updatedAt),
  };
}

export function rowToAlias(row: AliasesTable): AliasRecord {
  return { name: row.name, keyId: row.key_id, createdAt: toDate(row.created_at), updatedAt: toDate(row.updated_at) };
}

// ---- principals and credentials -------------------------------------------------------------------------

/** The principals row; its policies are rows of principal_policies. */
export function principalToRow(principal: PrincipalRecord): PrincipalsTable {
  return {
    id: principal.id,
    name: principal.name,
    kind: principal.kind,
    arn: principal.arn,
    roles: JSON.stringify(principal.roles),
    tags: JSON.stringify(principal.tags),
    disabled: principal.disabled ? 1 : 0,
    created_at: toMillis(principal.createdAt),
    updated_at: toMillis(principal.updatedAt),
  };
}

/**
 * A principals row with `policies`, the JSON array of its attached policy names (any order; returned sorted by
 * code point, as names are ordered in the database).
 */
export function rowToPrincipal(row: PrincipalsTable & { policies: string }): PrincipalRecord {
  return {
    id: row.id,
    name: row.name,
    kind: oneOf(row.kind, PRINCIPAL_KINDS, 'principals.kind'),
    arn: row.arn,
    roles: parseStringArray(row.roles, 'principals.roles'),
    policies: parseStringArray(row.policies, 'principal_policies.policy_name').sort(compareCodePoints),
    tags: parseStringMap(row.tags, 'principals.tags'),
    disabled: Number(row.disabled) !== 0,
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

/** The principals columns a PrincipalPatch sets (policies are rows of principal_policies); absent or undefined ones are left alone. */
export function principalPatchToRow(patch: PrincipalPatch): Partial<PrincipalsTable> {
  const row: Partial<PrincipalsTable> = {};
  if (patch.roles !== undefined) row.roles = JSON.stringify(patch.roles);
  if (patch.tags !== undefined) row.tags = JSON.stringify(patch.tags);
  if (patch.disabled !== undefined) row.disabled = patch.disabled ? 1 : 0;
  return row;
}

/** Code-point order (UTF-8 byte order), as PostgreSQL's "C" collation and SQLite's BINARY compare text. */
export function compareCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function tokenToRow(token: TokenRecord): TokensTable {
  return {
    hash: token.hash,
    accessor: token.accessor,
    principal_id: token.principalId,
    created_at: toMillis(token.createdAt),
    expires_at: toNullableMillis(token.expiresAt),
  };
}

export function rowToToken(row: TokensTable): TokenRecord {
  return {
    hash: row.hash,
    accessor: row.accessor,
    principalId: row.principal_id,
    createdAt: toDate(row.created_at),
    expiresAt: toNullableDate(row.expires_at),
  };
}

export function accessKeyToRow(key: AccessKeyRecord): AccessKeysTable {
  return {
    id: key.id,
    principal_id: key.principalId,
    secret_wrapped: toBuffer(key.secretWrapped),
    status: key.status,
    created_at: toMillis(key.createdAt),
    expires_at: toNullableMillis(key.expiresAt),
  };
}

export function rowToAccessKey(row: AccessKeysTable): AccessKeyRecord {
  return {
    id: row.id,
    principalId: row.principal_id,
    secretWrapped: row.secret_wrapped,
    status: oneOf(row.status, ACCESS_KEY_STATUSES, 'access_keys.status'),
    createdAt: toDate(row.created_at),
    expiresAt: toNullableDate(row.expires_at),
  };
}

// ---- managed policies -----------------------------------------------------------------------------------

export function policyToRow(policy: ManagedPolicyRecord): PoliciesTable {
  return {
    name: policy.name,
    description: policy.description,
    document: policy.document,
    created_at: toMillis(policy.createdAt),
    updated_at: toMillis(policy.updatedAt),
  };
}

export function rowToPolicy(row: PoliciesTable): ManagedPolicyRecord {
  return {
    name: row.name,
    description: row.description,
    document: row.document,
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

// ---- client certificates --------------------------------------------------------------------------------

export function clientCertificateToRow(certificate: ClientCertificateRecord): ClientCertificatesTable {
  return {
    fingerprint: certificate.fingerprint,
    principal_id: certificate.principalId,
    subject: certificate.subject,
    not_after: toMillis(certificate.notAfter),
    created_at: toMillis(certificate.createdAt),
  };
}

export function rowToClientCertificate(row: ClientCertificatesTable): ClientCertificateRecord {
  return {
    fingerprint: row.fingerprint,
    principalId: row.principal_id,
    subject: row.subject,
    notAfter: toDate(row.not_after),
    createdAt: toDate(row.created_at),
  };
}

// ---- approvals ------------------------------------------------------------------------------------------

export function approvalToRow(approval: ApprovalRecord): ApprovalsTable {
  return {
    id: approval.id,
    operation: approval.operation,
    resource: approval.resource,
    request_digest: approval.requestDigest,
    summary: JSON.stringify(approval.summary),
    requester_id: approval.requesterId,
    requester_arn: approval.requesterArn,
    status: approval.status,
    approver_id: approval.approverId,
    approver_arn: approval.approverArn,
    created_at: toMillis(approval.createdAt),
    expires_at: toMillis(approval.expiresAt),
    decided_at: toNullableMillis(approval.decidedAt),
    consumed_at: toNullableMillis(approval.consumedAt),
  };
}

export function rowToApproval(row: ApprovalsTable): ApprovalRecord {
  return {
    id: row.id,
    operation: row.operation,
    resource: row.resource,
    requestDigest: row.request_digest,
    summary: parseObject(row.summary, 'approvals.summary'),
    requesterId: row.requester_id,
    requesterArn: row.requester_arn,
    status: oneOf(row.status, APPROVAL_STATUSES, 'approvals.status'),
    approverId: row.approver_id,
    approverArn: row.approver_arn,
    createdAt: toDate(row.created_at),
    expiresAt: toDate(row.expires_at),
    decidedAt: toNullableDate(row.decided_at),
    consumedAt: toNullableDate(row.consumed_at),
  };
}

// ---- audit events ---------------------------------------------------------------------------------------

export function auditEventToRow(event: AuditEvent): Omit<AuditEventsTable, 'sequence'> {
  return {
    event_id: event.eventId,
    event_time: toMillis(event.eventTime),
    event_name: event.eventName,
    event_source: event.eventSource,
    request_id: event.requestId,
    principal: event.principal,
    credential: event.credential,
    source_ip: event.sourceIp,
    user_agent: event.userAgent,
    resource: event.resource,
    outcome: event.outcome,
    error_code: event.errorCode,
    read_only: event.readOnly ? 1 : 0,
    // A chained event's details live in its record (requestParameters, authorization, approval, response): stored once.
    details: event.chain ? '{}' : JSON.stringify(event.details),
    chain_id: event.chain?.chainId ?? null,
    chain_seq: event.chain?.sequence ?? null,
    prev_hash: event.chain?.previousHash ?? null,
    hash: event.chain?.hash ?? null,
    record: event.chain?.record ?? null,
  };
}

/** The event details a chained record holds (the inverse of audit/event-record.ts's split). */
function detailsOfRecord(record: string): Record<string, unknown> {
  const r = parseObject(record, 'audit_events.record') as { requestParameters?: unknown; authorization?: unknown; approval?: unknown; responseElements?: unknown };
  const params = typeof r.requestParameters === 'object' && r.requestParameters !== null ? (r.requestParameters as Record<string, unknown>) : {};
  return {
    ...params,
    ...(r.authorization == null ? {} : { authorization: r.authorization }),
    ...(r.approval == null ? {} : { approval: r.approval }),
    ...(r.responseElements == null ? {} : { response: r.responseElements }),
  };
}

export function rowToAuditEvent(row: Omit<AuditEventsTable, 'sequence'> & { sequence: number }): StoredAuditEvent {
  return {
    sequence: Number(row.sequence),
    eventId: row.event_id,
    eventTime: toDate(row.event_time),
    eventName: row.event_name,
    eventSource: row.event_source,
    requestId: row.request_id,
    principal: row.principal,
    credential: row.credential,
    sourceIp: row.source_ip,
    userAgent: row.user_agent,
    resource: row.resource,
    outcome: oneOf(row.outcome, OUTCOMES, 'audit_events.outcome'),
    errorCode: row.error_code,
    readOnly: Number(row.read_only) !== 0,
    details: row.record !== null ? detailsOfRecord(row.record) : parseObject(row.details, 'audit_events.details'),
    ...(row.chain_id !== null && row.chain_seq !== null && row.prev_hash !== null && row.hash !== null && row.record !== null
      ? { chain: { chainId: row.chain_id, sequence: Number(row.chain_seq), previousHash: row.prev_hash, hash: row.hash, record: row.record } }
      : {}),
  };
}

// ---- grants ---------------------------------------------------------------------------------------------

export function grantToRow(grant: GrantRecord): GrantsTable {
  return {
    id: grant.id,
    key_id: grant.keyId,
    name: grant.name,
    grantee_principal: grant.granteePrincipal,
    retiring_principal: grant.retiringPrincipal,
    operations: JSON.stringify(grant.operations),
    constraints: grant.constraints === null ? null : JSON.stringify(grant.constraints),
    issued_by: grant.issuedBy,
    created_at: toMillis(grant.createdAt),
  };
}

function parseConstraints(text: string | null): GrantConstraints | null {
  if (text === null) return null;
  const value = parseObject(text, 'grants.constraints');
  const out: GrantConstraints = {};
  for (const field of ['encryptionContextSubset', 'encryptionContextEquals'] as const) {
    if (value[field] !== undefined) out[field] = parseStringMap(JSON.stringify(value[field]), 'grants.constraints');
  }
  return out;
}

export function rowToGrant(row: GrantsTable): GrantRecord {
  return {
    id: row.id,
    keyId: row.key_id,
    name: row.name,
    granteePrincipal: row.grantee_principal,
    retiringPrincipal: row.retiring_principal,
    operations: parseStringArray(row.operations, 'grants.operations'),
    constraints: parseConstraints(row.constraints),
    issuedBy: row.issued_by,
    createdAt: toDate(row.created_at),
  };
}

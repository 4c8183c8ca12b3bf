/**
 * The relational schema shared by the SQLite and PostgreSQL adapters, as Kysely sees it.
 * Conventions: times are epoch milliseconds (BIGINT), booleans are integers 0/1, tags/roles/details/summaries are JSON text,
 * wrapped material is BLOB (SQLite) or BYTEA (PostgreSQL) and comes back as a Buffer.
 */
import type { Generated } from 'kysely';
import type { PkiAuthoritiesTable, PkiCertificatesTable } from './migration-pki.js';
import type { CustomKeyStoreKeysTable, CustomKeyStoresTable } from './migration-custom-key-stores.js';
import type { JobLeasesTable } from './migration-job-leases.js';
import type { MetadataChangesTable } from './migration-metadata-changes.js';

export interface KeysTable {
  id: string;
  created_at: number;
  description: string;
  key_spec: string;
  key_usage: string;
  origin: string;
  state: string;
  current_version: number;
  rotation_period_days: number | null;
  next_rotation_at: number | null;
  deletion_at: number | null;
  pending_window_days: number | null;
  /** JSON object of string values. */
  tags: string;
  /** Key policy JSON text; null for the default policy (migration 0002). */
  policy: string | null;
}

export interface GrantsTable {
  id: string;
  key_id: string;
  name: string | null;
  grantee_principal: string;
  retiring_principal: string | null;
  /** JSON array of operation names. */
  operations: string;
  /** JSON object {encryptionContextSubset?, encryptionContextEquals?}, or null. */
  constraints: string | null;
  issued_by: string;
  created_at: number;
}

export interface KeyVersionsTable {
  key_id: string;
  version: number;
  material_id: string;
  wrapped: Buffer;
  created_at: number;
  rotation_type: string;
}

export interface AliasesTable {
  name: string;
  key_id: string;
  created_at: number;
  updated_at: number;
}

export interface PrincipalsTable {
  id: string;
  name: string;
  /** 'user' or 'service' (migration 0004). */
  kind: string;
  arn: string;
  /** JSON array of strings. */
  roles: string;
  /** JSON object of string values (migration 0004). */
  tags: string;
  /** 0 or 1. */
  disabled: number;
  created_at: number;
  /** Migration 0004; rows from before it have their created_at. */
  updated_at: number;
}

/** Managed policies attached to principals (migration 0004); the policy cannot be deleted while attached. */
export interface PrincipalPoliciesTable {
  principal_id: string;
  policy_name: string;
}

/** Customer-managed identity policies (migration 0004). */
export interface PoliciesTable {
  name: string;
  description: string;
  /** The policy document, JSON text. */
  document: string;
  created_at: number;
  updated_at: number;
}

/** Client certificates mapped to principals, by fingerprint (migration 0004). */
export interface ClientCertificatesTable {
  fingerprint: string;
  principal_id: string;
  subject: string;
  not_after: number;
  created_at: number;
}

/** Dual-control approval requests (migration 0004); no reference to principals, so they outlive them. */
export interface ApprovalsTable {
  id: string;
  operation: string;
  resource: string | null;
  request_digest: string;
  /** JSON object. */
  summary: string;
  requester_id: string;
  requester_arn: string;
  status: string;
  approver_id: string | null;
  approver_arn: string | null;
  created_at: number;
  expires_at: number;
  decided_at: number | null;
  consumed_at: number | null;
}

export interface TokensTable {
  hash: string;
  accessor: string;
  principal_id: string;
  created_at: number;
  expires_at: number | null;
}

export interface AccessKeysTable {
  id: string;
  principal_id: string;
  secret_wrapped: Buffer;
  status: string;
  created_at: number;
  /** Migration 0004; null for no expiry. */
  expires_at: number | null;
}

export interface AuditEventsTable {
  sequence: Generated<number>;
  event_id: string;
  event_time: number;
  event_name: string;
  event_source: string;
  request_id: string;
  principal: string;
  credential: string | null;
  source_ip: string | null;
  user_agent: string | null;
  resource: string | null;
  outcome: string;
  error_code: string | null;
  /** 0 or 1. */
  read_only: number;
  /** JSON object. */
  details: string;
  /** Migration 0007: the chain link (null on events written before it). */
  chain_id: string | null;
  chain_seq: number | null;
  prev_hash: string | null;
  hash: string | null;
  record: string | null;
}

/** Migration 0007. */
export interface AuditCheckpointsTable {
  chain_id: string;
  sequence: number;
  hash: string;
  created_at: number;
  key_id: string;
  payload: string;
  signature: string;
}

/** Migration 0009: signed records of archived audit chain segments. */
export interface AuditArchivesTable {
  chain_id: string;
  first_sequence: number;
  last_sequence: number;
  previous_hash: string;
  last_hash: string;
  created_at: number;
  file: string;
  file_sha256: string;
  key_id: string;
  payload: string;
  signature: string;
}

/** Migration 0007. */
export interface AuditKeysTable {
  id: string;
  purpose: string;
  algorithm: string;
  public_key: Uint8Array | null;
  wrapped: Uint8Array;
  created_at: number;
}

/** Migration 0005: the root ring's registry head (one row, id 1) and recovery key record. */
export interface RootRingTable {
  id: number;
  revision: number;
  mac: Uint8Array;
  recovery_public_key: Uint8Array | null;
  recovery_threshold: number | null;
  recovery_shares: number | null;
  recovery_auth_key: Uint8Array | null;
  recovery_created_at: number | null;
}

/** Migration 0005: root generations. */
export interface RootGenerationsTable {
  generation: number;
  kind: string;
  /** JSON object. */
  descriptor: string;
  state: string;
  registry_key: Uint8Array | null;
  created_at: number;
  updated_at: number;
}

/** Migration 0005: re-wrap jobs. */
export interface RootMigrationsTable {
  id: string;
  operation: string;
  target_generation: number;
  target_kind: string;
  /** JSON array of generation numbers. */
  from_generations: string;
  state: string;
  revision: number;
  cursor: string | null;
  done: number;
  total: number;
  skipped: number;
  last_error: string | null;
  started_at: number;
  updated_at: number;
  finished_at: number | null;
}

export interface StorageDatabase {
  keys: KeysTable;
  metadata_changes: MetadataChangesTable;
  key_versions: KeyVersionsTable;
  aliases: AliasesTable;
  grants: GrantsTable;
  principals: PrincipalsTable;
  tokens: TokensTable;
  access_keys: AccessKeysTable;
  policies: PoliciesTable;
  principal_policies: PrincipalPoliciesTable;
  client_certificates: ClientCertificatesTable;
  approvals: ApprovalsTable;
  audit_events: AuditEventsTable;
  root_ring: RootRingTable;
  root_generations: RootGenerationsTable;
  root_migrations: RootMigrationsTable;
  audit_checkpoints: AuditCheckpointsTable;
  audit_keys: AuditKeysTable;
  audit_archives: AuditArchivesTable;
  pki_authorities: PkiAuthoritiesTable;
  pki_certificates: PkiCertificatesTable;
  custom_key_stores: CustomKeyStoresTable;
  custom_key_store_keys: CustomKeyStoreKeysTable;
  job_leases: JobLeasesTable;
}

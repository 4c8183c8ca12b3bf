/**
 * The relational schema shared by the SQLite and PostgreSQL adapters, as Kysely sees it.
 * Conventions: times are epoch milliseconds (BIGINT), booleans are integers 0/1, tags/roles/details are JSON text,
 * wrapped material is BLOB (SQLite) or BYTEA (PostgreSQL) and comes back as a Buffer.
 */
import type { Generated } from 'kysely';

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
  arn: string;
  /** JSON array of strings. */
  roles: string;
  /** 0 or 1. */
  disabled: number;
  created_at: number;
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
}

export interface StorageDatabase {
  keys: KeysTable;
  key_versions: KeyVersionsTable;
  aliases: AliasesTable;
  grants: GrantsTable;
  principals: PrincipalsTable;
  tokens: TokensTable;
  access_keys: AccessKeysTable;
  audit_events: AuditEventsTable;
}

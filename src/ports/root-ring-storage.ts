/**
 * What the root ring (core/root-ring.ts) and root migrations need of storage: the registry of root generations,
 * the recovery (escrow) key record, re-wrap jobs, and keyset-paged access to every wrapped blob with
 * compare-and-swap replacement.
 * Invariants: storage is untrusted — the registry is authenticated by the ring (a MAC under a registry key that only
 * the roots of trust unwrap), never by storage; saveRootRegistry replaces the whole registry atomically, only from
 * `expectedRevision`; replace*Wrap change a row only while it still holds `expected` byte for byte, so a concurrent
 * write (rotation, import, deletion) is never overwritten.
 */

export const ROOT_GENERATION_STATES = ['active', 'retiring', 'retired'] as const;
/** `active`: new wraps use it (exactly one); `retiring`: blobs are being moved off it; `retired`: none remain. */
export type RootGenerationState = (typeof ROOT_GENERATION_STATES)[number];

/** Non-secret description of where a generation's root key lives (pkcs11 token and key label, aws-kms key ARN, seal id). */
export type RootDescriptor = Readonly<Record<string, string | number>>;

export interface RootGenerationRecord {
  /** 1, 2, ...; a legacy blob (written before the ring) belongs to generation 1. */
  generation: number;
  /** Adapter kind: `local`, `local-sealed`, `pkcs11`, `aws-kms`. */
  kind: string;
  descriptor: RootDescriptor;
  state: RootGenerationState;
  /** The registry key wrapped by this generation's root (AAD binds generation, kind, descriptor); null once retired. */
  registryKey: Uint8Array | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The break-glass recovery key: public half only; the private half exists only as custodians' Shamir shares. */
export interface RootRecoveryRecord {
  /** Raw X25519 public key, 32 bytes. */
  publicKey: Uint8Array;
  threshold: number;
  shares: number;
  /** The escrow authentication key, wrapped by the ring (a ring blob; AAD binds the public key). */
  authKeyWrapped: Uint8Array;
  createdAt: Date;
}

export interface RootRegistryRecord {
  /** 0 when no registry was ever saved; +1 at every save. */
  revision: number;
  generations: RootGenerationRecord[];
  recovery: RootRecoveryRecord | null;
  /** HMAC-SHA256 of the canonical registry under the registry key; null only at revision 0. */
  mac: Uint8Array | null;
}

export const ROOT_MIGRATION_OPERATIONS = ['rotate', 'migrate', 'recover'] as const;
export type RootMigrationOperation = (typeof ROOT_MIGRATION_OPERATIONS)[number];

/** A re-wrap job (rotate-root, migrate-root, recover): resumable from its cursor. */
export interface RootMigrationRecord {
  id: string;
  operation: RootMigrationOperation;
  targetGeneration: number;
  targetKind: string;
  /** Generations whose blobs are moved; retired when the job is done. */
  fromGenerations: number[];
  state: 'running' | 'done';
  /** Bumped at every update (compare-and-swap). */
  revision: number;
  /** Opaque keyset cursor of the pass under way; null at the start of a pass. */
  cursor: string | null;
  /** Rows visited in the first pass. */
  done: number;
  /** Rows when the job started. */
  total: number;
  /** Rows that could not be moved (recover: blobs without an escrow). */
  skipped: number;
  lastError: string | null;
  startedAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

/** One wrapped key version, as the re-wrap pass sees it. */
export interface WrappedKeyVersion {
  keyId: string;
  version: number;
  wrapped: Uint8Array;
}

/** One wrapped access-key secret. */
export interface WrappedAccessKey {
  id: string;
  wrapped: Uint8Array;
}

/** One wrapped audit key (its AAD binds id, purpose and algorithm). */
export interface WrappedAuditKey {
  id: string;
  purpose: string;
  algorithm: string;
  wrapped: Uint8Array;
}

export interface RootRingStorage {
  getRootRegistry(): Promise<RootRegistryRecord>;
  /** Replaces the registry (generations and recovery) if its revision is still `expectedRevision`; false otherwise. */
  saveRootRegistry(next: RootRegistryRecord, expectedRevision: number): Promise<boolean>;

  /** The most recently started re-wrap job, if any. */
  latestRootMigration(): Promise<RootMigrationRecord | undefined>;
  /** AlreadyExistsError when the id is taken. */
  createRootMigration(record: RootMigrationRecord): Promise<void>;
  /** Writes `record` (whose revision is expectedRevision + 1) if the stored one is still at `expectedRevision`. */
  updateRootMigration(record: RootMigrationRecord, expectedRevision: number): Promise<boolean>;

  /** How many wrapped blobs exist: key versions, access-key secrets, audit keys and the WRAPPED_SECRET_TABLES rows. */
  countWrapped(): Promise<number>;
  /** Key versions ordered by (keyId, version), after `after` when given. */
  listWrappedKeyVersions(after: { keyId: string; version: number } | undefined, limit: number): Promise<WrappedKeyVersion[]>;
  /** Access keys ordered by id, after `after` when given. */
  listWrappedAccessKeys(after: string | undefined, limit: number): Promise<WrappedAccessKey[]>;
  /** Replaces the wrapped material of one version only if it is still `expected`; false otherwise. */
  replaceKeyVersionWrap(keyId: string, version: number, expected: Uint8Array, next: Uint8Array): Promise<boolean>;
  /** Replaces the wrapped secret of one access key only if it is still `expected`; false otherwise. */
  replaceAccessKeyWrap(id: string, expected: Uint8Array, next: Uint8Array): Promise<boolean>;
  /** Audit keys (migration 0007) ordered by id, after `after` when given. */
  listWrappedAuditKeys(after: string | undefined, limit: number): Promise<WrappedAuditKey[]>;
  /** Replaces the wrapped secret of one audit key only if it is still `expected`; false otherwise. */
  replaceAuditKeyWrap(id: string, expected: Uint8Array, next: Uint8Array): Promise<boolean>;
  /** Rows of `table` (one wrapped secret under a text id) ordered by id, after `after` when given. */
  listWrappedSecrets(table: WrappedSecretTable, after: string | undefined, limit: number): Promise<WrappedSecret[]>;
  /** Replaces the wrapped secret of one row of `table` only if it is still `expected`; false otherwise. */
  replaceSecretWrap(table: WrappedSecretTable, id: string, expected: Uint8Array, next: Uint8Array): Promise<boolean>;
}

/** The other tables whose rows hold one secret wrapped by the root under a text id: custom key stores' PINs, CA keys. */
export const WRAPPED_SECRET_TABLES = ['custom-key-store-pins', 'pki-ca-keys'] as const;
export type WrappedSecretTable = (typeof WRAPPED_SECRET_TABLES)[number];

export interface WrappedSecret {
  id: string;
  wrapped: Uint8Array;
}

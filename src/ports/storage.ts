import type { AuditSink } from './audit-sink.js';

export const KEY_STATES = ['Enabled', 'Disabled', 'PendingDeletion', 'PendingImport'] as const;
export type KeyState = (typeof KEY_STATES)[number];

export type RotationType = 'ORIGINAL' | 'AUTOMATIC' | 'ON_DEMAND';

/** A KMS key's metadata. Its material lives in KeyVersionRecords. */
export interface KeyRecord {
  /** Lower-case UUID v4. */
  id: string;
  createdAt: Date;
  description: string;
  keySpec: string;
  keyUsage: string;
  origin: string;
  state: KeyState;
  /**
   * Version used for new encryptions; versions 1..currentVersion all exist until the key is destroyed. 0 while a key
   * of origin EXTERNAL waits for its material (PendingImport).
   */
  currentVersion: number;
  /** Automatic rotation period; null when automatic rotation is off. */
  rotationPeriodDays: number | null;
  nextRotationAt: Date | null;
  /** Set while PendingDeletion. */
  deletionAt: Date | null;
  pendingWindowDays: number | null;
  tags: Record<string, string>;
  /**
   * The key policy document (JSON text, AWS policy name `default`), or null for the default key policy
   * (the account's principals, through their own permissions).
   */
  policy: string | null;
}

/** One version of a key's material, wrapped by the root of trust with AAD binding (key id, version). */
export interface KeyVersionRecord {
  keyId: string;
  version: number;
  /** 64 hex chars, AWS's KeyMaterialId. */
  materialId: string;
  wrapped: Uint8Array;
  createdAt: Date;
  rotationType: RotationType;
}

export interface AliasRecord {
  /** Full name including the `alias/` prefix. */
  name: string;
  keyId: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface Page<T> {
  items: T[];
  /** Opaque; present only when more items follow. */
  nextMarker?: string;
}

export interface PageRequest {
  limit: number;
  marker?: string;
}

export type KeyPatch = Partial<
  Pick<KeyRecord, 'description' | 'state' | 'rotationPeriodDays' | 'nextRotationAt' | 'deletionAt' | 'pendingWindowDays' | 'tags' | 'policy'>
>;

/** Grant constraints (AWS GrantConstraints): at most one of the two encryption-context maps. */
export interface GrantConstraints {
  encryptionContextSubset?: Record<string, string>;
  encryptionContextEquals?: Record<string, string>;
}

/** A grant on one key (AWS KMS grants). */
export interface GrantRecord {
  /** 64 lower-case hex chars. */
  id: string;
  keyId: string;
  /** Idempotency name (AWS `Name`), or null. */
  name: string | null;
  granteePrincipal: string;
  retiringPrincipal: string | null;
  /** AWS GrantOperation names, e.g. `Decrypt`. */
  operations: string[];
  constraints: GrantConstraints | null;
  /** ARN of the principal that created it. */
  issuedBy: string;
  createdAt: Date;
}

export interface PrincipalRecord {
  id: string;
  name: string;
  /** `arn:aws:iam::<account>:user/<name>` or `role/<name>`. */
  arn: string;
  roles: string[];
  disabled: boolean;
  createdAt: Date;
}

export interface TokenRecord {
  /** SHA-256 of the token, hex. The token itself is never stored. */
  hash: string;
  /** Public handle to list and revoke the token by. */
  accessor: string;
  principalId: string;
  createdAt: Date;
  expiresAt: Date | null;
}

export interface AccessKeyRecord {
  /** `AKIA...`-style id, 20 chars. */
  id: string;
  principalId: string;
  /** The secret access key wrapped by the root of trust (AAD binds the key id). */
  secretWrapped: Uint8Array;
  status: 'Active' | 'Inactive';
  createdAt: Date;
}

/**
 * The storage port: the few operations the core needs. Storage is untrusted for confidentiality
 * (material is wrapped) but trusted to apply each method atomically.
 * Errors: AlreadyExistsError on duplicate ids or alias names, InvalidMarkerError on a bad marker,
 * DependencyError when the database cannot be reached.
 */
export interface Storage extends AuditSink {
  readonly kind: 'sqlite' | 'postgres';

  /** Inserts a key with its first version in one transaction (no version for a PendingImport key, version 0). */
  createKey(key: KeyRecord, first: KeyVersionRecord | null): Promise<void>;
  /**
   * Imported material, atomically: inserts `version` (number 1) and makes the key Enabled with currentVersion 1, only
   * if the key is PendingImport with currentVersion 0. Returns false (and changes nothing) otherwise.
   */
  importMaterial(version: KeyVersionRecord): Promise<boolean>;
  /**
   * DeleteImportedKeyMaterial, atomically: deletes every version of an EXTERNAL key's material and sets it
   * PendingImport with currentVersion 0, only if it is Enabled or Disabled. Returns whether it happened.
   */
  deleteMaterial(keyId: string): Promise<boolean>;
  getKey(id: string): Promise<KeyRecord | undefined>;
  /** Keys ordered by id. */
  listKeys(page: PageRequest): Promise<Page<KeyRecord>>;
  /**
   * Applies `patch` only if the key exists and (when given) its state is one of `ifStates`.
   * Returns the updated key, or undefined when the key is missing or the condition failed.
   */
  updateKey(id: string, patch: KeyPatch, ifStates?: readonly KeyState[]): Promise<KeyRecord | undefined>;

  getVersion(keyId: string, version: number): Promise<KeyVersionRecord | undefined>;
  /** Versions of a key, oldest first. */
  listVersions(keyId: string): Promise<KeyVersionRecord[]>;
  /**
   * Rotation, atomically: inserts `version` (whose number must be expectedCurrent + 1), sets the key's
   * currentVersion to it and its nextRotationAt, only if currentVersion is still `expectedCurrent` and the
   * state is Enabled. Returns false (and changes nothing) otherwise.
   */
  addVersion(version: KeyVersionRecord, expectedCurrent: number, nextRotationAt: Date | null): Promise<boolean>;

  /** Enabled keys whose nextRotationAt <= now, oldest due first. */
  listKeysDueForRotation(now: Date, limit: number): Promise<KeyRecord[]>;
  /** PendingDeletion keys whose deletionAt <= now. */
  listKeysDueForDeletion(now: Date, limit: number): Promise<KeyRecord[]>;
  /**
   * Crypto-shredding: deletes the key, every version of its material, its aliases and grants in one transaction,
   * only if it is still PendingDeletion with deletionAt <= now. Returns whether it was destroyed.
   */
  destroyKey(id: string, now: Date): Promise<boolean>;

  /** AlreadyExistsError when the name is taken. */
  createAlias(alias: AliasRecord): Promise<void>;
  /** Repoints an existing alias; false when it does not exist. */
  updateAlias(name: string, keyId: string, now: Date): Promise<boolean>;
  /** False when it did not exist. */
  deleteAlias(name: string): Promise<boolean>;
  getAlias(name: string): Promise<AliasRecord | undefined>;
  /** Aliases ordered by name, optionally only those of one key. */
  listAliases(page: PageRequest & { keyId?: string }): Promise<Page<AliasRecord>>;

  /** AlreadyExistsError when the id is taken. */
  createGrant(grant: GrantRecord): Promise<void>;
  getGrant(keyId: string, grantId: string): Promise<GrantRecord | undefined>;
  /** The grant of `keyId` named `name` (names are unique per key), if any. */
  getGrantByName(keyId: string, name: string): Promise<GrantRecord | undefined>;
  /** Grants of one key ordered by id, optionally only those of one grantee. */
  listGrants(page: PageRequest & { keyId: string; granteePrincipal?: string }): Promise<Page<GrantRecord>>;
  /** Grants of any key that `retiringPrincipal` may retire, ordered by grant id. */
  listRetirableGrants(page: PageRequest & { retiringPrincipal: string }): Promise<Page<GrantRecord>>;
  /** Grants of `keyId` whose grantee is `granteePrincipal` (authorization; unpaged, at most `limit`). */
  grantsFor(keyId: string, granteePrincipal: string, limit: number): Promise<GrantRecord[]>;
  /** False when it did not exist. */
  deleteGrant(keyId: string, grantId: string): Promise<boolean>;

  createPrincipal(principal: PrincipalRecord): Promise<void>;
  getPrincipal(id: string): Promise<PrincipalRecord | undefined>;
  getPrincipalByName(name: string): Promise<PrincipalRecord | undefined>;
  createToken(token: TokenRecord): Promise<void>;
  getToken(hash: string): Promise<TokenRecord | undefined>;
  createAccessKey(key: AccessKeyRecord): Promise<void>;
  getAccessKey(id: string): Promise<AccessKeyRecord | undefined>;

  close(): Promise<void>;
}

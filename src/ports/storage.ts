import type { AuditArchiveStore, AuditChainStore } from './audit-chain-store.js';
import type { AuditSink } from './audit-sink.js';
import type { RootRingStorage } from './root-ring-storage.js';
import type { PkiStorage } from './pki-storage.js';
import type { CustomKeyStoreStorage } from './custom-key-store-storage.js';
import type { JobLeaseStore } from './job-lease-store.js';
import type { MetadataChangeStore } from './metadata-change-store.js';

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

export const PRINCIPAL_KINDS = ['user', 'service'] as const;
/** `user` (a person; ARN `user/<name>`) or `service` (a service account; ARN `role/<name>`). */
export type PrincipalKind = (typeof PRINCIPAL_KINDS)[number];

export interface PrincipalRecord {
  /** Lower-case UUID v4. */
  id: string;
  /** Unique; IAM user-name characters `[A-Za-z0-9+=,.@_-]`, 1-64. */
  name: string;
  kind: PrincipalKind;
  /** `arn:aws:iam::<account>:user/<name>` or `role/<name>`. */
  arn: string;
  /** Built-in role names (policy/built-in-roles.ts). */
  roles: string[];
  /** Names of attached managed policies (each exists in the policies table). */
  policies: string[];
  tags: Record<string, string>;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type PrincipalPatch = Partial<Pick<PrincipalRecord, 'roles' | 'policies' | 'tags' | 'disabled'>>;

export interface TokenRecord {
  /** SHA-256 of the token, hex. The token itself is never stored. */
  hash: string;
  /** Public handle to list and revoke the token by; unique. */
  accessor: string;
  principalId: string;
  createdAt: Date;
  expiresAt: Date | null;
}

export type AccessKeyStatus = 'Active' | 'Inactive';

export interface AccessKeyRecord {
  /** `DDAK...`-style id, 20 chars. */
  id: string;
  principalId: string;
  /** The secret access key wrapped by the root of trust (AAD binds the key id). */
  secretWrapped: Uint8Array;
  status: AccessKeyStatus;
  createdAt: Date;
  /** After this instant the key no longer authenticates; null for no expiry. */
  expiresAt: Date | null;
}

/** A customer-managed identity policy (IAM-style JSON document) that principals can have attached. */
export interface ManagedPolicyRecord {
  /** Unique; `[A-Za-z0-9+=,.@_-]`, 1-128. */
  name: string;
  description: string;
  /** The policy document, JSON text, at most 32 KB. */
  document: string;
  createdAt: Date;
  updatedAt: Date;
}

/** A client certificate (mTLS) mapped to a principal, by the SHA-256 fingerprint of its DER encoding. */
export interface ClientCertificateRecord {
  /** 64 lower-case hex chars. */
  fingerprint: string;
  principalId: string;
  /** Subject DN, for people reading lists. */
  subject: string;
  notAfter: Date;
  createdAt: Date;
}

export const APPROVAL_STATUSES = ['Pending', 'Approved', 'Rejected', 'Consumed'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** A dual-control approval request for one sensitive operation. */
export interface ApprovalRecord {
  /** Lower-case UUID v4. */
  id: string;
  /** The action requested, as authorized: an AWS operation (`ScheduleKeyDeletion`) or `datadefender:<Operation>`. */
  operation: string;
  /** The ARN the operation acts on, or null. */
  resource: string | null;
  /** SHA-256 hex of the canonical request; the approved operation runs only for an identical request. */
  requestDigest: string;
  /** Non-secret description of the request for the approver (no plaintext, material or secrets). */
  summary: Record<string, unknown>;
  requesterId: string;
  requesterArn: string;
  status: ApprovalStatus;
  approverId: string | null;
  approverArn: string | null;
  createdAt: Date;
  /** Pending and Approved requests lapse at this instant. */
  expiresAt: Date;
  decidedAt: Date | null;
  consumedAt: Date | null;
}

/** One key with its first version, for the bulk path. */
export interface KeyWithFirstVersion {
  key: KeyRecord;
  first: KeyVersionRecord;
}

/**
 * Bulk creation of keys (seeding a key population for benchmarks and load tests): the rows createKey writes, many per
 * statement. Not on any request path.
 */
export interface BulkKeyStore {
  /**
   * Inserts every key with its first version in one transaction, in multi-row INSERTs: all or nothing.
   * @throws ValidationError when a first version is not its key's current version; AlreadyExistsError when a key id
   *         exists already (in storage or twice in `entries`), and then nothing of this call is inserted.
   */
  insertKeys(entries: readonly KeyWithFirstVersion[]): Promise<void>;
}

/**
 * The storage port: the few operations the core needs. Storage is untrusted for confidentiality
 * (material is wrapped) but trusted to apply each method atomically.
 * Errors: AlreadyExistsError on duplicate ids or alias names, InvalidMarkerError on a bad marker,
 * DependencyError when the database cannot be reached.
 */
export interface Storage extends AuditSink, AuditChainStore, AuditArchiveStore, RootRingStorage, PkiStorage, CustomKeyStoreStorage<KeyRecord>, JobLeaseStore, MetadataChangeStore, BulkKeyStore {
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
  /**
   * Runs `work` with the flush that follows each destroyKey (SQLite: a WAL checkpoint that overwrites destroyed
   * material on disk) done once when `work` settles instead of after every key: for jobs destroying keys in batches.
   * The flush has run (if any key was destroyed) before this settles. Nested calls share the outermost flush.
   */
  batchDestroys<T>(work: () => Promise<T>): Promise<T>;

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

  /** AlreadyExistsError when the name (or id) is taken; NotFoundError when an attached policy does not exist. */
  createPrincipal(principal: PrincipalRecord): Promise<void>;
  getPrincipal(id: string): Promise<PrincipalRecord | undefined>;
  getPrincipalByName(name: string): Promise<PrincipalRecord | undefined>;
  /** Principals ordered by name. */
  listPrincipals(page: PageRequest): Promise<Page<PrincipalRecord>>;
  /**
   * Applies `patch` (replacing whole fields) and sets updatedAt = `now`; undefined when the principal does not exist.
   * NotFoundError when a policy named in `patch.policies` does not exist.
   */
  updatePrincipal(id: string, patch: PrincipalPatch, now: Date): Promise<PrincipalRecord | undefined>;
  /** Deletes the principal with its tokens, access keys and client certificates in one transaction. */
  deletePrincipal(id: string): Promise<boolean>;

  /** AlreadyExistsError when the hash or accessor is taken. */
  createToken(token: TokenRecord): Promise<void>;
  getToken(hash: string): Promise<TokenRecord | undefined>;
  getTokenByAccessor(accessor: string): Promise<TokenRecord | undefined>;
  /** Tokens of one principal, oldest first. */
  listTokens(principalId: string): Promise<TokenRecord[]>;
  /** False when it did not exist. */
  deleteToken(accessor: string): Promise<boolean>;

  /**
   * Inserts the key unless (when it is Active) the principal already has `maxActive` Active keys; the count and the
   * insert are one serialized step, so concurrent creations cannot exceed the limit. Returns false (and changes nothing)
   * at the limit. AlreadyExistsError when the id is taken.
   */
  createAccessKey(key: AccessKeyRecord, maxActive: number): Promise<boolean>;
  getAccessKey(id: string): Promise<AccessKeyRecord | undefined>;
  /** Access keys of one principal, oldest first. */
  listAccessKeys(principalId: string): Promise<AccessKeyRecord[]>;
  /** Sets the status; activating respects `maxActive` like createAccessKey. */
  setAccessKeyStatus(id: string, status: AccessKeyStatus, maxActive: number): Promise<'updated' | 'not-found' | 'limit'>;
  /** False when it did not exist. */
  deleteAccessKey(id: string): Promise<boolean>;

  /** AlreadyExistsError when the name is taken. */
  createPolicy(policy: ManagedPolicyRecord): Promise<void>;
  getPolicy(name: string): Promise<ManagedPolicyRecord | undefined>;
  /** Managed policies ordered by name. */
  listPolicies(page: PageRequest): Promise<Page<ManagedPolicyRecord>>;
  /** Replaces document and description, sets updatedAt; undefined when it does not exist. */
  updatePolicy(name: string, patch: Pick<ManagedPolicyRecord, 'document' | 'description'>, now: Date): Promise<ManagedPolicyRecord | undefined>;
  /** Deletes a policy no principal has attached. */
  deletePolicy(name: string): Promise<'deleted' | 'not-found' | 'attached'>;

  /** AlreadyExistsError when the fingerprint is mapped already. */
  createClientCertificate(certificate: ClientCertificateRecord): Promise<void>;
  getClientCertificate(fingerprint: string): Promise<ClientCertificateRecord | undefined>;
  /** Certificates of one principal, oldest first. */
  listClientCertificates(principalId: string): Promise<ClientCertificateRecord[]>;
  deleteClientCertificate(fingerprint: string): Promise<boolean>;

  createApproval(approval: ApprovalRecord): Promise<void>;
  getApproval(id: string): Promise<ApprovalRecord | undefined>;
  /** Approval requests ordered by (createdAt, id), optionally only those in one status. */
  listApprovals(page: PageRequest & { status?: ApprovalStatus }): Promise<Page<ApprovalRecord>>;
  /** The requests of one requester for one request digest (any status), oldest first. */
  findApprovals(requesterId: string, requestDigest: string): Promise<ApprovalRecord[]>;
  /**
   * Approves or rejects, only if the request is Pending and expiresAt > now; sets approver and decidedAt.
   * Returns the updated record, or undefined when the condition failed.
   */
  decideApproval(
    id: string,
    decision: 'Approved' | 'Rejected',
    approver: { id: string; arn: string },
    now: Date,
  ): Promise<ApprovalRecord | undefined>;
  /** Marks an Approved, unexpired request Consumed (once); false when the condition failed. */
  consumeApproval(id: string, now: Date): Promise<boolean>;

  close(): Promise<void>;
}

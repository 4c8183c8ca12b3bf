/**
 * What custom key stores (AWS CloudHSM key store model) need of storage: the stores and the link from each KMS key
 * to the store that holds its material.
 * Invariants: the token PIN is stored only wrapped by the root of trust (AAD binds the store id), never in clear;
 * store names and cluster ids are unique; updates are compare-and-swap on `revision`; a link may outlive its key
 * record (the key was destroyed but its token object not yet): such an orphan still counts as a key of the store,
 * so a store is never deleted while its token may hold KMS key material.
 */
export const CONNECTION_STATES = ['CONNECTED', 'CONNECTING', 'FAILED', 'DISCONNECTED', 'DISCONNECTING'] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

export interface CustomKeyStoreRecord {
  /** `cks-` and 17 hex digits. */
  id: string;
  /** Unique, 1-256 characters. */
  name: string;
  type: 'AWS_CLOUDHSM';
  /** The PKCS#11 token's label (AWS CloudHsmClusterId); unique among stores. */
  clusterId: string;
  /** PEM, as given at creation. */
  trustAnchorCertificate: string;
  /** The token's user PIN (AWS KeyStorePassword), wrapped by the root of trust. */
  pinWrapped: Uint8Array;
  connectionState: ConnectionState;
  /** AWS ConnectionErrorCode while FAILED, else null. */
  connectionErrorCode: string | null;
  /** 1 at creation, +1 at every update. */
  revision: number;
  createdAt: Date;
  updatedAt: Date;
}

export type CustomKeyStorePatch = Partial<Pick<CustomKeyStoreRecord, 'name' | 'clusterId' | 'pinWrapped' | 'connectionState' | 'connectionErrorCode'>>;

/** A KMS key whose material is an object in the store's token. */
export interface CustomKeyStoreKeyLink {
  keyId: string;
  storeId: string;
  createdAt: Date;
}

/** `K` is storage.ts's KeyRecord (a type parameter, so this port does not import storage.ts: no cycle). */
export interface CustomKeyStoreStorage<K> {
  /** AlreadyExistsError when the id, the name or the cluster id is taken. */
  createCustomKeyStore(store: CustomKeyStoreRecord): Promise<void>;
  getCustomKeyStore(id: string): Promise<CustomKeyStoreRecord | undefined>;
  getCustomKeyStoreByName(name: string): Promise<CustomKeyStoreRecord | undefined>;
  getCustomKeyStoreByClusterId(clusterId: string): Promise<CustomKeyStoreRecord | undefined>;
  /** Every store, ordered by (createdAt, id). */
  listCustomKeyStores(): Promise<CustomKeyStoreRecord[]>;
  /**
   * Applies `patch`, sets updatedAt and revision + 1, only if the revision is still `expectedRevision`.
   * Returns the updated record, or undefined when the store is missing or changed meanwhile.
   * AlreadyExistsError when the new name or cluster id is taken.
   */
  updateCustomKeyStore(id: string, patch: CustomKeyStorePatch, expectedRevision: number, now: Date): Promise<CustomKeyStoreRecord | undefined>;
  /** Deletes the store if it is at `expectedRevision` and no key (orphans included) links to it. */
  deleteCustomKeyStore(id: string, expectedRevision: number): Promise<'deleted' | 'not-found' | 'changed' | 'has-keys'>;

  /** Records that `link.keyId` will be an object in the store (before the object is made). */
  addCustomKeyStoreKey(link: CustomKeyStoreKeyLink): Promise<void>;
  /** Inserts a key whose material is in a store: no version row; its link must exist. */
  createCustomKeyStoreKey(key: K): Promise<void>;
  getCustomKeyStoreKey(keyId: string): Promise<CustomKeyStoreKeyLink | undefined>;
  /** Keys (orphans included) linked to the store. */
  countCustomKeyStoreKeys(storeId: string): Promise<number>;
  /** Links of the store created before `createdBefore` whose key record no longer exists, oldest first. */
  listOrphanedCustomKeyStoreKeys(storeId: string, createdBefore: Date, limit: number): Promise<CustomKeyStoreKeyLink[]>;
  /** Drops a link whose key record does not exist; false otherwise. */
  removeCustomKeyStoreKey(keyId: string): Promise<boolean>;
}

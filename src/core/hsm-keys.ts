/**
 * Keys whose material lives in a custom key store's HSM token (origin AWS_CLOUDHSM): this process's connections to
 * the stores, and the key operations that run inside the HSM.
 *
 * Invariants:
 * - a key in a store is an AES-256 token object labelled `datadefender/<key id>/1` with CKA_ID = key id bytes ||
 *   u32 version; its ciphertexts are crypto/ciphertext-blob v1, sealed by AES-GCM inside the HSM with the same
 *   header and associated data as every other key's, so Decrypt finds the key from the blob;
 * - the store's stored connection state decides: anything but CONNECTED makes its keys unavailable
 *   (`<ARN> is unavailable.`, AWS KMSInvalidStateException); each process opens its own connection lazily from the
 *   PIN (unwrapped by the root of trust just for the login) and drops it when the state or revision moved on;
 * - a login refused for its PIN turns the store FAILED (INVALID_CREDENTIALS / USER_LOCKED_OUT) and is not retried;
 * - creation links the key to the store before the object exists and inserts the key record after, so a crash leaves
 *   at most an orphan link that the deletion job's sweep resolves; destruction removes the key record first, then the
 *   object, then the link (a failure in between leaves an orphan, swept later): material is never left untracked.
 */
import { blobFromSealed, blobOpeningInput, blobSealingInput, type EncryptionContext } from '../crypto/index.js';
import { DependencyError, InvalidCiphertextError, InvalidStateError, KeyStoreInvalidStateError, KeyStoreNotFoundError } from '../errors/index.js';
import type { Clock } from '../ports/clock.js';
import type { ConnectionState, CustomKeyStoreRecord } from '../ports/custom-key-store-storage.js';
import type { KeyObjectRef, KeyStoreConnection, KeyStoreConnector, KeyStoreOpenResult } from '../ports/key-store.js';
import type { RootOfTrust } from '../ports/root-of-trust.js';
import type { KeyRecord, Storage } from '../ports/storage.js';

/** Where a key's material lives, for DescribeKey. */
export interface KeyStoreView {
  id: string;
  clusterId: string;
  connectionState: ConnectionState;
}

/** The one version of a key in a custom key store (no rotation, as AWS). */
export const HSM_KEY_VERSION = 1;
/** Orphan links younger than this belong to creations that may still be under way. */
const ORPHAN_AGE_MS = 10 * 60_000;
/** After a failed lazy connection, requests fail fast for this long before the next attempt. */
const RETRY_MS = 1_000;

/** The AAD that binds a store's wrapped PIN to the store. */
export const pinAad = (storeId: string): Buffer => Buffer.from(`datadefender/custom-key-store-pin/v1/${storeId}`, 'utf8');

/** The token object of (keyId, version). */
export function keyObjectRef(keyId: string, version = HSM_KEY_VERSION): KeyObjectRef {
  const id = Buffer.alloc(20);
  id.write(keyId.replace(/-/g, ''), 0, 16, 'hex');
  id.writeUInt32BE(version, 16);
  return { label: `datadefender/${keyId}/${version}`, id };
}

interface Live {
  revision: number;
  opening: Promise<KeyStoreOpenResult>;
  failedAt?: number;
}

export function createHsmKeys(deps: { storage: Storage; root: RootOfTrust; clock: Clock; connector: KeyStoreConnector | undefined }) {
  const { storage, root, clock, connector } = deps;
  const live = new Map<string, Live>();

  const closeLive = async (storeId: string): Promise<void> => {
    const entry = live.get(storeId);
    live.delete(storeId);
    const result = await entry?.opening.catch(() => undefined);
    if (result?.ok) await result.connection.close();
  };

  /** Logs in to the store's token with its PIN (unwrapped for this call only). */
  const open = async (store: CustomKeyStoreRecord): Promise<KeyStoreOpenResult> => {
    if (!connector) return { ok: false, error: 'INTERNAL_ERROR' };
    const pin = await root.unwrap(store.pinWrapped, pinAad(store.id));
    try {
      return await connector.open(store.clusterId, pin);
    } finally {
      pin.destroy();
    }
  };

  /** This process's connection to a CONNECTED store, opened on first use. */
  const connectionOf = async (store: CustomKeyStoreRecord): Promise<KeyStoreConnection> => {
    let entry = live.get(store.id);
    if (entry && entry.revision !== store.revision) {
      await closeLive(store.id);
      entry = undefined;
    }
    if (entry?.failedAt !== undefined && clock.now().getTime() - entry.failedAt >= RETRY_MS) {
      live.delete(store.id);
      entry = undefined;
    }
    if (!entry) {
      entry = { revision: store.revision, opening: open(store) };
      live.set(store.id, entry);
    }
    const result = await entry.opening;
    if (result.ok) return result.connection;
    entry.failedAt ??= clock.now().getTime();
    if (result.error === 'INVALID_CREDENTIALS' || result.error === 'USER_LOCKED_OUT') {
      await storage.updateCustomKeyStore(store.id, { connectionState: 'FAILED', connectionErrorCode: result.error }, store.revision, clock.now());
      live.delete(store.id);
    }
    throw new DependencyError(`The custom key store ${store.id} cannot connect to its HSM: ${result.error}.`);
  };

  /** The store holding `key`, and whether it can serve. */
  const storeOf = async (key: KeyRecord): Promise<CustomKeyStoreRecord> => {
    const link = await storage.getCustomKeyStoreKey(key.id);
    const store = link && (await storage.getCustomKeyStore(link.storeId));
    if (!store) throw new DependencyError('The custom key store of this KMS key does not exist.');
    return store;
  };

  /** The store's connection, or the AWS error of an unavailable key. */
  const usable = async (key: KeyRecord, arn: string): Promise<KeyStoreConnection> => {
    const store = await storeOf(key);
    if (store.connectionState !== 'CONNECTED') {
      void closeLive(store.id).catch(() => undefined);
      throw new InvalidStateError(`${arn} is unavailable.`);
    }
    return connectionOf(store);
  };

  /** After the key record is destroyed: destroys the token object and drops the link. False leaves an orphan. */
  const destroyObject = async (keyId: string): Promise<boolean> => {
    const link = await storage.getCustomKeyStoreKey(keyId);
    const store = link && (await storage.getCustomKeyStore(link.storeId));
    if (!store || store.connectionState !== 'CONNECTED') return false;
    try {
      await (await connectionOf(store)).destroyKey(keyObjectRef(keyId));
      return await storage.removeCustomKeyStoreKey(keyId);
    } catch {
      return false;
    }
  };

  return {
    /** For DescribeKey: the store's id, cluster id and connection state. */
    async describe(key: KeyRecord): Promise<KeyStoreView | undefined> {
      if (key.origin !== 'AWS_CLOUDHSM') return undefined;
      const store = await storeOf(key);
      return { id: store.id, clusterId: store.clusterId, connectionState: store.connectionState };
    },

    /** Encrypts under the key's token object: a v1 blob. @throws InvalidStateError (unavailable), DependencyError */
    async seal(key: KeyRecord, arn: string, plaintext: Uint8Array, ec: EncryptionContext | undefined): Promise<Buffer> {
      const { head, aad } = blobSealingInput({ keyId: key.id, version: HSM_KEY_VERSION }, ec);
      const connection = await usable(key, arn);
      const { iv, sealed } = await connection.encrypt(keyObjectRef(key.id), plaintext, aad);
      return blobFromSealed(head, iv, sealed);
    },

    /** Decrypts a v1 blob of the key inside the HSM. @throws InvalidCiphertextError, InvalidStateError, DependencyError */
    async open(key: KeyRecord, arn: string, blob: Uint8Array, ec: EncryptionContext | undefined): Promise<Buffer> {
      const { header, iv, sealed, aad } = blobOpeningInput(blob, ec);
      if (header.keyId !== key.id || header.version !== HSM_KEY_VERSION) throw new InvalidCiphertextError();
      const connection = await usable(key, arn);
      return connection.decrypt(keyObjectRef(key.id), iv, sealed, aad);
    },

    /**
     * Makes the token object of `key` (origin AWS_CLOUDHSM, version 1) in the store and records the key.
     * @throws KeyStoreNotFoundError, KeyStoreInvalidStateError (not CONNECTED), DependencyError
     */
    async createKey(storeId: string, key: KeyRecord): Promise<KeyStoreView> {
      const store = await storage.getCustomKeyStore(storeId);
      if (!store) throw new KeyStoreNotFoundError(`Custom key store ${storeId} does not exist.`);
      if (store.connectionState !== 'CONNECTED') {
        throw new KeyStoreInvalidStateError(`Custom key store ${storeId} is ${store.connectionState}; CreateKey is valid only when it is CONNECTED.`);
      }
      const connection = await connectionOf(store);
      await storage.addCustomKeyStoreKey({ keyId: key.id, storeId, createdAt: key.createdAt });
      const ref = keyObjectRef(key.id);
      let made = false;
      try {
        await connection.createKey(ref);
        made = true;
        await storage.createCustomKeyStoreKey(key);
      } catch (err) {
        // Best effort: a crash here leaves an orphan link, which the deletion job's sweep resolves.
        if (made) await connection.destroyKey(ref).catch(() => false);
        await storage.removeCustomKeyStoreKey(key.id).catch(() => false);
        throw err;
      }
      return { id: store.id, clusterId: store.clusterId, connectionState: store.connectionState };
    },

    /** Whether the deletion job may destroy `key` now: its store is CONNECTED and answers. */
    async canDestroy(key: KeyRecord): Promise<boolean> {
      const store = await storeOf(key).catch(() => undefined);
      if (!store || store.connectionState !== 'CONNECTED') return false;
      try {
        return (await (await connectionOf(store)).health()) === 'ok';
      } catch {
        return false;
      }
    },

    destroyObject,

    /** Destroys the objects of orphan links (key records gone) in CONNECTED stores; returns how many. */
    async sweepOrphans(limit: number): Promise<{ swept: number; failed: number }> {
      let swept = 0;
      let failed = 0;
      const before = new Date(clock.now().getTime() - ORPHAN_AGE_MS);
      for (const store of await storage.listCustomKeyStores()) {
        if (store.connectionState !== 'CONNECTED') continue;
        const orphans = await storage.listOrphanedCustomKeyStoreKeys(store.id, before, limit);
        for (const orphan of orphans) {
          if (await destroyObject(orphan.keyId)) swept++;
          else failed++;
        }
      }
      return { swept, failed };
    },

    /** A fresh connection for ConnectCustomKeyStore (any connection this process held is closed first). */
    async connect(store: CustomKeyStoreRecord): Promise<KeyStoreOpenResult> {
      await closeLive(store.id);
      return open(store);
    },

    /** Keeps `connection` as this process's connection to `store` (at its current revision). */
    adopt(store: CustomKeyStoreRecord, connection: KeyStoreConnection): void {
      live.set(store.id, { revision: store.revision, opening: Promise.resolve({ ok: true, connection }) });
    },

    /** Closes this process's connection to the store, if any. */
    disconnect: closeLive,

    /** Random bytes from the store's HSM. @throws KeyStoreNotFoundError, KeyStoreInvalidStateError, DependencyError */
    async generateRandom(storeId: string, bytes: number): Promise<Buffer> {
      const store = await storage.getCustomKeyStore(storeId);
      if (!store) throw new KeyStoreNotFoundError(`Custom key store ${storeId} does not exist.`);
      if (store.connectionState !== 'CONNECTED') {
        throw new KeyStoreInvalidStateError(`Custom key store ${storeId} is ${store.connectionState}; GenerateRandom is valid only when it is CONNECTED.`);
      }
      return (await connectionOf(store)).generateRandom(bytes);
    },

    /** Whether a connector (a PKCS#11 module) is configured. */
    get available(): boolean {
      return connector !== undefined;
    },
    connector,

    /** Closes every connection of this process (server shutdown). */
    async closeAll(): Promise<void> {
      await Promise.all([...live.keys()].map((id) => closeLive(id)));
    },
  };
}

export type HsmKeys = ReturnType<typeof createHsmKeys>;

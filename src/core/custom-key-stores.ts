/**
 * Custom key store use cases (AWS CloudHSM key store model over PKCS#11 tokens): CreateCustomKeyStore,
 * DescribeCustomKeyStores, ConnectCustomKeyStore, DisconnectCustomKeyStore, UpdateCustomKeyStore,
 * DeleteCustomKeyStore, and GenerateRandom from a store's HSM.
 * AWS rules kept (CustomKeyStoreInvalidStateException): Connect is refused while DISCONNECTING or FAILED (a FAILED
 * store is disconnected first) and is a no-op when CONNECTED; Disconnect is refused while DISCONNECTED or
 * DISCONNECTING; Update changes only the name of a CONNECTED store, everything else needs DISCONNECTED; Delete needs
 * DISCONNECTED and no KMS key in the store (CustomKeyStoreHasCMKsException, keys pending deletion included).
 * Connecting logs in at once: the outcome (CONNECTED, or FAILED with its ConnectionErrorCode) is in the store when
 * Connect returns.
 * Invariants: the KeyStorePassword (token PIN) is wrapped by the root of trust at once (AAD binds the store id),
 * never stored, logged, audited or returned in clear; every operation is audited through `run`; account-level
 * actions (`kms:CreateCustomKeyStore`, ...), as AWS authorizes them with IAM policies.
 */
import { SecretBytes, isPemCertificate, randomBytes } from '../crypto/index.js';
import {
  ConflictError,
  HsmClusterInUseError,
  HsmClusterNotFoundError,
  IncorrectTrustAnchorError,
  KeyStoreHasKeysError,
  KeyStoreInvalidStateError,
  KeyStoreNameInUseError,
  KeyStoreNotFoundError,
  LimitExceededError,
  UnsupportedError,
  ValidationError,
} from '../errors/index.js';
import type { ConnectionState, CustomKeyStorePatch, CustomKeyStoreRecord } from '../ports/custom-key-store-storage.js';
import type { Storage } from '../ports/storage.js';
import type { RootOfTrust } from '../ports/root-of-trust.js';
import type { Clock } from '../ports/clock.js';
import type { RunOperation } from './audited-operation.js';
import { pinAad, type HsmKeys } from './hsm-keys.js';
import { LIMITS, checkInteger } from './limits.js';
import type { RequestContext } from './request-context.js';

/** A custom key store as the core returns it (never the PIN). */
export interface CustomKeyStoreDescription {
  id: string;
  name: string;
  type: 'AWS_CLOUDHSM';
  clusterId: string;
  trustAnchorCertificate: string;
  connectionState: ConnectionState;
  connectionErrorCode: string | null;
  createdAt: Date;
}

/** AWS quota: custom key stores per account and Region. */
export const MAX_CUSTOM_KEY_STORES = 10;
const TOKEN_LABEL_BYTES = 32;

const describe = (s: CustomKeyStoreRecord): CustomKeyStoreDescription => ({
  id: s.id,
  name: s.name,
  type: s.type,
  clusterId: s.clusterId,
  trustAnchorCertificate: s.trustAnchorCertificate,
  connectionState: s.connectionState,
  connectionErrorCode: s.connectionState === 'FAILED' ? s.connectionErrorCode : null,
  createdAt: s.createdAt,
});

function checkName(name: string): string {
  if (typeof name !== 'string' || name.length < 1 || name.length > 256) throw new ValidationError('CustomKeyStoreName must be 1 to 256 characters.');
  return name;
}

/** The token label: 1-32 bytes (CK_TOKEN_INFO.label), no trailing blanks. AWS cluster ids (`cluster-...`) fit. */
function checkClusterId(id: string): string {
  if (typeof id !== 'string' || id.length === 0 || Buffer.byteLength(id) > TOKEN_LABEL_BYTES || id !== id.trimEnd()) {
    throw new ValidationError(`CloudHsmClusterId must name a PKCS#11 token: a label of 1 to ${TOKEN_LABEL_BYTES} bytes without trailing blanks.`);
  }
  return id;
}

function checkPassword(password: string): string {
  if (typeof password !== 'string' || password.length < 1 || Buffer.byteLength(password) > 255) {
    throw new ValidationError('KeyStorePassword must be 1 to 255 bytes.');
  }
  return password;
}

export function createCustomKeyStores(deps: { storage: Storage; root: RootOfTrust; clock: Clock; run: RunOperation; hsmKeys: HsmKeys }) {
  const { storage, root, clock, run, hsmKeys } = deps;

  const requireConnector = () => {
    if (!hsmKeys.connector) {
      throw new UnsupportedError('Custom key stores need a PKCS#11 module: set pkcs11Module (DATADEFENDER_PKCS11_MODULE) in the server configuration.');
    }
    return hsmKeys.connector;
  };

  const get = async (id: string): Promise<CustomKeyStoreRecord> => {
    const store = typeof id === 'string' ? await storage.getCustomKeyStore(id) : undefined;
    if (!store) throw new KeyStoreNotFoundError(`Custom key store ${String(id).slice(0, 64)} does not exist.`);
    return store;
  };

  const wrapPin = async (storeId: string, password: string): Promise<Uint8Array> => {
    const pin = SecretBytes.copyOf(Buffer.from(checkPassword(password), 'utf8'));
    try {
      return await root.wrap(pin, pinAad(storeId));
    } finally {
      pin.destroy();
    }
  };

  /** CloudHsmClusterNotFound / InUse checks for a token label a store is to use. */
  const checkCluster = async (clusterId: string, storeId: string | null): Promise<void> => {
    const user = await storage.getCustomKeyStoreByClusterId(clusterId);
    if (user && user.id !== storeId) throw new HsmClusterInUseError(`The cluster ${clusterId} is already associated with custom key store ${user.id}.`);
    if (!(await requireConnector().exists(clusterId))) throw new HsmClusterNotFoundError(`No HSM token labelled ${clusterId} is present.`);
  };

  const checkNameFree = async (name: string, storeId: string | null): Promise<void> => {
    const holder = await storage.getCustomKeyStoreByName(name);
    if (holder && holder.id !== storeId) throw new KeyStoreNameInUseError(`A custom key store named ${name} already exists.`);
  };

  const update = async (store: CustomKeyStoreRecord, patch: CustomKeyStorePatch): Promise<CustomKeyStoreRecord> => {
    const next = await storage.updateCustomKeyStore(store.id, patch, store.revision, clock.now());
    if (!next) throw new ConflictError(`Custom key store ${store.id} changed during the request; retry.`);
    return next;
  };

  const invalidState = (store: CustomKeyStoreRecord, operation: string, valid: string) =>
    new KeyStoreInvalidStateError(`Custom key store ${store.id} is ${store.connectionState}; ${operation} is valid only when it is ${valid}.`);

  return {
    /**
     * @throws ValidationError, UnsupportedError (XKS, or no PKCS#11 module), KeyStoreNameInUseError,
     * HsmClusterInUseError, HsmClusterNotFoundError, IncorrectTrustAnchorError, LimitExceededError
     */
    create(
      ctx: RequestContext,
      input: { name: string; clusterId: string; trustAnchorCertificate: string; keyStorePassword: string; type?: string },
    ): Promise<CustomKeyStoreDescription> {
      return run(ctx, 'CreateCustomKeyStore', { readOnly: false }, async (op) => {
        await op.authorize(null);
        const type = input.type ?? 'AWS_CLOUDHSM';
        if (type !== 'AWS_CLOUDHSM') throw new UnsupportedError('Only AWS_CLOUDHSM custom key stores (PKCS#11 tokens) are supported.');
        const name = checkName(input.name);
        const clusterId = checkClusterId(input.clusterId);
        Object.assign(op.details, { customKeyStoreName: name, cloudHsmClusterId: clusterId });
        if (!isPemCertificate(input.trustAnchorCertificate)) {
          throw new IncorrectTrustAnchorError('The TrustAnchorCertificate is not a PEM-encoded X.509 certificate.');
        }
        checkPassword(input.keyStorePassword);
        await checkNameFree(name, null);
        if ((await storage.listCustomKeyStores()).length >= MAX_CUSTOM_KEY_STORES) {
          throw new LimitExceededError(`An account can have at most ${MAX_CUSTOM_KEY_STORES} custom key stores.`);
        }
        await checkCluster(clusterId, null);
        const id = `cks-${randomBytes(9).toString('hex').slice(0, 17)}`;
        op.details.customKeyStoreId = id;
        await op.beforeChange();
        const now = clock.now();
        const store: CustomKeyStoreRecord = {
          id,
          name,
          type: 'AWS_CLOUDHSM',
          clusterId,
          trustAnchorCertificate: input.trustAnchorCertificate,
          pinWrapped: await wrapPin(id, input.keyStorePassword),
          connectionState: 'DISCONNECTED',
          connectionErrorCode: null,
          revision: 1,
          createdAt: now,
          updatedAt: now,
        };
        try {
          await storage.createCustomKeyStore(store);
        } catch (err) {
          // A concurrent creation took the name or the cluster: answer as the checks would have.
          await checkNameFree(name, null);
          await checkCluster(clusterId, null);
          throw err;
        }
        return describe(store);
      });
    },

    /** All stores, or the one named by id or name. @throws KeyStoreNotFoundError, ValidationError */
    describe(ctx: RequestContext, filter: { id?: string; name?: string } = {}): Promise<CustomKeyStoreDescription[]> {
      return run(ctx, 'DescribeCustomKeyStores', { readOnly: true }, async (op) => {
        await op.authorize(null);
        if (filter.id !== undefined && filter.name !== undefined) throw new ValidationError('Specify CustomKeyStoreId or CustomKeyStoreName, not both.');
        if (filter.id !== undefined) return [describe(await get(filter.id))];
        if (filter.name !== undefined) {
          const store = await storage.getCustomKeyStoreByName(filter.name);
          if (!store) throw new KeyStoreNotFoundError(`Custom key store ${filter.name.slice(0, 256)} does not exist.`);
          return [describe(store)];
        }
        return (await storage.listCustomKeyStores()).map(describe);
      });
    },

    /** Logs in to the token: CONNECTED, or FAILED with the ConnectionErrorCode. @throws KeyStoreNotFoundError, KeyStoreInvalidStateError */
    connect(ctx: RequestContext, id: string): Promise<CustomKeyStoreDescription> {
      return run(ctx, 'ConnectCustomKeyStore', { readOnly: false }, async (op) => {
        await op.authorize(null);
        requireConnector();
        const store = await get(id);
        op.details.customKeyStoreId = store.id;
        if (store.connectionState === 'DISCONNECTING' || store.connectionState === 'FAILED') {
          throw invalidState(store, 'ConnectCustomKeyStore', 'DISCONNECTED, CONNECTING or CONNECTED (disconnect a FAILED store first)');
        }
        if (store.connectionState === 'CONNECTED') return describe(store);
        await op.beforeChange();
        const connecting = await update(store, { connectionState: 'CONNECTING', connectionErrorCode: null });
        const result = await hsmKeys.connect(connecting);
        const next = await storage.updateCustomKeyStore(
          store.id,
          result.ok ? { connectionState: 'CONNECTED', connectionErrorCode: null } : { connectionState: 'FAILED', connectionErrorCode: result.error },
          connecting.revision,
          clock.now(),
        );
        if (!next) {
          if (result.ok) await result.connection.close();
          throw new ConflictError(`Custom key store ${store.id} changed while it was connecting; retry.`);
        }
        if (result.ok) hsmKeys.adopt(next, result.connection);
        Object.assign(op.details, { connectionState: next.connectionState, connectionErrorCode: next.connectionErrorCode });
        return describe(next);
      });
    },

    /** @throws KeyStoreNotFoundError, KeyStoreInvalidStateError */
    disconnect(ctx: RequestContext, id: string): Promise<CustomKeyStoreDescription> {
      return run(ctx, 'DisconnectCustomKeyStore', { readOnly: false }, async (op) => {
        await op.authorize(null);
        const store = await get(id);
        op.details.customKeyStoreId = store.id;
        if (store.connectionState === 'DISCONNECTED' || store.connectionState === 'DISCONNECTING') {
          throw invalidState(store, 'DisconnectCustomKeyStore', 'CONNECTED, CONNECTING or FAILED');
        }
        await op.beforeChange();
        const next = await update(store, { connectionState: 'DISCONNECTED', connectionErrorCode: null });
        await hsmKeys.disconnect(store.id);
        return describe(next);
      });
    },

    /**
     * @throws KeyStoreNotFoundError, KeyStoreInvalidStateError, KeyStoreNameInUseError, HsmClusterNotFoundError,
     * HsmClusterInUseError, ValidationError
     */
    update(ctx: RequestContext, input: { id: string; newName?: string; keyStorePassword?: string; clusterId?: string }): Promise<CustomKeyStoreDescription> {
      return run(ctx, 'UpdateCustomKeyStore', { readOnly: false }, async (op) => {
        await op.authorize(null);
        const store = await get(input.id);
        op.details.customKeyStoreId = store.id;
        const patch: CustomKeyStorePatch = {};
        const onlyName = input.keyStorePassword === undefined && input.clusterId === undefined;
        if (onlyName ? store.connectionState !== 'CONNECTED' && store.connectionState !== 'DISCONNECTED' : store.connectionState !== 'DISCONNECTED') {
          throw invalidState(store, 'UpdateCustomKeyStore', onlyName ? 'CONNECTED or DISCONNECTED' : 'DISCONNECTED (a CONNECTED store can change only its name)');
        }
        if (input.newName !== undefined) {
          patch.name = checkName(input.newName);
          await checkNameFree(patch.name, store.id);
          op.details.customKeyStoreName = patch.name;
        }
        if (input.clusterId !== undefined && input.clusterId !== store.clusterId) {
          patch.clusterId = checkClusterId(input.clusterId);
          await checkCluster(patch.clusterId, store.id);
          op.details.cloudHsmClusterId = patch.clusterId;
        }
        if (input.keyStorePassword !== undefined) {
          checkPassword(input.keyStorePassword);
          op.details.keyStorePasswordChanged = true;
        }
        await op.beforeChange();
        if (input.keyStorePassword !== undefined) patch.pinWrapped = await wrapPin(store.id, input.keyStorePassword);
        return describe(await update(store, patch));
      });
    },

    /** @throws KeyStoreNotFoundError, KeyStoreInvalidStateError, KeyStoreHasKeysError */
    delete(ctx: RequestContext, id: string): Promise<void> {
      return run(ctx, 'DeleteCustomKeyStore', { readOnly: false }, async (op) => {
        await op.authorize(null);
        const store = await get(id);
        op.details.customKeyStoreId = store.id;
        if (store.connectionState !== 'DISCONNECTED') throw invalidState(store, 'DeleteCustomKeyStore', 'DISCONNECTED');
        const keys = await storage.countCustomKeyStoreKeys(store.id);
        if (keys > 0) throw new KeyStoreHasKeysError(`Custom key store ${store.id} holds ${keys} KMS key(s); delete them (and wait for their deletion) first.`);
        await op.beforeChange();
        const outcome = await storage.deleteCustomKeyStore(store.id, store.revision);
        if (outcome === 'has-keys') throw new KeyStoreHasKeysError(`Custom key store ${store.id} holds KMS keys.`);
        if (outcome === 'not-found') throw new KeyStoreNotFoundError(`Custom key store ${store.id} does not exist.`);
        if (outcome === 'changed') throw new ConflictError(`Custom key store ${store.id} changed during the request; retry.`);
      });
    },

    /** GenerateRandom with a CustomKeyStoreId: bytes from the store's HSM. */
    generateRandom(ctx: RequestContext, id: string, numberOfBytes: number): Promise<Buffer> {
      return run(ctx, 'GenerateRandom', { readOnly: true }, async (op) => {
        await op.authorize(null);
        Object.assign(op.details, { numberOfBytes, customKeyStoreId: id });
        return hsmKeys.generateRandom((await get(id)).id, checkInteger('NumberOfBytes', numberOfBytes, LIMITS.randomBytes));
      });
    },

    /** Closes this process's HSM connections (server shutdown). */
    closeConnections: () => hsmKeys.closeAll(),
  };
}

export type CustomKeyStores = ReturnType<typeof createCustomKeyStores>;

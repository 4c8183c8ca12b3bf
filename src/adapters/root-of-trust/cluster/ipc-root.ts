// A worker's side: a local-sealed root whose every operation is served by the primary process (root-server.ts),
// root keys added by rotate-root included (rootKeyView, addRootKey), so generations and rotate-root work in workers.
// Invariants: status() answers at once from the last status the primary sent, and reads sealed until the first one
// arrives (fail closed); a status that turns sealed calls the onSealed listeners (the worker forgets its cached key
// versions at once); errors come back as the same error classes the adapters throw, with their messages; plaintext
// sent to be wrapped or received unwrapped exists as a Buffer only until it is encoded or adopted.
import { SecretBytes } from '../../../crypto/index.js';
import {
  ConflictError,
  DataDefenderError,
  DependencyError,
  InvalidCiphertextError,
  NotFoundError,
  SealedError,
  UnsupportedError,
  ValidationError,
  type ErrorCode,
} from '../../../errors/index.js';
import type { RootOfTrust, SealStatus } from '../../../ports/root-of-trust.js';
import type { LocalSealedRoot } from '../local-sealed/index.js';
import { type RootChannel, type RootOperation, isRootReply, isRootStatus } from './root-messages.js';

const ERRORS: Partial<Record<string, (message: string) => DataDefenderError>> = {
  ERR_VALIDATION: (m) => new ValidationError(m),
  ERR_CONFLICT: (m) => new ConflictError(m),
  ERR_SEALED: (m) => new SealedError(m),
  ERR_DEPENDENCY: (m) => new DependencyError(m),
  ERR_NOT_FOUND: (m) => new NotFoundError(m),
  ERR_UNSUPPORTED: (m) => new UnsupportedError(m),
  ERR_INVALID_CIPHERTEXT: () => new InvalidCiphertextError(),
};

const SEALED_UNTIL_TOLD: SealStatus = Object.freeze({ sealed: true, threshold: 0, shares: 0, progress: 0, nonce: null });
const b64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

export type IpcRoot = LocalSealedRoot & {
  /** Called when the primary reports the root sealed (by any worker's request or the operator's). */
  onSealed(listener: () => void): void;
};

/** The primary's local-sealed root, reached over `channel`. */
export function connectIpcRoot(channel: RootChannel): IpcRoot {
  let status: SealStatus = SEALED_UNTIL_TOLD;
  let sealId = '';
  let rootKeys: readonly number[] = [1];
  let nextId = 1;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  const sealedListeners: Array<() => void> = [];

  channel.onMessage((message) => {
    if (isRootStatus(message)) {
      const wasSealed = status.sealed;
      status = Object.freeze({ ...message.status });
      sealId = message.sealId;
      rootKeys = Object.freeze([...message.rootKeys]);
      if (status.sealed && !wasSealed) for (const listener of sealedListeners) listener();
    } else if (isRootReply(message)) {
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.ok) waiter.resolve(message.value);
      else waiter.reject((ERRORS[message.code] ?? ((m: string) => new DataDefenderError(message.code as ErrorCode, m)))(message.message));
    }
  });

  const call = (op: RootOperation, args: unknown[]) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      channel.send({ dd: 'root-request', id, op, args });
    });

  /** Root key `n`, or key 1 when `n` is undefined; the primary refuses a key the seal file does not have. */
  const keyView = (n?: number): RootOfTrust => ({
    kind: 'local-sealed',
    wrap: async (plaintext, aad) => Buffer.from(String(await call('wrap', [b64(plaintext.reveal()), b64(aad), n])), 'base64'),
    unwrap: async (wrapped, aad) => SecretBytes.adopt(Buffer.from(String(await call('unwrap', [b64(wrapped), b64(aad), n])), 'base64')),
  });
  const rootKey1 = keyView();

  return {
    kind: 'local-sealed',
    get sealId() {
      return sealId;
    },
    get rootKeys() {
      return rootKeys;
    },
    status: () => status,
    wrap: rootKey1.wrap,
    unwrap: rootKey1.unwrap,
    rootKeyView: (n) => keyView(n),
    addRootKey: async () => Number(await call('addRootKey', [])),
    submitShare: async (share, nonce) => (await call('submitShare', [share, nonce ?? null])) as SealStatus,
    resetUnseal: async () => (await call('resetUnseal', [])) as SealStatus,
    seal: async () => {
      // This worker stops at once; the primary's status then stops every other worker.
      const wasSealed = status.sealed;
      status = Object.freeze({ ...status, sealed: true, progress: 0, nonce: null });
      if (!wasSealed) for (const listener of sealedListeners) listener();
      await call('seal', []);
    },
    rekey: async (shares, options) => (await call('rekey', [shares, options])) as string[],
    onSealed: (listener) => void sealedListeners.push(listener),
  };
}

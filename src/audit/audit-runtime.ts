/**
 * The audit trail of one server process, assembled: the keyring (signing and HMAC keys under the root of trust),
 * this process's chain and fail-closed log, the checkpointer and the streaming followers.
 * Invariants: one chain per process (several processes or nodes on one database write several chains); the HMAC key
 * is loaded before the first request when the root is unsealed, and on first use after an unseal (until then
 * sensitive values are dropped, never written); followers and checkpoints run after durability, off the request
 * path; `close` writes a final checkpoint of the durable head before the store closes.
 */
import type { AuditChainStore } from '../ports/audit-chain-store.js';
import type { AuditSink } from '../ports/audit-sink.js';
import type { Clock } from '../ports/clock.js';
import type { RootOfTrust } from '../ports/root-of-trust.js';
import type { SigningKeyStore } from '../ports/signing-key-store.js';
import { createAuditChain, type AuditChain } from './audit-chain.js';
import { createAuditKeyring, type AuditKeyring } from './audit-keys.js';
import { createAuditLog, type AuditLog } from './audit-log.js';
import { startCheckpointer, type Checkpointer } from './checkpoints.js';
import type { StreamSink } from './stream-sinks.js';

export interface AuditRuntime {
  log: AuditLog;
  keyring: AuditKeyring;
  checkpointer: Checkpointer;
  /** The current chain's id (changes after an append of unknown outcome). */
  chainId(): string;
  /** Loads the audit keys unless the root is sealed; failures are reported, not thrown. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function startAuditRuntime(deps: {
  store: AuditSink & AuditChainStore;
  root: RootOfTrust;
  /** With an HSM root (pkcs11): the checkpoint-signing key is generated and used inside it. */
  signingKeys?: SigningKeyStore;
  clock: Clock;
  sealed: () => boolean;
  checkpointEvents: number;
  checkpointSeconds: number;
  streams?: readonly StreamSink[];
  timeoutMs?: number;
  /** A sink or a key or checkpoint failure, for the operator log (never for clients). */
  onError?: (err: unknown, what: string) => void;
}): AuditRuntime {
  const { store, root, clock, sealed, streams = [], onError = () => {} } = deps;
  const keyring = createAuditKeyring({
    store,
    root,
    ...(deps.signingKeys ? { signingKeys: deps.signingKeys } : {}),
    clock,
    onBadKey: (id, err) => onError(err, `audit key ${id} does not unwrap or its HSM key does not match; ignored`),
  });
  const checkpointer = startCheckpointer({
    store,
    keyring,
    clock,
    everyEvents: deps.checkpointEvents,
    everySeconds: deps.checkpointSeconds,
    paused: sealed,
    onError: (err) => onError(err, 'audit checkpoint failed'),
  });
  const chain: AuditChain = createAuditChain();
  const loadKeys = () => keyring.ensure().catch((err: unknown) => onError(err, 'audit keys unavailable'));
  let lastAttempt = 0;
  const log = createAuditLog({
    sink: store,
    chain,
    ...(deps.timeoutMs === undefined ? {} : { timeoutMs: deps.timeoutMs }),
    hmacKey: () => {
      const key = keyring.hmacKey();
      if (!key && !sealed() && clock.now().getTime() - lastAttempt > 5_000) {
        lastAttempt = clock.now().getTime();
        void loadKeys();
      }
      return key;
    },
    onDurable: (events, head) => {
      checkpointer.note(head);
      for (const s of streams) {
        try {
          s.write(events);
        } catch (err) {
          onError(err, `audit stream ${s.name} failed`);
        }
      }
    },
    onChainAbandoned: (last) => {
      if (last) checkpointer.note(last);
    },
    onSinkError: (err) => onError(err, 'audit sink failed'),
  });
  return {
    log,
    keyring,
    checkpointer,
    chainId: () => chain.head().chainId,
    async ready() {
      if (!sealed()) await loadKeys();
    },
    async close() {
      await checkpointer.close();
      await Promise.all(streams.map((s) => s.close().catch(() => undefined)));
    },
  };
}

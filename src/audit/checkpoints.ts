/**
 * Signed checkpoints (CloudTrail digest files): "chain C had N events ending in hash H at time T", signed with the
 * audit signing key (audit-keys.ts), written every `everyEvents` events or `everySeconds` seconds when the chain
 * advanced, for the last durable head of each chain (also the head of a chain given up after an append failure),
 * and once more at shutdown.
 * Invariants: a checkpoint names only a durable head; signing and storing run off the request path and their
 * failure never fails a request (the next tick retries); a checkpoint is never written for a head at or below one
 * already checkpointed; while the root is sealed (no signer) nothing is signed and the heads wait; a signature the
 * HSM cannot make (unavailable) is reported and the heads wait for the next tick. A signature verifies under the
 * algorithm of its public key: Ed25519 (software keys) or ECDSA P-256 with SHA-256, DER (keys in an HSM).
 */
import { createPublicKey } from 'node:crypto';
import { verify as verifySignature, type SigningAlgorithm } from '../crypto/index.js';
import type { AuditChainStore, CheckpointRecord } from '../ports/audit-chain-store.js';
import type { Clock } from '../ports/clock.js';
import type { ChainHead } from './audit-chain.js';
import type { AuditKeyring } from './audit-keys.js';
import { canonicalJson } from './canonical-json.js';

export const CHECKPOINT_FORMAT = 'datadefender-audit-checkpoint/1';

export function checkpointPayload(c: { chainId: string; sequence: number; hash: string; time: Date; keyId: string }): string {
  return canonicalJson({ format: CHECKPOINT_FORMAT, chainId: c.chainId, sequence: c.sequence, hash: c.hash, time: c.time.toISOString(), keyId: c.keyId });
}

/** The signature algorithm of each kind of audit public key (node:crypto asymmetricKeyType). */
const ALGORITHM_OF_KEY_TYPE: Readonly<Record<string, SigningAlgorithm>> = { ed25519: 'ED25519_SHA_512', ec: 'ECDSA_SHA_256' };

/**
 * Whether `signature` (base64) over `payload` is valid under the audit public key `publicKeyDer`: Ed25519, or ECDSA
 * P-256 for a key in an HSM — the key's type decides, and verify refuses another curve. Checkpoints and archive
 * records (archive-record.ts) are both checked here.
 */
export function auditSignatureValid(publicKeyDer: Uint8Array, payload: string, signature: string): boolean {
  try {
    const type = createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'spki' }).asymmetricKeyType ?? '';
    const algorithm = ALGORITHM_OF_KEY_TYPE[type];
    if (!algorithm) return false;
    return verifySignature(algorithm, publicKeyDer, Buffer.from(payload, 'utf8'), 'RAW', Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** Whether `cp` is signed by `publicKeyDer` and its payload says what its fields say. */
export function checkpointSignatureValid(cp: CheckpointRecord, publicKeyDer: Uint8Array): boolean {
  return cp.payload === checkpointPayload(cp) && auditSignatureValid(publicKeyDer, cp.payload, cp.signature);
}

export interface Checkpointer {
  /** A durable head of a chain (after each batch, and the last head of an abandoned chain). */
  note(head: ChainHead): void;
  /** Checkpoints every noted head not yet checkpointed. Resolves with how many were written. */
  flush(): Promise<number>;
  /** Stops the timer after a final flush. */
  close(): Promise<void>;
}

export function startCheckpointer(deps: {
  store: AuditChainStore;
  keyring: AuditKeyring;
  clock: Clock;
  everyEvents: number;
  everySeconds: number;
  /** True while nothing can be signed (the root is sealed): heads wait, nothing is reported. */
  paused?: () => boolean;
  onError?: (err: unknown) => void;
}): Checkpointer {
  const { store, keyring, clock, everyEvents, everySeconds, paused = () => false, onError = () => {} } = deps;
  const pending = new Map<string, ChainHead>();
  const done = new Map<string, number>();
  let flushing: Promise<number> | undefined;

  async function writeAll(): Promise<number> {
    if (pending.size === 0) return 0;
    let signer = keyring.signer();
    if (!signer && paused()) return 0;
    if (!signer) {
      try {
        await keyring.ensure();
      } catch (err) {
        onError(err);
        return 0;
      }
      signer = keyring.signer();
      if (!signer) return 0;
    }
    let written = 0;
    for (const head of [...pending.values()]) {
      if (head.sequence <= (done.get(head.chainId) ?? 0)) {
        if (pending.get(head.chainId) === head) pending.delete(head.chainId);
        continue;
      }
      const fields = { chainId: head.chainId, sequence: head.sequence, hash: head.hash, time: clock.now(), keyId: signer.keyId };
      const payload = checkpointPayload(fields);
      let signature: string;
      try {
        signature = (await signer.sign(Buffer.from(payload, 'utf8'))).toString('base64');
      } catch (err) {
        onError(err);
        break; // the signer is unavailable: every head waits for the next tick
      }
      try {
        await store.appendCheckpoint({ ...fields, payload, signature });
      } catch (err) {
        if ((err as { code?: string }).code !== 'ERR_ALREADY_EXISTS') {
          onError(err);
          continue;
        }
      }
      written++;
      done.set(head.chainId, head.sequence);
      if (pending.get(head.chainId) === head) pending.delete(head.chainId);
    }
    return written;
  }

  const flush = (): Promise<number> => {
    flushing ??= writeAll().finally(() => {
      flushing = undefined;
    });
    return flushing;
  };

  const timer = setInterval(() => void flush(), everySeconds * 1000);
  timer.unref();

  return {
    note(head) {
      pending.set(head.chainId, head);
      if (head.sequence - (done.get(head.chainId) ?? 0) >= everyEvents) void flush();
    },
    flush,
    async close() {
      clearInterval(timer);
      await flushing;
      await flush();
    },
  };
}

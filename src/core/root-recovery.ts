/**
 * Break-glass recovery: a recovery key pair whose private key exists only as custodians' Shamir shares
 * (core/recovery-shares.ts); the ring escrows every wrapped blob to its public key (core/root-ring.ts). When the root
 * of trust is lost (an HSM token destroyed, an upstream key deleted), `recoverRoot` — offline, the server stopped —
 * takes M shares, rebuilds the private key, and re-wraps every blob from its escrow under a NEW root (a new generation
 * in a chosen adapter). For pkcs11 and aws-kms roots the root key never leaves the HSM or the upstream, so what is
 * escrowed is each wrapped blob's plaintext (key versions, access-key secrets), never the root key itself.
 *
 * Invariants:
 * - the private key is in memory only during enableRootRecovery (to split it) and recoverRoot, and zeroed after;
 * - shares are accepted only if they reconstruct the private key of the stored public key, and every escrow is
 *   authenticated by a key derived from the private key, so an attacker who edited storage (swapped the public key,
 *   planted escrows) cannot make a recovery install material of their choosing;
 * - recovery first replaces the registry (a new generation, active, anchored by the new root; every older generation
 *   retired) and records a job, then re-wraps resumably; run again with the same shares it resumes the same job on the
 *   same new root; blobs without a valid escrow are reported (skipped), never silently dropped.
 */
import { deriveEscrowAuthKey, escrowOpen, generateRecoveryKeyPair, randomSecret, type SecretBytes } from '../crypto/index.js';
import { InvalidCiphertextError, ValidationError } from '../errors/index.js';
import type { Clock } from '../ports/clock.js';
import type { RootMigrationRecord, RootRegistryRecord, RootRingStorage } from '../ports/root-ring-storage.js';
import { combineRecoveryShares, splitRecoveryKey, validateRecoveryShareOptions } from './recovery-shares.js';
import { nextGenerationNumber, recoveryAuthAad, recoveryKeyId, registryKeyAad, registryMac } from './root-registry.js';
import { encodeRingBlob, parseRingBlob } from './root-ring-format.js';
import { createRootRing, type CreatedRoot, type RootBackends, type RootCreateRequest, type RootRing } from './root-ring.js';
import { defaultWrappedCollections, newRewrapJob, runRewrapJob, type WrappedCollection } from './root-rewrap.js';

/**
 * Creates the recovery key, configures the ring to escrow to it, and returns the custodians' shares (shown once).
 * Blobs wrapped before it have no escrow until the next rotate-root (which adds them).
 * @throws ValidationError for share options out of range; ConflictError when a recovery key is configured.
 */
export async function enableRootRecovery(ring: RootRing, options: { shares: number; threshold: number }): Promise<string[]> {
  const valid = validateRecoveryShareOptions(options);
  const { privateKey, publicKey } = generateRecoveryKeyPair();
  let authKey: SecretBytes | null = null;
  try {
    const shares = await splitRecoveryKey(privateKey, valid);
    authKey = deriveEscrowAuthKey(privateKey);
    await ring.enableRecovery(publicKey, authKey, valid);
    return shares;
  } finally {
    privateKey.destroy();
    authKey?.destroy();
  }
}

export interface RecoverRootOptions {
  storage: RootRingStorage;
  /** The roots of trust of the configuration; `create` makes the new root (`open` reopens it on a resumed run). */
  backends: RootBackends;
  clock: Clock;
  /** At least `threshold` recovery shares (ddr1.…). */
  shares: readonly string[];
  /** The new root: adapter kind and its creation options (local-sealed: new unseal shares; pkcs11: createKey). */
  target: Omit<RootCreateRequest, 'generation' | 'mode'>;
  batchSize?: number;
  collections?: readonly WrappedCollection[];
  onBatch?: (job: RootMigrationRecord) => void | Promise<void>;
}

export interface RecoveryReport {
  generation: number;
  kind: string;
  /** Blobs at the start. */
  total: number;
  /** Blobs that had no valid escrow and stay unreadable. */
  unrecoverable: number;
  /** local-sealed target: unseal shares of the new seal (first run only). */
  unsealShares?: string[];
  resumed: boolean;
}

/** The backends with the new root as the trust anchor (the configured root is the lost one). */
function anchoredAt(backends: RootBackends, kind: string, created: CreatedRoot, generation: number): RootBackends {
  const same = (g: { kind: string; descriptor: object }) => g.kind === kind && JSON.stringify(g.descriptor) === JSON.stringify(created.descriptor);
  return {
    anchor: async () => ({ kind, descriptor: created.descriptor, root: created.root }),
    anchors: same,
    open: async (g) => (g.generation === generation && same(g) ? created.root : backends.open(g)),
    create: (request) => backends.create(request),
  };
}

/**
 * Recovers every blob onto a new root from its escrow. Offline: the server must be stopped.
 * @throws ValidationError (no recovery key configured; too few, wrong, duplicate or foreign shares), the adapters'
 * errors when the new root cannot be created or reopened, ConflictError when the registry changed meanwhile.
 */
export async function recoverRoot(options: RecoverRootOptions): Promise<RecoveryReport> {
  const { storage, backends, clock } = options;
  const registry = await storage.getRootRegistry();
  if (!registry.recovery) throw new ValidationError('No recovery key is configured for this deployment: there is nothing to recover from.');
  const publicKey = Buffer.from(registry.recovery.publicKey);
  const privateKey = await combineRecoveryShares(options.shares, { publicKey, threshold: registry.recovery.threshold });
  const authKey = deriveEscrowAuthKey(privateKey);
  try {
    const latest = await storage.latestRootMigration();
    let job: RootMigrationRecord;
    let created: CreatedRoot;
    let resumed = false;
    const target = latest?.state === 'running' && latest.operation === 'recover' ? registry.generations.find((g) => g.generation === latest.targetGeneration) : undefined;
    if (latest && target && target.state === 'active') {
      if (target.kind !== options.target.kind) {
        throw new ValidationError(`A recovery onto ${target.kind} (root generation ${target.generation}) is under way; resume it with --to ${target.kind}.`);
      }
      created = { descriptor: target.descriptor, root: await backends.open(target) };
      job = latest;
      resumed = true;
    } else {
      if (latest?.state === 'running') {
        // The job under way (a rotation or migration) is superseded: its source root is what was lost.
        await storage.updateRootMigration({ ...latest, state: 'done', revision: latest.revision + 1, lastError: 'superseded by a recovery', finishedAt: clock.now(), updatedAt: clock.now() }, latest.revision);
      }
      const generation = nextGenerationNumber(registry);
      created = await backends.create({ ...options.target, generation, mode: 'recover' });
      await replaceRegistry(storage, registry, options.target.kind, created, generation, authKey, clock);
      const now = clock.now();
      job = await newRewrapJob(storage, { operation: 'recover', targetGeneration: generation, targetKind: options.target.kind, generations: registry.generations, now });
      await storage.createRootMigration(job);
    }

    const ring = createRootRing({ storage, backends: anchoredAt(backends, job.targetKind, created, job.targetGeneration), clock, kind: job.targetKind, refreshMs: 2 ** 31 });
    await ring.view();
    const keyId = recoveryKeyId(publicKey);
    const active = job.targetGeneration;
    const finished = await runRewrapJob(job, {
      storage,
      clock,
      collections: options.collections ?? defaultWrappedCollections(storage),
      batchSize: options.batchSize ?? 100,
      settleMs: 0,
      ...(options.onBatch ? { onBatch: options.onBatch } : {}),
      step: {
        current: (blob) => {
          const parsed = parseRingBlob(blob);
          return parsed !== null && parsed.generation === active && parsed.escrow !== null && parsed.escrow.keyId.equals(keyId);
        },
        open: async (blob, aad) => {
          const parsed = parseRingBlob(blob);
          if (!parsed) return null;
          // Moved already (an interrupted run wrote it) but without escrow: the new root opens it.
          if (parsed.generation === active) return ring.unwrap(blob, aad);
          if (!parsed.escrow || !parsed.escrow.keyId.equals(keyId)) return null;
          try {
            return escrowOpen(privateKey, authKey, parsed.escrow.sealed, aad);
          } catch (err) {
            if (err instanceof InvalidCiphertextError) return null;
            throw err;
          }
        },
        seal: (plaintext, aad) => ring.wrap(plaintext, aad),
      },
    });
    await storage.updateRootMigration({ ...finished, state: 'done', revision: finished.revision + 1, finishedAt: clock.now(), updatedAt: clock.now() }, finished.revision);
    return {
      generation: job.targetGeneration,
      kind: job.targetKind,
      total: finished.total,
      unrecoverable: finished.skipped,
      ...(created.shares ? { unsealShares: created.shares } : {}),
      resumed,
    };
  } finally {
    privateKey.destroy();
    authKey.destroy();
  }
}

/** The registry after a recovery: the new generation active and anchored by the new root; every other one retired. */
async function replaceRegistry(
  storage: RootRingStorage,
  registry: RootRegistryRecord,
  kind: string,
  created: CreatedRoot,
  generation: number,
  authKey: SecretBytes,
  clock: Clock,
): Promise<void> {
  const key = randomSecret(32);
  try {
    const now = clock.now();
    const fresh = { generation, kind, descriptor: created.descriptor, state: 'active' as const, registryKey: null as Uint8Array | null, createdAt: now, updatedAt: now };
    fresh.registryKey = await created.root.wrap(key, registryKeyAad(fresh));
    const recovery = registry.recovery!;
    const authKeyWrapped = encodeRingBlob(generation, await created.root.wrap(authKey, recoveryAuthAad(recovery.publicKey)));
    const next: RootRegistryRecord = {
      revision: registry.revision + 1,
      generations: [
        ...registry.generations.map((g) => (g.state === 'retired' ? g : { ...g, state: 'retired' as const, registryKey: null, updatedAt: now })),
        fresh,
      ],
      recovery: { ...recovery, authKeyWrapped },
      mac: null,
    };
    next.mac = registryMac(key, next);
    if (!(await storage.saveRootRegistry(next, registry.revision))) {
      throw new ValidationError('The root registry changed while the recovery started: is a server still running? Stop it and run the recovery again.');
    }
  } finally {
    key.destroy();
  }
}

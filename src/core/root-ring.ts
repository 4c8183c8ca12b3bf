/**
 * The root ring: a RootOfTrust over several generations of roots of trust, so the root key can be rotated, moved to
 * another adapter, or recovered, while every caller (key material, access keys, SigV4, dev bootstrap) keeps calling
 * `wrap` and `unwrap` as before.
 *
 * Invariants:
 * - wrap uses the active generation of the verified registry and writes a self-describing blob naming it
 *   (core/root-ring-format.ts); unwrap uses the generation the blob names (legacy blobs, first byte < 0x10, are
 *   generation 1); a blob naming a generation that is unknown, retired or whose root does not open here fails with
 *   DependencyError saying so; everything else an adapter throws (InvalidCiphertextError, SealedError) passes through;
 * - the registry is used only once verified (core/root-registry.ts): its registry key unwraps under a generation the
 *   configured root of trust stands for, and its MAC checks; otherwise every operation fails with DependencyError
 *   (fail closed: an edited registry can never redirect a wrap);
 * - when a recovery key is configured, every wrap also escrows the plaintext to it (crypto/recovery-escrow.ts) with
 *   the same AAD, inside the blob. For pkcs11 and aws-kms roots the root key is not extractable, so the escrow is per
 *   wrapped blob, never of the root key itself;
 * - the registry is re-read at most every `refreshMs` (other servers' rotations show within it) and at once when a
 *   blob names a generation this process does not know;
 * - registry changes are compare-and-swap on its revision; the registry key only ever leaves memory wrapped.
 */
import { escrowSeal, randomSecret, type SecretBytes } from '../crypto/index.js';
import { ConflictError, DependencyError, InvalidCiphertextError, ValidationError } from '../errors/index.js';
import type { Clock } from '../ports/clock.js';
import type { RootOfTrust } from '../ports/root-of-trust.js';
import type { RootDescriptor, RootGenerationRecord, RootRecoveryRecord, RootRegistryRecord, RootRingStorage } from '../ports/root-ring-storage.js';
import { encodeRingBlob, parseRingBlob, type ParsedRingBlob } from './root-ring-format.js';
import {
  activeGeneration,
  nextGenerationNumber,
  recoveryAuthAad,
  recoveryKeyId,
  registryKeyAad,
  registryMac,
  registryMacValid,
} from './root-registry.js';

/** What a new generation's root is made for. */
export interface RootCreateRequest {
  kind: string;
  generation: number;
  mode: 'rotate' | 'migrate' | 'recover';
  /** aws-kms rotate: the new upstream key (key id, ARN or alias). */
  awsKmsKeyId?: string;
  /** pkcs11 migrate/recover: create the key object named by the configuration if it is missing. */
  createKey?: boolean;
  /** local-sealed migrate/recover: unseal shares of the new seal. */
  shares?: number;
  threshold?: number;
}

export interface CreatedRoot {
  descriptor: RootDescriptor;
  root: RootOfTrust;
  /** local-sealed: the unseal shares of a new seal (shown once). */
  shares?: string[];
}

/**
 * The roots of trust behind the ring, built from the server's configuration by the composition root (the only
 * place that picks adapters).
 */
export interface RootBackends {
  /** The root of trust the configuration opens: the trust anchor of the registry (it may be sealed). */
  anchor(): Promise<{ kind: string; descriptor: RootDescriptor; root: RootOfTrust }>;
  /**
   * Whether generation `g` is a root the configured root of trust stands for (the same seal, the same HSM token,
   * the same upstream key, the same key file): only such a generation's wrapped registry key anchors trust.
   */
  anchors(g: Pick<RootGenerationRecord, 'kind' | 'descriptor'>): boolean;
  /** Opens the root of a generation from the configuration. @throws DependencyError, ValidationError */
  open(g: Pick<RootGenerationRecord, 'generation' | 'kind' | 'descriptor'>): Promise<RootOfTrust>;
  /** Creates the root of a new generation. @throws ValidationError, AlreadyExistsError, DependencyError */
  create(request: RootCreateRequest): Promise<CreatedRoot>;
}

/** The verified registry as callers may see it (no secrets). */
export interface RingView {
  revision: number;
  active: { generation: number; kind: string; descriptor: RootDescriptor };
  generations: Array<{ generation: number; kind: string; descriptor: RootDescriptor; state: string; createdAt: string; updatedAt: string }>;
  recovery: { keyId: string; threshold: number; shares: number; createdAt: string } | null;
}

export interface RootRing extends RootOfTrust {
  /** Verifies the registry (creating it on first use) and describes it. */
  view(): Promise<RingView>;
  /** True when `blob` is wrapped by the active generation (and escrowed to the current recovery key, if any). */
  isCurrent(blob: Uint8Array): Promise<boolean>;
  /** Re-reads and re-verifies the registry now. */
  refresh(): Promise<void>;
  /** Adds generation `created` as active; the previous active one becomes retiring. Returns its number. */
  beginGeneration(kind: string, created: CreatedRoot, generation: number): Promise<number>;
  /** Marks `generations` retired, drops their wrapped registry key and replaces the registry key. */
  retire(generations: readonly number[]): Promise<void>;
  /** Configures the recovery key escrows go to. @throws ConflictError when one is configured. */
  enableRecovery(publicKey: Uint8Array, authKey: SecretBytes, options: { threshold: number; shares: number }): Promise<void>;
  /** Re-wraps the recovery record's escrow authentication key under the active generation if it is not already. */
  rewrapRecoveryRecord(): Promise<void>;
}

interface Loaded {
  registry: RootRegistryRecord;
  key: SecretBytes;
  active: RootGenerationRecord;
  recovery: { publicKey: Buffer; keyId: Buffer; authKey: SecretBytes } | null;
  loadedAt: number;
}

const REGISTRY_REFUSED =
  'The root registry in storage fails its authentication (it was changed outside DataDefender, or the configured root of trust does not stand for it); DataDefender refuses to use it.';
const RECOVERY_REFUSED = 'The recovery key record in storage fails its authentication; DataDefender refuses to escrow to it.';

export function createRootRing(deps: { storage: RootRingStorage; backends: RootBackends; clock: Clock; kind: string; refreshMs?: number }): RootRing {
  return new Ring(deps.storage, deps.backends, deps.clock, deps.kind, deps.refreshMs ?? 5000);
}

class Ring implements RootRing {
  readonly #storage: RootRingStorage;
  readonly #backends: RootBackends;
  readonly #clock: Clock;
  readonly #refreshMs: number;
  readonly #initialKind: string;
  #loaded: Loaded | null = null;
  #loading: Promise<Loaded> | null = null;
  readonly #roots = new Map<number, Promise<RootOfTrust>>();
  /** A registry key this process just wrote (retire replaces it): trusted without an anchor, as it never left here. */
  #pendingKey: SecretBytes | null = null;

  constructor(storage: RootRingStorage, backends: RootBackends, clock: Clock, kind: string, refreshMs: number) {
    this.#storage = storage;
    this.#backends = backends;
    this.#clock = clock;
    this.#initialKind = kind;
    this.#refreshMs = refreshMs;
  }

  get kind(): string {
    return this.#loaded?.active.kind ?? this.#initialKind;
  }

  async wrap(plaintext: SecretBytes, aad: Uint8Array): Promise<Uint8Array> {
    const s = await this.#state();
    return this.#wrapIn(s, plaintext, aad, true);
  }

  async unwrap(wrapped: Uint8Array, aad: Uint8Array): Promise<SecretBytes> {
    const parsed = parseRingBlob(wrapped);
    if (!parsed || !(aad instanceof Uint8Array)) throw new InvalidCiphertextError();
    const root = await this.#rootForBlob(parsed);
    return root.unwrap(parsed.inner, aad);
  }

  async view(): Promise<RingView> {
    const s = await this.#state();
    const iso = (d: Date) => d.toISOString();
    return {
      revision: s.registry.revision,
      active: { generation: s.active.generation, kind: s.active.kind, descriptor: s.active.descriptor },
      generations: s.registry.generations.map((g) => ({
        generation: g.generation,
        kind: g.kind,
        descriptor: g.descriptor,
        state: g.state,
        createdAt: iso(g.createdAt),
        updatedAt: iso(g.updatedAt),
      })),
      recovery: s.registry.recovery && s.recovery
        ? { keyId: s.recovery.keyId.toString('hex'), threshold: s.registry.recovery.threshold, shares: s.registry.recovery.shares, createdAt: iso(s.registry.recovery.createdAt) }
        : null,
    };
  }

  async isCurrent(blob: Uint8Array): Promise<boolean> {
    const s = await this.#state();
    return isCurrentIn(s, blob);
  }

  async refresh(): Promise<void> {
    await this.#reload();
  }

  async beginGeneration(kind: string, created: CreatedRoot, generation: number): Promise<number> {
    await this.#mutate(async (reg, s) => {
      if (nextGenerationNumber(reg) !== generation) throw new ConflictError('The root registry changed while the new root was created; run the command again.');
      const now = this.#clock.now();
      const fresh: RootGenerationRecord = {
        generation,
        kind,
        descriptor: created.descriptor,
        state: 'active',
        registryKey: null,
        createdAt: now,
        updatedAt: now,
      };
      fresh.registryKey = await created.root.wrap(s.key, registryKeyAad(fresh));
      this.#roots.set(generation, Promise.resolve(created.root));
      const generations = reg.generations.map((g) => (g.state === 'active' ? { ...g, state: 'retiring' as const, updatedAt: now } : g));
      return { generations: [...generations, fresh], recovery: reg.recovery };
    });
    return generation;
  }

  async retire(generations: readonly number[]): Promise<void> {
    const retiring = new Set(generations);
    await this.#mutate(async (reg, s) => {
      if (retiring.has(s.active.generation)) throw new ValidationError('The active root generation cannot be retired.');
      const now = this.#clock.now();
      const key = randomSecret(32);
      const next: RootGenerationRecord[] = [];
      for (const g of reg.generations) {
        if (retiring.has(g.generation) || g.state === 'retired') {
          next.push({ ...g, state: 'retired', registryKey: null, updatedAt: retiring.has(g.generation) ? now : g.updatedAt });
        } else {
          const root = await this.#rootOf(g);
          next.push({ ...g, registryKey: await root.wrap(key, registryKeyAad(g)) });
        }
      }
      return { generations: next, recovery: reg.recovery, newKey: key };
    });
  }

  async enableRecovery(publicKey: Uint8Array, authKey: SecretBytes, options: { threshold: number; shares: number }): Promise<void> {
    await this.#mutate(async (reg, s) => {
      if (reg.recovery) throw new ConflictError('A recovery key is already configured.');
      const pub = Buffer.from(publicKey);
      const recovery: RootRecoveryRecord = {
        publicKey: pub,
        threshold: options.threshold,
        shares: options.shares,
        authKeyWrapped: await this.#wrapIn(s, authKey, recoveryAuthAad(pub), false),
        createdAt: this.#clock.now(),
      };
      return { generations: reg.generations, recovery };
    });
  }

  async rewrapRecoveryRecord(): Promise<void> {
    const s = await this.#reload();
    const r = s.registry.recovery;
    if (!r || parseRingBlob(r.authKeyWrapped)?.generation === s.active.generation || !s.recovery) return;
    await this.#mutate(async (reg, current) => {
      const rec = reg.recovery;
      if (!rec || !current.recovery) return { generations: reg.generations, recovery: rec };
      const authKeyWrapped = await this.#wrapIn(current, current.recovery.authKey, recoveryAuthAad(rec.publicKey), false);
      return { generations: reg.generations, recovery: { ...rec, authKeyWrapped } };
    });
  }

  // ---- internals ------------------------------------------------------------------------------------------

  async #wrapIn(s: Loaded, plaintext: SecretBytes, aad: Uint8Array, escrow: boolean): Promise<Buffer> {
    const root = await this.#rootOf(s.active);
    const inner = await root.wrap(plaintext, aad);
    if (!escrow || !s.recovery) return encodeRingBlob(s.active.generation, inner);
    const sealed = escrowSeal(s.recovery.publicKey, s.recovery.authKey, plaintext, aad);
    return encodeRingBlob(s.active.generation, inner, { keyId: s.recovery.keyId, sealed });
  }

  async #rootForBlob(parsed: ParsedRingBlob): Promise<RootOfTrust> {
    let s = await this.#state();
    let g = s.registry.generations.find((x) => x.generation === parsed.generation);
    if (!g || (g.state === 'retired' && !this.#roots.has(g.generation))) {
      s = await this.#reload();
      g = s.registry.generations.find((x) => x.generation === parsed.generation);
    }
    if (!g) throw new DependencyError(`This key material is wrapped by root generation ${parsed.generation}, which the root registry does not know.`);
    if (g.state === 'retired' && !this.#roots.has(g.generation)) {
      throw new DependencyError(`This key material is wrapped by root generation ${g.generation} (${g.kind}), which is retired: its root of trust is not open.`);
    }
    return this.#rootOf(g);
  }

  /** The root of generation `g`, opened once (a failed open is retried on the next call). */
  #rootOf(g: Pick<RootGenerationRecord, 'generation' | 'kind' | 'descriptor'>): Promise<RootOfTrust> {
    let root = this.#roots.get(g.generation);
    if (!root) {
      root = this.#backends.open(g).catch((err: unknown) => {
        this.#roots.delete(g.generation);
        const why = err instanceof Error ? err.message : 'it did not open';
        throw new DependencyError(`The root of trust of root generation ${g.generation} (${g.kind}) is not open here: ${why}`, { cause: err });
      });
      this.#roots.set(g.generation, root);
    }
    return root;
  }

  async #state(): Promise<Loaded> {
    const s = this.#loaded;
    if (s && this.#clock.now().getTime() - s.loadedAt < this.#refreshMs) return s;
    return this.#reload();
  }

  /** Loads and verifies the registry (one load at a time); creates it on first use. */
  #reload(): Promise<Loaded> {
    this.#loading ??= this.#load().finally(() => {
      this.#loading = null;
    });
    return this.#loading;
  }

  async #load(): Promise<Loaded> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const reg = await this.#storage.getRootRegistry();
      if (reg.revision === 0) {
        await this.#createRegistry();
        continue;
      }
      const previous = this.#loaded;
      if (previous && previous.registry.revision === reg.revision && reg.mac && previous.registry.mac && Buffer.compare(Buffer.from(reg.mac), Buffer.from(previous.registry.mac)) === 0) {
        // Unchanged since it was verified: the stored bytes are the ones the MAC covered (it is over everything we use).
        if (registryMacValid(previous.key, reg)) {
          previous.loadedAt = this.#clock.now().getTime();
          return previous;
        }
      }
      const loaded = await this.#verify(reg);
      if (previous && previous !== loaded) {
        if (previous.key !== loaded.key) previous.key.destroy();
        if (previous.recovery && previous.recovery.authKey !== loaded.recovery?.authKey) previous.recovery.authKey.destroy();
      }
      this.#loaded = loaded;
      return loaded;
    }
    throw new ConflictError('The root registry kept changing while it was read; try again.');
  }

  async #createRegistry(): Promise<void> {
    const anchor = await this.#backends.anchor();
    const key = randomSecret(32);
    try {
      const now = this.#clock.now();
      const first: RootGenerationRecord = { generation: 1, kind: anchor.kind, descriptor: anchor.descriptor, state: 'active', registryKey: null, createdAt: now, updatedAt: now };
      first.registryKey = await anchor.root.wrap(key, registryKeyAad(first));
      const next: RootRegistryRecord = { revision: 1, generations: [first], recovery: null, mac: null };
      next.mac = registryMac(key, next);
      if (await this.#storage.saveRootRegistry(next, 0)) this.#roots.set(1, Promise.resolve(anchor.root));
    } finally {
      key.destroy();
    }
  }

  async #verify(reg: RootRegistryRecord): Promise<Loaded> {
    const anchor = await this.#backends.anchor();
    const active = activeGeneration(reg);
    const candidates = reg.generations
      .filter((g) => g.state !== 'retired' && g.registryKey !== null && this.#backends.anchors(g))
      .sort((a, b) => (a.state === 'active' ? -1 : b.state === 'active' ? 1 : b.generation - a.generation));
    const knownValid = [this.#pendingKey, this.#loaded?.key].some((k) => k && registryMacValid(k, reg));
    if (candidates.length === 0 && !knownValid) {
      throw new DependencyError(
        `The configured root of trust (${anchor.kind}) is not a live generation of the root ring` +
          `${active ? ` (the active one is generation ${active.generation}, ${active.kind})` : ''}: configure the root of trust of a live generation.`,
      );
    }
    // A registry key this process already trusts (verified earlier, or made by retire) needs no anchor: after a
    // migration retires the configured root, this server keeps serving until it restarts on the new configuration.
    let key: SecretBytes | null = null;
    for (const known of [this.#pendingKey, this.#loaded?.key]) {
      if (known && registryMacValid(known, reg)) {
        key = known;
        break;
      }
    }
    for (const g of key === null ? candidates : []) {
      const root = await this.#rootOf(g);
      try {
        key = await root.unwrap(g.registryKey!, registryKeyAad(g));
        break;
      } catch (err) {
        if (!(err instanceof InvalidCiphertextError)) throw err;
      }
    }
    if (key === null || !registryMacValid(key, reg) || !active) {
      if (key !== this.#pendingKey && key !== this.#loaded?.key) key?.destroy();
      throw new DependencyError(REGISTRY_REFUSED);
    }
    let recovery: Loaded['recovery'] = null;
    if (reg.recovery) {
      const publicKey = Buffer.from(reg.recovery.publicKey);
      const parsed = parseRingBlob(reg.recovery.authKeyWrapped);
      const g = parsed && reg.generations.find((x) => x.generation === parsed.generation && x.state !== 'retired');
      let authKey: SecretBytes | null = null;
      if (parsed && g) {
        try {
          authKey = await (await this.#rootOf(g)).unwrap(parsed.inner, recoveryAuthAad(publicKey));
        } catch (err) {
          if (!(err instanceof InvalidCiphertextError)) throw err;
        }
      }
      if (authKey === null || publicKey.length !== 32) {
        if (key !== this.#pendingKey && key !== this.#loaded?.key) key.destroy();
        throw new DependencyError(RECOVERY_REFUSED);
      }
      recovery = { publicKey, keyId: recoveryKeyId(publicKey), authKey };
    }
    return { registry: reg, key, active, recovery, loadedAt: this.#clock.now().getTime() };
  }

  /** Applies `change` to the verified registry and saves it (compare-and-swap on the revision), then reloads. */
  async #mutate(
    change: (reg: RootRegistryRecord, s: Loaded) => Promise<{ generations: RootGenerationRecord[]; recovery: RootRecoveryRecord | null; newKey?: SecretBytes }>,
  ): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const s = await this.#reload();
      const { generations, recovery, newKey } = await change(s.registry, s);
      try {
        const next: RootRegistryRecord = { revision: s.registry.revision + 1, generations, recovery, mac: null };
        next.mac = registryMac(newKey ?? s.key, next);
        if (newKey) this.#pendingKey = newKey;
        if (await this.#storage.saveRootRegistry(next, s.registry.revision)) {
          await this.#reload();
          return;
        }
      } finally {
        this.#pendingKey = null;
        if (newKey && this.#loaded?.key !== newKey) newKey.destroy();
      }
    }
    throw new ConflictError('The root registry changed concurrently; run the command again.');
  }
}

function isCurrentIn(s: Loaded, blob: Uint8Array): boolean {
  const parsed = parseRingBlob(blob);
  if (!parsed || parsed.generation !== s.active.generation) return false;
  if (!s.recovery) return true;
  return parsed.escrow !== null && Buffer.compare(parsed.escrow.keyId, s.recovery.keyId) === 0;
}

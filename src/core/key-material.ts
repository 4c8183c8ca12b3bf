/**
 * Key material versions: creation (wrapped by the root of trust) and use (unwrapped, cached).
 * Invariants: material is stored only wrapped, with AAD binding it to its key id and version, so a row moved to
 * another key or version fails to unwrap; unwrapped material is used synchronously inside `withMaterial` and never
 * escapes it; material that is not cached is zeroed after use.
 */
import { sha256Hex, type SecretBytes } from '../crypto/index.js';
import { InvalidCiphertextError } from '../errors/index.js';
import type { RootOfTrust } from '../ports/root-of-trust.js';
import type { KeyVersionRecord, RotationType, Storage } from '../ports/storage.js';
import type { MaterialCache } from './material-cache.js';
import { createLruCache } from './lru-cache.js';

export function materialAad(keyId: string, version: number): Buffer {
  return Buffer.from(`datadefender/key-material/v1/${keyId}/${version}`, 'utf8');
}

const materialIds = createLruCache<string>({ maxEntries: 10_000, ttlMs: 2 ** 40 });

/** AWS's KeyMaterialId: 64 hex chars, here derived from the key id and version (memoized: it is on every response). */
export function materialIdFor(keyId: string, version: number): string {
  const name = `${keyId}/${version}`;
  let id = materialIds.get(name);
  if (id === undefined) {
    id = sha256Hex(`datadefender/key-material-id/v1/${name}`);
    materialIds.set(name, id);
  }
  return id;
}

export interface KeyMaterial {
  /** Wraps `secret` (new material from key-specs.newMaterial) as a new version and destroys it. */
  newVersion(keyId: string, version: number, secret: SecretBytes, rotationType: RotationType, now: Date): Promise<KeyVersionRecord>;
  /**
   * Runs `use` with the unwrapped material of (keyId, version).
   * @throws InvalidCiphertextError (ERR_INVALID_CIPHERTEXT) when the version does not exist or fails to unwrap.
   */
  withMaterial<T>(keyId: string, version: number, use: (material: SecretBytes) => T): Promise<T>;
  forget(keyId: string): void;
}

export function createKeyMaterial(deps: { root: RootOfTrust; storage: Storage; cache: MaterialCache }): KeyMaterial {
  const { root, storage, cache } = deps;
  return {
    async newVersion(keyId, version, secret, rotationType, now) {
      try {
        const wrapped = await root.wrap(secret, materialAad(keyId, version));
        return { keyId, version, materialId: materialIdFor(keyId, version), wrapped, createdAt: now, rotationType };
      } finally {
        secret.destroy();
      }
    },
    async withMaterial(keyId, version, use) {
      const cached = cache.get(keyId, version);
      if (cached) return use(cached);
      const record = await storage.getVersion(keyId, version);
      if (!record) throw new InvalidCiphertextError();
      const secret = await root.unwrap(record.wrapped, materialAad(keyId, version));
      cache.set(keyId, version, secret);
      try {
        return use(secret);
      } finally {
        if (cache.get(keyId, version) !== secret) secret.destroy();
      }
    },
    forget(keyId) {
      cache.evictKey(keyId);
    },
  };
}

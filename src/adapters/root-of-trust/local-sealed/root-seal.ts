// Sealing the root key under a fresh unseal key split into shares, and recovering it from shares.
// Invariants: the unseal key is 256 random bits from the CSPRNG, used for exactly one seal (a rekey makes a new one),
// and zeroed as soon as the root key is sealed and the key split; the root key is sealed with AES-256-GCM
// (crypto/key-wrap) under AAD binding format, version, seal id, generation, threshold and share count; before any
// share leaves, every share is checked to take part in a combination that recovers the root key (a split that
// cannot unseal would lose the root key for good); recovery returns null, never a reason, when the shares are wrong.
import { SecretBytes, constantTimeEqual, randomSecret, unwrapKey, wrapKey } from '../../../crypto/index.js';
import { InternalError } from '../../../errors/index.js';
import { type SealFile, type SealHeader, type SealedRootKey, rootKeyAad, sealAad, sealedRootBytes } from './seal-file.js';
import { UNSEAL_KEY_BYTES, encodeShare, parseShare } from './share-format.js';
import { combineShares, splitSecret } from './shamir.js';

export const ROOT_KEY_BYTES = 32;

/**
 * The root key sealed by `shares` (y || x buffers of this seal's generation), or null when they do not reconstruct
 * its unseal key (GCM authentication of the sealed root fails). The caller zeroes the shares and the returned key.
 */
export async function recoverRootKey(seal: SealFile, shares: readonly Buffer[]): Promise<SecretBytes | null> {
  const unsealKey = await combineShares(shares, seal.threshold);
  if (unsealKey === null) return null;
  try {
    const rootKey = unwrapKey(unsealKey, sealedRootBytes(seal), sealAad(seal));
    if (rootKey.length !== ROOT_KEY_BYTES) {
      rootKey.destroy();
      return null;
    }
    return rootKey;
  } catch {
    return null;
  } finally {
    unsealKey.destroy();
  }
}

/** Everything an unsealed root holds: the unseal key (kept to seal new root keys) and every root key by number. */
export interface OpenedSeal {
  unsealKey: SecretBytes;
  rootKeys: Map<number, SecretBytes>;
}

/** Zeroes everything in `opened`. */
export function destroyOpenedSeal(opened: OpenedSeal): void {
  opened.unsealKey.destroy();
  for (const k of opened.rootKeys.values()) k.destroy();
  opened.rootKeys.clear();
}

/**
 * The unseal key and every root key of `seal` (1, and 2... from rootKeys), or null when the shares do not
 * reconstruct its unseal key. The caller zeroes the shares and, with destroyOpenedSeal, the result.
 */
export async function openSeal(seal: SealFile, shares: readonly Buffer[]): Promise<OpenedSeal | null> {
  const unsealKey = await combineShares(shares, seal.threshold);
  if (unsealKey === null) return null;
  const rootKeys = new Map<number, SecretBytes>();
  try {
    rootKeys.set(1, unwrapKey(unsealKey, sealedRootBytes(seal), sealAad(seal)));
    for (const entry of seal.rootKeys ?? []) {
      rootKeys.set(entry.rootKey, unwrapKey(unsealKey, Buffer.from(entry.sealedRoot, 'base64'), rootKeyAad(seal, entry.rootKey)));
    }
    if ([...rootKeys.values()].some((k) => k.length !== ROOT_KEY_BYTES)) throw new Error('wrong root key length');
    return { unsealKey, rootKeys };
  } catch {
    destroyOpenedSeal({ unsealKey, rootKeys });
    return null;
  }
}

/** Root key `rootKey` (>= 2) sealed under `unsealKey` for the seal `header`. */
export function sealRootKey(unsealKey: SecretBytes, header: SealHeader, rootKey: number, key: SecretBytes, createdAt: string): SealedRootKey {
  return { rootKey, sealedRoot: wrapKey(unsealKey, key, rootKeyAad(header, rootKey)).toString('base64'), createdAt };
}

/** Start indexes of windows of `m` shares out of `n` that together cover every share. */
function coveringWindows(n: number, m: number): number[] {
  const starts: number[] = [];
  for (let i = 0; i < n; i += m) starts.push(Math.min(i, n - m));
  return starts;
}

/**
 * Seals `rootKey` under a new unseal key and splits that key into `header.shares` shares (threshold
 * `header.threshold`) named after `header.id` and `header.generation`. Returns the seal and the shares' text.
 * @throws InternalError (ERR_INTERNAL) if the shares fail the self-check (nothing is returned then).
 */
export async function sealWithNewShares(
  rootKey: SecretBytes,
  header: SealHeader,
  further: { keys: ReadonlyMap<number, SecretBytes>; entries: readonly SealedRootKey[] } = { keys: new Map(), entries: [] },
): Promise<{ seal: SealFile; shares: string[] }> {
  const unsealKey = randomSecret(UNSEAL_KEY_BYTES);
  let seal: SealFile;
  let shares: string[];
  try {
    seal = { ...header, sealedRoot: wrapKey(unsealKey, rootKey, sealAad(header)).toString('base64') };
    if (further.entries.length > 0) {
      // Root keys 2, ... (rotate-root) are sealed again under the new unseal key, each keeping its creation time.
      seal.rootKeys = further.entries.map((e) => sealRootKey(unsealKey, header, e.rootKey, further.keys.get(e.rootKey)!, e.createdAt));
    }
    const parts = await splitSecret(unsealKey, header.shares, header.threshold);
    try {
      shares = parts.map((p) => encodeShare(header.id, header.generation, p));
    } finally {
      for (const p of parts) p.fill(0);
    }
  } finally {
    unsealKey.destroy();
  }
  // Self-check from the text the operators get: every share takes part in one combination that unseals.
  for (const start of coveringWindows(header.shares, header.threshold)) {
    const window = shares.slice(start, start + header.threshold).map((s) => parseShare(s).bytes);
    const recovered = await recoverRootKey(seal, window);
    for (const b of window) b.fill(0);
    const same = recovered !== null && constantTimeEqual(recovered.reveal(), rootKey.reveal());
    recovered?.destroy();
    if (!same) throw new InternalError({ cause: new Error('local-sealed: the new shares do not recover the root key') });
  }
  return { seal, shares };
}

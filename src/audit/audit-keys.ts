/**
 * The audit keys: an Ed25519 checkpoint-signing key and an HMAC-SHA-256 key for sensitive values, each created once
 * per deployment and stored only wrapped by the root of trust (RootOfTrust.wrap with AAD binding id, purpose and
 * algorithm), so neither a database administrator nor a copy of the database can sign a checkpoint or compute a
 * keyed hash.
 * Invariants: the public key handed to verifiers is derived from the unwrapped private key, never read from storage
 * (a swapped public_key column changes nothing); a row that does not unwrap is ignored (and reported); keys are
 * versioned by id (`audit-signing-1`, `audit-hmac-1`, ...) and never deleted, so old checkpoints still verify and old
 * keyed hashes stay searchable; concurrent first starts race on the id and the loser loads the winner's key.
 * Signing happens in this process with the unwrapped key, also with the pkcs11 root (not inside the HSM).
 */
import { AlreadyExistsError } from '../errors/index.js';
import { SecretBytes, generateKeyPair, publicKeyFromPrivate, randomSecret, sign } from '../crypto/index.js';
import type { AuditChainStore, AuditKeyRecord } from '../ports/audit-chain-store.js';
import type { Clock } from '../ports/clock.js';
import type { RootOfTrust } from '../ports/root-of-trust.js';
import type { AuditHmacKey } from './sensitive.js';

export const SIGNING_ALGORITHM = 'ED25519';
export const HMAC_ALGORITHM = 'HMAC_SHA_256';

export interface AuditPublicKey {
  id: string;
  algorithm: string;
  /** SubjectPublicKeyInfo DER, base64. */
  publicKey: string;
  createdAt: Date;
}

export interface AuditSigner {
  readonly keyId: string;
  sign(payload: Uint8Array): Buffer;
}

export interface AuditKeyring {
  /** Loads (creating on first use) the keys. @throws SealedError while the root is sealed, DependencyError. */
  ensure(): Promise<void>;
  /** The current HMAC key, once loaded. */
  hmacKey(): AuditHmacKey | undefined;
  /** Every loaded HMAC key, oldest first (to search under each). */
  hmacKeys(): readonly AuditHmacKey[];
  /** The current signer, once loaded. */
  signer(): AuditSigner | undefined;
  /** The public halves of every loaded signing key (derived from the private keys). */
  publicKeys(): AuditPublicKey[];
}

export function auditKeyAad(record: Pick<AuditKeyRecord, 'id' | 'purpose' | 'algorithm'>): Uint8Array {
  return Buffer.from(`datadefender/audit-key/v1\0${record.id}\0${record.purpose}\0${record.algorithm}`, 'utf8');
}

interface Loaded {
  hmac: AuditHmacKey[];
  signing: { id: string; privateKey: SecretBytes; publicKey: Buffer; createdAt: Date }[];
}

export function createAuditKeyring(deps: { store: AuditChainStore; root: RootOfTrust; clock: Clock; onBadKey?: (id: string, err: unknown) => void }): AuditKeyring {
  const { store, root, clock } = deps;
  let loaded: Loaded | undefined;
  let loading: Promise<void> | undefined;

  async function create(purpose: 'signing' | 'hmac'): Promise<void> {
    const id = `audit-${purpose}-1`;
    const algorithm = purpose === 'signing' ? SIGNING_ALGORITHM : HMAC_ALGORITHM;
    const secret = purpose === 'signing' ? (await generateKeyPair('ECC_NIST_EDWARDS25519')).privateKey : randomSecret(32);
    const record = { id, purpose, algorithm };
    const wrapped = await root.wrap(secret, auditKeyAad(record));
    const publicKey = purpose === 'signing' ? publicKeyFromPrivate(secret) : null;
    try {
      await store.createAuditKey({ ...record, publicKey, wrapped, createdAt: clock.now() });
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err;
    }
  }

  async function load(): Promise<void> {
    let records = await store.listAuditKeys();
    const missing = (['signing', 'hmac'] as const).filter((p) => !records.some((r) => r.purpose === p));
    for (const purpose of missing) await create(purpose);
    if (missing.length > 0) records = await store.listAuditKeys();
    const next: Loaded = { hmac: [], signing: [] };
    for (const r of records) {
      let secret: SecretBytes;
      try {
        secret = await root.unwrap(r.wrapped, auditKeyAad(r));
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_INVALID_CIPHERTEXT') {
          deps.onBadKey?.(r.id, err);
          continue;
        }
        throw err;
      }
      if (r.purpose === 'hmac') next.hmac.push({ id: r.id, key: secret });
      else next.signing.push({ id: r.id, privateKey: secret, publicKey: publicKeyFromPrivate(secret), createdAt: r.createdAt });
    }
    loaded = next;
  }

  return {
    ensure() {
      if (loaded && loaded.hmac.length > 0 && loaded.signing.length > 0) return Promise.resolve();
      loading ??= load().finally(() => {
        loading = undefined;
      });
      return loading;
    },
    hmacKey: () => loaded?.hmac.at(-1),
    hmacKeys: () => loaded?.hmac ?? [],
    signer() {
      const current = loaded?.signing.at(-1);
      if (!current) return undefined;
      return { keyId: current.id, sign: (payload) => sign('ED25519_SHA_512', current.privateKey, payload, 'RAW') };
    },
    publicKeys: () =>
      (loaded?.signing ?? []).map((k) => ({ id: k.id, algorithm: SIGNING_ALGORITHM, publicKey: k.publicKey.toString('base64'), createdAt: k.createdAt })),
  };
}

/** A PEM SubjectPublicKeyInfo for an exported public key (what `audit verify --public-key` reads). */
export function publicKeyPem(key: AuditPublicKey): string {
  const b64 = key.publicKey.match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN PUBLIC KEY-----\n${b64}\n-----END PUBLIC KEY-----\n`;
}


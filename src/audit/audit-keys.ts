/**
 * The audit keys: a checkpoint-signing key and an HMAC-SHA-256 key for sensitive values, each created once per
 * deployment and stored only wrapped by the root of trust (RootOfTrust.wrap with AAD binding id, purpose and
 * algorithm), so neither a database administrator nor a copy of the database can sign a checkpoint or compute a
 * keyed hash.
 * The signing key is, with an HSM root (pkcs11, `signingKeys`), an ECDSA P-256 key pair generated and used inside
 * the token (`ECDSA_SHA_256`, DER signatures), whose wrapped row holds only a reference (store, label, public key);
 * with the other roots an Ed25519 key (`ED25519`) wrapped by the root and used in this process. A deployment that
 * gets an HSM root while its current signing key is in software makes a new one in the HSM; old keys stay.
 * Invariants: the public key handed to verifiers is derived from the unwrapped private key, or read from the HSM
 * (which must match the authenticated reference), never from the public_key column (a swapped column changes
 * nothing); a row that does not unwrap, or whose HSM key does not match, is ignored (and reported); keys are
 * versioned by id (`audit-signing-1`, `audit-hmac-1`, ...) and never deleted, so old checkpoints still verify and old
 * keyed hashes stay searchable; concurrent first starts race on the id and the loser loads the winner's key (and
 * destroys the HSM key it made); `forget` (at seal) drops every loaded key, so nothing in memory signs until the
 * keys are loaded again after an unseal.
 */
import { AlreadyExistsError, InvalidStateError } from '../errors/index.js';
import { SecretBytes, generateKeyPair, publicKeyFromPrivate, randomSecret, randomUuid, sign } from '../crypto/index.js';
import type { AuditChainStore, AuditKeyRecord } from '../ports/audit-chain-store.js';
import type { Clock } from '../ports/clock.js';
import type { RootOfTrust } from '../ports/root-of-trust.js';
import { decodeSigningKeyReference, encodeSigningKeyReference, type SigningKeyStore } from '../ports/signing-key-store.js';
import type { AuditHmacKey } from './sensitive.js';

/** The algorithm of a signing key in software (Ed25519, RFC 8032). */
export const SIGNING_ALGORITHM = 'ED25519';
/** The algorithm of a signing key in an HSM: ECDSA P-256 with SHA-256, DER signatures (as AWS KMS ECDSA_SHA_256). */
export const HSM_SIGNING_ALGORITHM = 'ECDSA_SHA_256';
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
  /** @throws DependencyError when the HSM is unavailable */
  sign(payload: Uint8Array): Promise<Buffer>;
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
  /** The public halves of every loaded signing key (derived from the private keys, or read from the HSM). */
  publicKeys(): AuditPublicKey[];
  /** Drops every loaded key (the root was sealed); `ensure` loads them again. */
  forget(): void;
}

export function auditKeyAad(record: Pick<AuditKeyRecord, 'id' | 'purpose' | 'algorithm'>): Uint8Array {
  return Buffer.from(`datadefender/audit-key/v1\0${record.id}\0${record.purpose}\0${record.algorithm}`, 'utf8');
}

/** A loaded signing key; `sign` is absent when this process cannot sign with it (its HSM is not reachable here). */
interface SigningEntry {
  id: string;
  algorithm: string;
  publicKey: Buffer;
  createdAt: Date;
  /** Where the private key is: `software`, or the SigningKeyStore kind (`pkcs11`). */
  place: string;
  sign?: (payload: Uint8Array) => Promise<Buffer>;
}

interface Loaded {
  hmac: AuditHmacKey[];
  signing: SigningEntry[];
}

/** An ECDSA signature r || s (IEEE P1363) as DER ECDSA-Sig-Value (SEC 1 v2 §C.8; what openssl and AWS KMS use). */
export function ecdsaSignatureDer(rs: Uint8Array): Buffer {
  const half = rs.length / 2;
  const integer = (bytes: Uint8Array): Buffer => {
    let v = Buffer.from(bytes);
    while (v.length > 1 && v[0] === 0) v = v.subarray(1);
    if (v[0]! & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
    return Buffer.concat([Buffer.from([0x02, v.length]), v]);
  };
  const body = Buffer.concat([integer(rs.subarray(0, half)), integer(rs.subarray(half))]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]); // at most 70 bytes for P-256: short-form length
}

/** Reports a key that is ignored (once per load). */
type BadKey = (id: string, err: unknown) => void;

const versionOf = (id: string): number => Number(/-(\d+)$/.exec(id)?.[1] ?? 0);

export function createAuditKeyring(deps: {
  store: AuditChainStore;
  root: RootOfTrust;
  /** With an HSM root: where the signing key is generated and used. */
  signingKeys?: SigningKeyStore;
  clock: Clock;
  onBadKey?: (id: string, err: unknown) => void;
}): AuditKeyring {
  const { store, root, signingKeys, clock } = deps;
  let loaded: Loaded | undefined;
  let loading: Promise<void> | undefined;

  async function save(record: AuditKeyRecord): Promise<boolean> {
    try {
      await store.createAuditKey(record);
      return true;
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err;
      return false;
    }
  }

  async function create(purpose: 'signing' | 'hmac', version: number): Promise<void> {
    const id = `audit-${purpose}-${version}`;
    if (purpose === 'signing' && signingKeys) {
      const record = { id, purpose, algorithm: HSM_SIGNING_ALGORITHM } as const;
      const label = `datadefender-audit-${randomUuid()}`;
      const publicKey = Buffer.from(await signingKeys.generate(label));
      try {
        const reference = SecretBytes.adopt(encodeSigningKeyReference({ store: signingKeys.kind, label, publicKey }));
        const wrapped = await root.wrap(reference, auditKeyAad(record)).finally(() => reference.destroy());
        if (await save({ ...record, publicKey, wrapped, createdAt: clock.now() })) return;
      } catch (err) {
        await signingKeys.destroy(label).catch(() => false);
        throw err;
      }
      await signingKeys.destroy(label); // lost the race: the winner's key is the one
      return;
    }
    const algorithm = purpose === 'signing' ? SIGNING_ALGORITHM : HMAC_ALGORITHM;
    const secret = purpose === 'signing' ? (await generateKeyPair('ECC_NIST_EDWARDS25519')).privateKey : randomSecret(32);
    const record = { id, purpose, algorithm };
    const wrapped = await root.wrap(secret, auditKeyAad(record));
    const publicKey = purpose === 'signing' ? publicKeyFromPrivate(secret) : null;
    await save({ ...record, publicKey, wrapped, createdAt: clock.now() });
  }

  /** The signing key of a record whose unwrapped bytes are `secret` (a reference to an HSM key, or an Ed25519 key). */
  async function signingEntry(r: AuditKeyRecord, secret: SecretBytes, badKey: BadKey): Promise<SigningEntry> {
    const reference = decodeSigningKeyReference(secret.reveal());
    if (!reference) {
      return { id: r.id, algorithm: SIGNING_ALGORITHM, publicKey: publicKeyFromPrivate(secret), createdAt: r.createdAt, place: 'software', sign: async (payload) => sign('ED25519_SHA_512', secret, payload, 'RAW') };
    }
    secret.destroy();
    const entry: SigningEntry = { id: r.id, algorithm: HSM_SIGNING_ALGORITHM, publicKey: Buffer.from(reference.publicKey), createdAt: r.createdAt, place: reference.store };
    if (!signingKeys || signingKeys.kind !== reference.store) return entry; // verifiable, not usable here
    let inHsm: Buffer;
    try {
      inHsm = Buffer.from(await signingKeys.publicKey(reference.label));
    } catch (err) {
      if (!(err instanceof InvalidStateError)) throw err; // the HSM is unavailable: fail, retry later
      badKey(r.id, err);
      return entry; // gone from the token: its checkpoints still verify
    }
    if (!inHsm.equals(entry.publicKey)) {
      badKey(r.id, new InvalidStateError(`The HSM key labelled "${reference.label}" is not audit key ${r.id}.`));
      return entry;
    }
    const hsm = signingKeys;
    return { ...entry, sign: async (payload) => ecdsaSignatureDer(await hsm.sign(reference.label, payload)) };
  }

  /**
   * Whether a new signing key is needed: an HSM is there and the current key (the newest that can sign here) is not
   * in it, or keys were read but none can sign here (they are in an HSM the configured root no longer reaches).
   * Keys that do not unwrap make none (another root: reported, never replaced behind the operator's back).
   */
  const needsNewSigningKey = (signing: SigningEntry[]): boolean => {
    const current = signing.filter((k) => k.sign).at(-1);
    return signingKeys ? current?.place !== signingKeys.kind : current === undefined && signing.length > 0;
  };

  async function read(records: AuditKeyRecord[], badKey: BadKey): Promise<Loaded> {
    const next: Loaded = { hmac: [], signing: [] };
    for (const r of records) {
      let secret: SecretBytes;
      try {
        secret = await root.unwrap(r.wrapped, auditKeyAad(r));
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_INVALID_CIPHERTEXT') {
          badKey(r.id, err);
          continue;
        }
        throw err;
      }
      if (r.purpose === 'hmac') {
        next.hmac.push({ id: r.id, key: secret });
        continue;
      }
      next.signing.push(await signingEntry(r, secret, badKey));
    }
    return next;
  }

  async function load(): Promise<void> {
    let records = await store.listAuditKeys();
    const missing = (['signing', 'hmac'] as const).filter((p) => !records.some((r) => r.purpose === p));
    for (const purpose of missing) await create(purpose, 1);
    if (missing.length > 0) records = await store.listAuditKeys();
    const reported = new Set<string>();
    const badKey: BadKey = (id, err) => {
      if (!reported.has(id)) deps.onBadKey?.(id, err);
      reported.add(id);
    };
    let next = await read(records, badKey);
    if (needsNewSigningKey(next.signing)) {
      const signingRecords = records.filter((r) => r.purpose === 'signing');
      await create('signing', Math.max(0, ...signingRecords.map((r) => versionOf(r.id))) + 1);
      next = await read(await store.listAuditKeys(), badKey);
    }
    loaded = next;
  }

  return {
    ensure() {
      if (loaded && loaded.hmac.length > 0 && loaded.signing.some((k) => k.sign)) return Promise.resolve();
      loading ??= load().finally(() => {
        loading = undefined;
      });
      return loading;
    },
    hmacKey: () => loaded?.hmac.at(-1),
    hmacKeys: () => loaded?.hmac ?? [],
    signer() {
      const current = loaded?.signing.filter((k) => k.sign).at(-1);
      if (!current?.sign) return undefined;
      return { keyId: current.id, sign: current.sign };
    },
    publicKeys: () =>
      (loaded?.signing ?? []).map((k) => ({ id: k.id, algorithm: k.algorithm, publicKey: k.publicKey.toString('base64'), createdAt: k.createdAt })),
    forget() {
      loaded = undefined;
    },
  };
}

/** A PEM SubjectPublicKeyInfo for an exported public key (what `audit verify --public-key` reads). */
export function publicKeyPem(key: AuditPublicKey): string {
  const b64 = key.publicKey.match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN PUBLIC KEY-----\n${b64}\n-----END PUBLIC KEY-----\n`;
}


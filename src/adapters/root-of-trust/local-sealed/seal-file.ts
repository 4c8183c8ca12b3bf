// The seal file of the local-sealed root of trust: the root key, sealed under the unseal key, and what describes it.
//
// Format (JSON, UTF-8, version 1):
//   { "format": "datadefender-local-sealed", "version": 1,
//     "id": "<uuid v4>",            the seal; fixed for the life of the root key, named (8 hex digits) in every share
//     "generation": 1,              the share set: 1 at init, +1 at every rekey (old sets stop working)
//     "threshold": M, "shares": N,
//     "sealedRoot": "<base64>",     crypto/key-wrap v1 (AES-256-GCM) of the 32-byte root key under the unseal key,
//                                   AAD = sealAad(...) below: binds format, version, id, generation, threshold, shares
//     "createdAt": "<ISO 8601>", "rekeyedAt": "<ISO 8601>" | null,
//     "rootKeys": [ { "rootKey": 2, "sealedRoot": "<base64>", "createdAt": "<ISO 8601>" }, ... ] }   (optional)
//                                   further root key generations (rotate-root), sealed under the same unseal key with
//                                   AAD = rootKeyAad(header, n); the root key of "sealedRoot" is root key 1
//
// Invariants: the file holds neither the root key nor the unseal key in clear (only the GCM ciphertext of the root
// key; the unseal key exists only as shares held by operators); it is created exclusively (never overwritten) with
// mode 0600 and replaced only atomically (temporary file, fsync, rename, directory fsync) with mode 0600; a file
// that is not exactly this format is refused with ValidationError, and an edited header fails the GCM tag at unseal.
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from '../../../crypto/index.js';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../../../errors/index.js';
import { MAX_SHARES } from './share-options.js';

export const SEAL_FORMAT = 'datadefender-local-sealed';
export const SEAL_VERSION = 1;
/** crypto/key-wrap v1 of a 32-byte key: format byte, 12-byte IV, 32 bytes, 16-byte tag. */
const SEALED_ROOT_BYTES = 1 + 12 + 32 + 16;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KEYS = ['format', 'version', 'id', 'generation', 'threshold', 'shares', 'sealedRoot', 'createdAt', 'rekeyedAt', 'rootKeys'] as const;

export interface SealFile {
  format: typeof SEAL_FORMAT;
  version: typeof SEAL_VERSION;
  id: string;
  generation: number;
  threshold: number;
  shares: number;
  sealedRoot: string;
  createdAt: string;
  rekeyedAt: string | null;
  /** Root keys 2, 3, ... (rotate-root), in order; absent when there is only root key 1. */
  rootKeys?: SealedRootKey[];
}

/** A further root key generation in the seal file. */
export interface SealedRootKey {
  rootKey: number;
  sealedRoot: string;
  createdAt: string;
}

/** Everything of a seal but the sealed roots: what the AAD binds. */
export type SealHeader = Omit<SealFile, 'sealedRoot' | 'rootKeys'>;

/**
 * The associated data of the sealed root: format label, version, id, generation, threshold and shares, NUL-separated
 * (no field can contain NUL: the id is a UUID, the rest are fixed labels and integers). Throws nothing.
 */
export function sealAad(h: SealHeader): Buffer {
  return Buffer.from([`${SEAL_FORMAT}/v${h.version}`, h.id, h.generation, h.threshold, h.shares].join('\0'), 'utf8');
}

/** The associated data of root key `rootKey` (>= 2): the seal's AAD and the root key number. Throws nothing. */
export function rootKeyAad(h: SealHeader, rootKey: number): Buffer {
  return Buffer.concat([sealAad(h), Buffer.from(`\0root-key\0${rootKey}`, 'utf8')]);
}

const isIsoTime = (v: unknown): v is string => typeof v === 'string' && !Number.isNaN(Date.parse(v)) && new Date(v).toISOString() === v;

/** The sealed root as bytes. Throws nothing (the file was validated when parsed). */
export function sealedRootBytes(seal: SealFile): Buffer {
  return Buffer.from(seal.sealedRoot, 'base64');
}

/**
 * Parses and checks the text of a seal file (`name` only appears in messages).
 * @throws ValidationError (ERR_VALIDATION) for anything but a version-1 seal file.
 */
export function parseSealFile(text: string, name: string): SealFile {
  const bad = (why: string) => new ValidationError(`The seal file ${name} is not a valid DataDefender seal file: ${why}.`);
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw bad('it is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('it is not a JSON object');
  if (v.format !== SEAL_FORMAT) throw bad(`its format is not "${SEAL_FORMAT}"`);
  if (v.version !== SEAL_VERSION) throw bad(`its version is not ${SEAL_VERSION}`);
  const extra = Object.keys(v).filter((k) => !(KEYS as readonly string[]).includes(k));
  if (extra.length > 0) throw bad(`unknown field ${JSON.stringify(extra[0])}`);
  if (typeof v.id !== 'string' || !UUID.test(v.id)) throw bad('its id is not a UUID');
  if (!Number.isSafeInteger(v.generation) || (v.generation as number) < 1) throw bad('its generation is not a positive integer');
  const shares = v.shares as number;
  const threshold = v.threshold as number;
  if (!Number.isInteger(shares) || shares < 1 || shares > MAX_SHARES) throw bad(`its share count is not an integer between 1 and ${MAX_SHARES}`);
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > shares || (threshold === 1 && shares > 1)) throw bad('its threshold does not fit its share count');
  const sealedRoot = v.sealedRoot;
  if (
    typeof sealedRoot !== 'string' ||
    Buffer.from(sealedRoot, 'base64').toString('base64') !== sealedRoot ||
    Buffer.from(sealedRoot, 'base64').length !== SEALED_ROOT_BYTES
  ) {
    throw bad('its sealed root is not a base64 sealed 256-bit key');
  }
  if (!isIsoTime(v.createdAt)) throw bad('its creation time is not an ISO 8601 time');
  if (v.rekeyedAt !== null && !isIsoTime(v.rekeyedAt)) throw bad('its rekey time is neither null nor an ISO 8601 time');
  const rootKeys = v.rootKeys === undefined ? undefined : parseRootKeys(v.rootKeys, bad);
  return {
    format: SEAL_FORMAT,
    version: SEAL_VERSION,
    id: v.id,
    generation: v.generation as number,
    threshold,
    shares,
    sealedRoot,
    createdAt: v.createdAt,
    rekeyedAt: v.rekeyedAt as string | null,
    ...(rootKeys === undefined ? {} : { rootKeys }),
  };
}

function parseRootKeys(value: unknown, bad: (why: string) => ValidationError): SealedRootKey[] {
  if (!Array.isArray(value) || value.length === 0) throw bad('its rootKeys is not a non-empty list');
  return value.map((entry: unknown, i) => {
    const e = entry as Record<string, unknown>;
    if (typeof e !== 'object' || e === null || Object.keys(e).some((k) => !['rootKey', 'sealedRoot', 'createdAt'].includes(k))) throw bad('a rootKeys entry is malformed');
    if (e.rootKey !== i + 2) throw bad('its rootKeys are not numbered 2, 3, ... in order');
    const sealed = e.sealedRoot;
    if (typeof sealed !== 'string' || Buffer.from(sealed, 'base64').toString('base64') !== sealed || Buffer.from(sealed, 'base64').length !== SEALED_ROOT_BYTES) {
      throw bad('a rootKeys entry is not a base64 sealed 256-bit key');
    }
    if (!isIsoTime(e.createdAt)) throw bad('a rootKeys entry has no ISO 8601 creation time');
    return { rootKey: i + 2, sealedRoot: sealed, createdAt: e.createdAt };
  });
}

/** The exact text written for `seal` (stable field order). Throws nothing. */
export function serializeSealFile(seal: SealFile): string {
  const ordered = Object.fromEntries(KEYS.map((k) => [k, seal[k]]));
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/**
 * Reads the seal file at `file` and returns its text and parsed form.
 * @throws NotFoundError (ERR_NOT_FOUND) when there is no file; ValidationError (ERR_VALIDATION) when it is not a seal file.
 */
export async function readSealFile(file: string): Promise<{ text: string; seal: SealFile }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(`The seal file ${file} does not exist; create it with operator init.`);
    }
    throw err;
  }
  return { text, seal: parseSealFile(text, file) };
}

/** Writes `text` to a new file (`wx`, mode 0600) and syncs it; removes the file if writing fails. */
async function writeNewFile(path: string, text: string): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
    await handle.close();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw err;
  }
}

/**
 * Creates the seal file; never overwrites one.
 * @throws AlreadyExistsError (ERR_ALREADY_EXISTS) when `file` exists.
 */
export async function createSealFile(file: string, seal: SealFile): Promise<void> {
  try {
    await writeNewFile(file, serializeSealFile(seal));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new AlreadyExistsError(`The seal file ${file} already exists; DataDefender never overwrites a seal (its root key would be lost).`);
    }
    throw err;
  }
}

/**
 * Replaces the seal file atomically: a temporary file beside it (mode 0600, synced), renamed over it, then the
 * directory synced, so a crash leaves either the old seal or the new one, never a mix. Returns the text written.
 */
export async function replaceSealFile(file: string, seal: SealFile): Promise<string> {
  const text = serializeSealFile(seal);
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeNewFile(temp, text);
  try {
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  try {
    const dir = await open(dirname(file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // Some platforms and file systems cannot fsync a directory; the rename itself is already atomic.
  }
  return text;
}

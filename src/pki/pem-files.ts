/**
 * Writing and reading certificate and key files.
 *
 * Invariants:
 * - A file is replaced atomically: written to a fresh temporary file in the same directory (created exclusively,
 *   already with its final mode), flushed, then renamed over the target. A crash leaves the old file or the new
 *   one, never a torn one, and a private key is never readable by others, not even for a moment.
 * - The mode is set explicitly after creation, so the process umask cannot loosen or tighten it.
 * - A missing file reads as `undefined`; every other read error is thrown.
 */
import { randomBytes } from 'node:crypto';
import { chmod, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** File mode of private keys: owner read/write only. */
export const PRIVATE_KEY_FILE_MODE = 0o600;
/** File mode of certificates: world-readable, owner-writable. */
export const CERTIFICATE_FILE_MODE = 0o644;
/** Mode of a directory holding private keys: owner only. */
export const KEY_DIRECTORY_MODE = 0o700;

/** Atomically replaces `file` with `content`, with exactly `mode`. Throws the file system error on failure. */
export async function writeFileAtomic(file: string, content: string, mode: number): Promise<void> {
  const temporary = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', mode);
  try {
    try {
      await handle.writeFile(content, 'utf8');
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Reads a UTF-8 file, or returns `undefined` when it does not exist. Throws any other file system error. */
export async function readFileIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Sets `file`'s mode to exactly `mode`. */
export async function enforceMode(file: string, mode: number): Promise<void> {
  await chmod(file, mode);
}

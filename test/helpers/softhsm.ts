// A throwaway SoftHSM2 for the tests of one file: a softhsm2.conf and a token directory in a temporary directory,
// and as many tokens in it as the tests need.
//
// SoftHSM2 reads SOFTHSM2_CONF when the module is initialized (C_Initialize), and a process has one instance of a
// module at a time (dlopen shares it; the pkcs11 adapter shares its initialization within the process). So one
// file = one process (vitest's forks pool) = one conf: startSoftHsm() sets process.env.SOFTHSM2_CONF once, before
// anything loads the module, refuses a second, different configuration in the same process, and createToken()
// adds tokens to the same token directory (softhsm2-util runs as a child process with the same conf; the module
// sees new tokens at its next initialization — the adapter initializes when it opens, if nobody holds the module).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pkcs11js from 'pkcs11js';
import type { Handle, PKCS11 } from 'pkcs11js';

const run = promisify(execFile);

export const SOFTHSM2_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const SO_PIN = '87654321';

/** Fails (never skips) when SoftHSM2 is not installed. */
export function assertSoftHsmInstalled(): void {
  if (!existsSync(SOFTHSM2_MODULE)) {
    throw new Error(`SoftHSM2 is required by the pkcs11 tests: ${SOFTHSM2_MODULE} is missing (apt-get install softhsm2).`);
  }
}

export interface SoftHsmToken {
  readonly label: string;
  readonly pin: string;
  /** The slot id SoftHSM2 assigned to the token. */
  readonly slotId: number;
  /** Moves the token's directory out of the token directory: the running module loses the token's objects. */
  takeOffline(): Promise<void>;
  /** Puts the directory back. */
  bringOnline(): Promise<void>;
}

export interface SoftHsm {
  readonly module: string;
  readonly dir: string;
  createToken(label: string, pin?: string): Promise<SoftHsmToken>;
  /** Removes the temporary directory (call after every adapter is closed). */
  close(): Promise<void>;
}

let current: string | undefined;

export async function startSoftHsm(): Promise<SoftHsm> {
  assertSoftHsmInstalled();
  if (current !== undefined) throw new Error('One SoftHSM2 configuration per test process: share the SoftHsm of this file.');
  const dir = await mkdtemp(join(tmpdir(), 'dd-softhsm-'));
  const tokens = join(dir, 'tokens');
  const offline = join(dir, 'offline');
  await mkdir(tokens);
  await mkdir(offline);
  const conf = join(dir, 'softhsm2.conf');
  await writeFile(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = conf;
  current = conf;
  const env = { ...process.env, SOFTHSM2_CONF: conf };

  return {
    module: SOFTHSM2_MODULE,
    dir,
    async createToken(label, pin = '1234') {
      const before = new Set(await readdir(tokens));
      const { stdout } = await run('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', SO_PIN, '--pin', pin], { env });
      const slot = /reassigned to slot (\d+)/.exec(stdout);
      if (!slot) throw new Error(`softhsm2-util did not report the new token's slot: ${stdout}`);
      const created = (await readdir(tokens)).filter((name) => !before.has(name));
      if (created.length !== 1) throw new Error('softhsm2-util did not create exactly one token directory');
      const name = created[0]!;
      return {
        label,
        pin,
        slotId: Number(slot[1]),
        takeOffline: () => rename(join(tokens, name), join(offline, name)),
        bringOnline: () => rename(join(offline, name), join(tokens, name)),
      };
    },
    async close() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `fn` with a logged-in read-write session on the token, through pkcs11js directly (a second handle on the
 * same module instance). Initializes the module only if nothing in the process has (and then finalizes it after).
 */
export async function withRawSession<T>(
  softhsm: SoftHsm,
  token: SoftHsmToken,
  fn: (api: PKCS11, session: Handle, slot: Handle) => T | Promise<T>,
): Promise<T> {
  const api = new pkcs11js.PKCS11();
  api.load(softhsm.module);
  let initializedHere = true;
  try {
    api.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (err) {
    if ((err as Error).message !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw err;
    initializedHere = false;
  }
  try {
    const slot = api.C_GetSlotList(true).find((s) => api.C_GetTokenInfo(s).label.trimEnd() === token.label);
    if (!slot) throw new Error(`token ${token.label} not found`);
    const session = api.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      try {
        api.C_Login(session, pkcs11js.CKU_USER, token.pin);
      } catch (err) {
        if ((err as Error).message !== 'CKR_USER_ALREADY_LOGGED_IN') throw err;
      }
      return await fn(api, session, slot);
    } finally {
      try {
        api.C_CloseSession(session);
      } catch {
        // closed by fn (C_CloseAllSessions)
      }
    }
  } finally {
    if (initializedHere) api.C_Finalize();
  }
}

// The cost of the pkcs11 root of trust around the HSM: AES-256-GCM wraps of 32-byte key material in SoftHSM2 through
// the adapter's wrap (session pool, fresh IV, format, error mapping) against the same C_EncryptInit + C_Encrypt
// through pkcs11js directly, in the same run: same token, same key, same number of sessions and concurrent callers,
// asynchronous C_Encrypt in both, median of interleaved rounds (target: adapter >= 0.80x raw).
// Needs SoftHSM2 (apt-get install softhsm2) and a build (npm run build).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pkcs11js from 'pkcs11js';
import { createPkcs11RootKey, openPkcs11RootOfTrust } from '../dist/adapters/root-of-trust/pkcs11/index.js';
import { SecretBytes } from '../dist/crypto/index.js';
import { fmt, median, printTable } from './stats.js';

const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const CONCURRENCY = Number(process.env.BENCH_PKCS11_CONCURRENCY ?? 4);
const DURATION_MS = Number(process.env.BENCH_PKCS11_MS ?? 2000);
const ROUNDS = 3;
const PAYLOAD = 32;
const TOKEN = 'dd-bench';
const PIN = 'bench-pin';
const KEY = 'datadefender-root';
const AAD = Buffer.from('key/00000000-0000-4000-8000-000000000001/v1');

/** Operations per second of `op` run by CONCURRENCY callers, each in a loop, for DURATION_MS. */
async function rate(op) {
  const end = performance.now() + DURATION_MS;
  let done = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      while (performance.now() < end) {
        await op(worker);
        done++;
      }
    }),
  );
  return (done * 1000) / (performance.now() - t0);
}

/** The baseline: one session per caller, the calls the adapter makes, nothing else. */
function rawEncrypter() {
  const api = new pkcs11js.PKCS11();
  api.load(MODULE);
  let initializedHere = true;
  try {
    api.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (err) {
    if (err.message !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw err;
    initializedHere = false; // the adapter holds the module: same instance, same token state
  }
  const slot = api.C_GetSlotList(true).find((s) => api.C_GetTokenInfo(s).label.trimEnd() === TOKEN);
  const sessions = Array.from({ length: CONCURRENCY }, () => api.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION));
  try {
    api.C_Login(sessions[0], pkcs11js.CKU_USER, PIN);
  } catch (err) {
    if (err.message !== 'CKR_USER_ALREADY_LOGGED_IN') throw err;
  }
  api.C_FindObjectsInit(sessions[0], [{ type: pkcs11js.CKA_LABEL, value: KEY }]);
  const [key] = api.C_FindObjects(sessions[0], 1);
  api.C_FindObjectsFinal(sessions[0]);
  const aad = Buffer.concat([Buffer.from([1]), AAD]);
  const plaintext = randomBytes(PAYLOAD);
  return {
    async encrypt(worker) {
      const session = sessions[worker];
      const iv = randomBytes(12);
      api.C_EncryptInit(session, { mechanism: pkcs11js.CKM_AES_GCM, parameter: { type: pkcs11js.CK_PARAMS_GCM, iv, ivBits: 96, aad, tagBits: 128 } }, key);
      return api.C_EncryptAsync(session, plaintext, Buffer.alloc(PAYLOAD + 16));
    },
    close() {
      for (const s of sessions) api.C_CloseSession(s);
      if (initializedHere) api.C_Finalize();
    },
  };
}

export async function benchPkcs11Wrap() {
  const dir = await mkdtemp(join(tmpdir(), 'dd-bench-pkcs11-'));
  const previousConf = process.env.SOFTHSM2_CONF;
  let root;
  let raw;
  try {
    await mkdir(join(dir, 'tokens'));
    const conf = join(dir, 'softhsm2.conf');
    await writeFile(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    process.env.SOFTHSM2_CONF = conf; // read by SoftHSM2 at C_Initialize
    await promisify(execFile)('softhsm2-util', ['--init-token', '--free', '--label', TOKEN, '--so-pin', '12345678', '--pin', PIN], { env: process.env });
    const options = { modulePath: MODULE, tokenLabel: TOKEN, pin: PIN, keyLabel: KEY };
    await createPkcs11RootKey(options);
    root = await openPkcs11RootOfTrust({ ...options, sessions: CONCURRENCY });
    raw = rawEncrypter();
    const material = SecretBytes.copyOf(randomBytes(PAYLOAD));
    const viaAdapter = () => root.wrap(material, AAD);
    // Warm-up: JIT, the module's caches, libuv's threads.
    for (let i = 0; i < 200; i++) {
      await raw.encrypt(0);
      await viaAdapter();
    }
    const results = { raw: [], adapter: [] };
    for (let round = 0; round < ROUNDS; round++) {
      results.raw.push(await rate((w) => raw.encrypt(w)));
      results.adapter.push(await rate(viaAdapter));
    }
    const summary = { raw: median(results.raw), adapter: median(results.adapter) };
    printTable(
      `pkcs11 root of trust: AES-256-GCM wrap of ${PAYLOAD}-byte key material in SoftHSM2, ${CONCURRENCY} sessions and callers, median of ${ROUNDS} interleaved ${DURATION_MS / 1000}s rounds`,
      [
        ['path', 'wraps/s', 'rounds'],
        ['pkcs11js C_EncryptInit + C_EncryptAsync (baseline)', fmt(summary.raw), results.raw.map((r) => fmt(r)).join(' / ')],
        ['adapter wrap()', fmt(summary.adapter), results.adapter.map((r) => fmt(r)).join(' / ')],
      ],
    );
    const ratio = summary.adapter / summary.raw;
    console.log(`  ratio adapter / raw: ${ratio.toFixed(2)}x  (target >= 0.80x)`);
    return { ...summary, ratio };
  } finally {
    raw?.close();
    await root?.close();
    if (previousConf === undefined) delete process.env.SOFTHSM2_CONF;
    else process.env.SOFTHSM2_CONF = previousConf;
    await rm(dir, { recursive: true, force: true });
  }
}

// Encrypt of 1 KiB over HTTPS (native API, keep-alive) on a server whose root of trust is a SoftHSM2 token (pkcs11,
// set up with `operator init --root-of-trust pkcs11 --create-key`) against a dev server on the local root, in the
// same run, interleaved rounds (http-load.js interleavedRounds; the ratio is of the medians). Both serve from the
// cache of unwrapped key versions (the HSM is off the hot path once a version is unwrapped), so the ratio shows what
// the pkcs11 root costs on the cached path (target >= 0.90x).
// Needs SoftHSM2 (apt-get install softhsm2) and a build (npm run build).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CONNECTIONS, DURATION, RATIO_ROUNDS, ROOT, interleavedRounds, post, startProcess, stopProcess } from './http-load.js';
import { fmt, printRatio, printTable, roundsColumn } from './stats.js';

const run = promisify(execFile);
const BIN = join(ROOT, 'bin/datadefender.js');

/** A data engineer's token on the server `admin` administers, and a key to encrypt under. */
async function encryptTarget(admin, name) {
  await post(admin, '/v1/principals', { name, roles: ['data-engineer'] });
  const { token } = await post(admin, `/v1/principals/${name}/tokens`, {});
  const engineer = { ...admin, token: token.token };
  const { key } = await post(engineer, '/v1/keys', { description: 'bench' });
  const body = JSON.stringify({ keyId: key.keyId, plaintext: Buffer.alloc(1024, 7).toString('base64'), encryptionContext: { tenant: 'bench' } });
  return { url: `${admin.endpoint}/v1/encrypt`, body, headers: { authorization: `Bearer ${engineer.token}`, 'content-type': 'application/json' } };
}

export async function benchRootEncrypt() {
  const dir = await mkdtemp(join(tmpdir(), 'dd-bench-root-'));
  const [localPort, hsmPort] = [21443, 22443].map((p) => p + Math.floor(Math.random() * 1000));
  const children = [];
  try {
    await mkdir(join(dir, 'tokens'));
    const conf = join(dir, 'softhsm2.conf');
    await writeFile(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    const pinFile = join(dir, 'pin');
    await writeFile(pinFile, 'bench-pin\n', { mode: 0o600 });
    const hsmEnv = {
      SOFTHSM2_CONF: conf,
      DATADEFENDER_ROOT_OF_TRUST: 'pkcs11',
      DATADEFENDER_PKCS11_MODULE: '/usr/lib/softhsm/libsofthsm2.so',
      DATADEFENDER_PKCS11_TOKEN_LABEL: 'dd-bench',
      DATADEFENDER_PKCS11_KEY_LABEL: 'datadefender-root',
      DATADEFENDER_PKCS11_PIN_FILE: pinFile,
    };
    await run('softhsm2-util', ['--init-token', '--free', '--label', 'dd-bench', '--so-pin', '12345678', '--pin', 'bench-pin'], { env: { ...process.env, SOFTHSM2_CONF: conf } });
    const hsmData = join(dir, 'hsm');
    await run(process.execPath, [BIN, 'operator', 'init', '--create-key', '--data-dir', hsmData, '--listen', `127.0.0.1:${hsmPort}`], { env: { ...process.env, ...hsmEnv } });
    children.push(await startProcess([BIN, 'server', '--workers', '1', '--data-dir', hsmData, '--listen', `127.0.0.1:${hsmPort}`], 'ready', hsmEnv));
    children.push(await startProcess([BIN, 'server', '--dev', '--workers', '1', '--data-dir', join(dir, 'local'), '--listen', `127.0.0.1:${localPort}`], 'ready'));

    const credentials = async (file) => {
      const c = JSON.parse(await readFile(file, 'utf8'));
      return { ...c, ca: await readFile(c.caCertFile) };
    };
    const local = await encryptTarget(await credentials(join(dir, 'local', 'dev-credentials.json')), 'bench-engineer');
    const pkcs11 = await encryptTarget(await credentials(join(hsmData, 'admin-credentials.json')), 'bench-engineer');
    const summary = await interleavedRounds({ local: async () => local, pkcs11: async () => pkcs11 });
    printTable(`Encrypt (native API, 1 KiB) by root of trust, ${CONNECTIONS} connections, median of ${RATIO_ROUNDS} interleaved ${DURATION}s rounds`, [
      ['root of trust', 'req/s', 'p50 ms', 'p99 ms', 'rounds req/s'],
      ['local (dev, baseline)', fmt(summary.local.rps), fmt(summary.local.p50, 1), fmt(summary.local.p99, 1), roundsColumn(summary.local)],
      ['pkcs11 (SoftHSM2)', fmt(summary.pkcs11.rps), fmt(summary.pkcs11.p50, 1), fmt(summary.pkcs11.p99, 1), roundsColumn(summary.pkcs11)],
    ]);
    const ratio = printRatio('pkcs11 / local', summary.pkcs11, summary.local, 0.9);
    return { ...summary, ratio };
  } finally {
    await Promise.all(children.map((child) => stopProcess(child)));
    await rm(dir, { recursive: true, force: true });
  }
}

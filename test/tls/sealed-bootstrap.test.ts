/**
 * The production path of the built-in CA (local-sealed root, dist/): `operator init` leaves a file-based bootstrap
 * CA (the server must speak TLS while sealed, to receive unseal shares); the first unseal makes the built-in CA take
 * it over — its key then exists only wrapped by the root of trust and the key file is removed — and a certificate
 * from the built-in CA is swapped in within seconds, still verifying with the `ca.pem` clients were given. A sealed
 * restart then serves the built-in CA's last certificate.
 */
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCli, spawnServer, type RunningProcess } from '../helpers/dev-server.js';

function servedCertificate(port: number, ca: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.destroy();
      cert ? resolve(cert) : reject(new Error('no certificate'));
    });
    socket.on('error', reject);
  });
}

const exists = (file: string) => stat(file).then(() => true, () => false);

describe('built-in CA on a sealed production server', () => {
  let dir: string;
  let dataDir: string;
  let shareDir: string;
  let port: number;
  let server: RunningProcess | undefined;
  const creds = () => join(dataDir, 'admin-credentials.json');
  const cli = (...args: string[]) => runCli([...args, '--credentials', creds()]);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-sealed-tls-'));
    dataDir = join(dir, 'data');
    shareDir = join(dir, 'shares');
    await mkdir(shareDir);
    port = await freePort();
    const init = await runCli(['operator', 'init', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--shares', '2', '--threshold', '2', '--share-dir', shareDir]);
    expect(init.code, init.stderr).toBe(0);
    server = await spawnServer(['--data-dir', dataDir, '--listen', `127.0.0.1:${port}`]);
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the bootstrap certificate while sealed, then the built-in CA takes over after the unseal', async () => {
    const ca = await readFile(join(dataDir, 'tls', 'ca.pem'), 'utf8');
    const before = await servedCertificate(port, ca);
    expect(await exists(join(dataDir, 'tls', 'ca-key.pem'))).toBe(true);
    const first = await cli('operator', 'unseal', '--share-file', join(shareDir, 'unseal-share-1.txt'));
    const nonce = /--nonce (\S+)/.exec(first.stdout)?.[1];
    const second = await cli('operator', 'unseal', '--share-file', join(shareDir, 'unseal-share-2.txt'), '--nonce', nonce!);
    expect(second.stdout).toMatch(/Unsealed/);
    let after = before;
    for (let i = 0; i < 100 && after.serialNumber === before.serialNumber; i++) {
      await new Promise((r) => setTimeout(r, 200));
      after = await servedCertificate(port, ca);
    }
    expect(after.serialNumber).not.toBe(before.serialNumber);
    // Same CA (taken over), so the ca.pem handed out by operator init still verifies; the key file is gone.
    expect(after.checkIssued(new X509Certificate(ca))).toBe(true);
    expect(await exists(join(dataDir, 'tls', 'ca-key.pem'))).toBe(false);
    const status = await cli('--json', 'pki', 'status');
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout);
    expect(report.authorities).toEqual([expect.objectContaining({ kind: 'root', state: 'active' })]);
    expect(report.serverCertificate).toMatchObject({ source: 'built-in', serial: after.serialNumber.toLowerCase() });
  }, 60_000);

  it('restarts sealed serving the built-in CA certificate it wrote', async () => {
    const ca = await readFile(join(dataDir, 'tls', 'ca.pem'), 'utf8');
    const last = await servedCertificate(port, ca);
    await server?.stop();
    server = await spawnServer(['--data-dir', dataDir, '--listen', `127.0.0.1:${port}`]);
    expect((await servedCertificate(port, ca)).serialNumber).toBe(last.serialNumber);
    expect(server.stderr()).not.toMatch(/bootstrap/);
  }, 60_000);
});

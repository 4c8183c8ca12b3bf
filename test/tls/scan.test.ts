/**
 * The TLS policy of the real server (dist/, dev mode, built-in CA) as outside tools see it:
 * - sslscan (Debian package `sslscan`): no SSL 2/3, TLS 1.0 or 1.1; only TLS 1.2 ECDHE + AEAD and TLS 1.3 suites,
 *   each forward-secret; the server's preference order; an ECDSA P-256 certificate; no renegotiation;
 * - openssl s_client per protocol and per weak TLS 1.2 suite: refused;
 * - HSTS and nosniff on every kind of response.
 * A permissive control server (Node's TLS with TLS 1.0 and @SECLEVEL=0) is scanned by the same tools, so each
 * "refused" is the policy's doing and not a limit of the local OpenSSL.
 */
import { spawn } from 'node:child_process';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';
import { httpsCall } from './tls-helpers.js';

function tool(command: string, args: string[], timeoutMs = 120_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

interface Scan {
  protocols: Record<string, string>;
  ciphers: { preferred: boolean; protocol: string; name: string; kex: string }[];
  output: string;
}

async function sslscan(port: number): Promise<Scan> {
  const { output } = await tool('sslscan', ['--no-colour', '--no-heartbleed', '--no-compression', `127.0.0.1:${port}`]);
  const protocols = Object.fromEntries([...output.matchAll(/^(SSLv2|SSLv3|TLSv1\.[0-3])\s+(enabled|disabled)$/gm)].map((m) => [m[1]!, m[2]!]));
  const ciphers = [...output.matchAll(/^(Preferred|Accepted)\s+(\S+)\s+\d+ bits\s+(\S+)\s*(.*)$/gm)].map((m) => ({ preferred: m[1] === 'Preferred', protocol: m[2]!, name: m[3]!, kex: m[4]!.trim() }));
  return { protocols, ciphers, output };
}

/** `openssl s_client` with everything the local OpenSSL can offer (@SECLEVEL=0); true when a session was agreed. */
async function sClient(port: number, args: string[]): Promise<{ agreed: boolean; output: string }> {
  const { output } = await tool('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...args], 15_000);
  const line = /^New, (\S+), Cipher is (\S+)$/m.exec(output);
  return { agreed: !!line && line[2] !== '(NONE)', output };
}

const TLS12_ALLOWED = /^ECDHE-(ECDSA|RSA)-(AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20-POLY1305)$/;
const TLS13_ALLOWED = new Set(['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256']);
/** Weak TLS 1.2 suites an ECDSA server could negotiate if its policy allowed them (CBC, SHA-1 MAC, NULL). */
const WEAK_SUITES = ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA', 'ECDHE-ECDSA-AES128-SHA256', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-ECDSA-NULL-SHA'];

describe('TLS policy of the running server, scanned', () => {
  let dir: string;
  let server: DevServer;
  let control: Server;
  let controlPort: number;
  let ca: string;
  let scan: Scan;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-scan-'));
    server = await startDevServer(dir);
    ca = await readFile(server.credentials.caCertFile, 'utf8');
    control = createServer(
      {
        cert: await readFile(join(dir, 'tls', 'server.pem')),
        key: await readFile(join(dir, 'tls', 'server-key.pem')),
        minVersion: 'TLSv1',
        ciphers: 'ALL:eNULL:@SECLEVEL=0',
      },
      (_req, res) => res.end('control'),
    );
    await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
    controlPort = (control.address() as AddressInfo).port;
    scan = await sslscan(server.port);
  }, 180_000);

  afterAll(async () => {
    control?.closeAllConnections();
    await new Promise((resolve) => control?.close(resolve));
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('sslscan: TLS 1.2 and 1.3 only', () => {
    expect(scan.protocols, scan.output).toEqual({ SSLv2: 'disabled', SSLv3: 'disabled', 'TLSv1.0': 'disabled', 'TLSv1.1': 'disabled', 'TLSv1.2': 'enabled', 'TLSv1.3': 'enabled' });
  });

  it('sslscan: only ECDHE + AEAD suites, every one forward-secret, in the server order', () => {
    expect(scan.ciphers.length, scan.output).toBeGreaterThanOrEqual(4);
    for (const c of scan.ciphers) {
      if (c.protocol === 'TLSv1.3') expect(TLS13_ALLOWED.has(c.name), c.name).toBe(true);
      else {
        expect(c.protocol).toBe('TLSv1.2');
        expect(c.name, c.name).toMatch(TLS12_ALLOWED);
      }
      expect(c.kex, `${c.name} must use an ephemeral key exchange`).toMatch(/Curve|DHE|P-256|x25519/i);
    }
    expect(scan.output).not.toMatch(/CBC|RC4|DES|NULL|EXP|MD5|Accepted\s+TLSv1\.2\s+\d+ bits\s+(AES|DHE-)/);
    expect(scan.ciphers.find((c) => c.preferred && c.protocol === 'TLSv1.2')?.name).toBe('ECDHE-ECDSA-AES128-GCM-SHA256');
  });

  it('sslscan: ECDSA P-256 certificate signed with SHA-256, no renegotiation', () => {
    expect(scan.output).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
    expect(scan.output).toMatch(/ECC Curve Name:\s+prime256v1/);
    expect(scan.output).toContain('Session renegotiation not supported');
  });

  it('control: the same sslscan finds TLS 1.0 and CBC suites on a permissive server', async () => {
    const permissive = await sslscan(controlPort);
    expect(permissive.protocols['TLSv1.0'], permissive.output).toBe('enabled');
    expect(permissive.ciphers.some((c) => /-SHA$/.test(c.name))).toBe(true);
  });

  it.each([
    ['TLS 1.0', ['-tls1']],
    ['TLS 1.1', ['-tls1_1']],
  ])('s_client: %s is refused (and accepted by the control)', async (_name, args) => {
    const weak = [...args, '-cipher', 'DEFAULT:@SECLEVEL=0'];
    expect((await sClient(controlPort, weak)).agreed).toBe(true);
    const result = await sClient(server.port, weak);
    expect(result.agreed, result.output).toBe(false);
  });

  it.each([
    ['TLS 1.2', ['-tls1_2']],
    ['TLS 1.3', ['-tls1_3']],
  ])('s_client: %s is agreed, verified against the built-in CA', async (_name, args) => {
    const result = await sClient(server.port, [...args, '-CAfile', server.credentials.caCertFile, '-verify_return_error']);
    expect(result.agreed, result.output).toBe(true);
    expect(result.output).toContain('Verify return code: 0 (ok)');
  });

  it.each(WEAK_SUITES)('s_client: TLS 1.2 suite %s is refused (and accepted by the control)', async (suite) => {
    const args = ['-tls1_2', '-cipher', `${suite}:@SECLEVEL=0`];
    expect((await sClient(controlPort, args)).agreed).toBe(true);
    const result = await sClient(server.port, args);
    expect(result.agreed, result.output).toBe(false);
  });

  it('sets HSTS and nosniff on every response: public, error, not found, binary, AWS API', async () => {
    const endpoint = server.credentials.endpoint;
    const responses = await Promise.all([
      httpsCall(endpoint, { ca }, 'GET', '/v1/health'),
      httpsCall(endpoint, { ca }, 'GET', '/v1/keys'),
      httpsCall(endpoint, { ca }, 'GET', '/no/such/route'),
      httpsCall(endpoint, { ca }, 'GET', '/v1/pki/crl'),
      httpsCall(endpoint, { ca }, 'POST', '/', { body: {} }),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 401, 401, 200, expect.any(Number)]);
    for (const r of responses) {
      expect(r.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    }
  });
});

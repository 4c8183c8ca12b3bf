/**
 * The server TLS policy under real handshakes: OpenSSL's s_client and Node's own client against a `node:https`
 * server built with `serverTlsOptions`, using certificates from the dev CA.
 *
 * How a refused handshake is asserted: `openssl s_client` prints `Protocol  : TLSv1.1` in its session summary even
 * when the server refused that version (it echoes what the client attempted), so that line proves nothing. A refusal
 * here means all of: a non-zero exit status, the summary line `New, (NONE), Cipher is (NONE)`, and a `tlsClientError`
 * on the server naming the reason (unsupported protocol / no shared cipher). The last one also proves the client did
 * offer the thing being refused: depending on its build and openssl.cnf (system-wide MinProtocol / SECLEVEL, as some
 * Debian releases set), an OpenSSL 3 client may refuse TLS 1.1 or a weak suite on its own, which would make a
 * "refused" test pass without ever reaching our server. So the client runs with `@SECLEVEL=0`, and the test fails
 * if the client reports `no protocols available` or `no cipher match`.
 * Control servers with Node's default TLS options accept what ours refuses, so each refusal is the policy's doing.
 */
import { execFile, spawn } from 'node:child_process';
import { constants } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, request, type RequestOptions, type Server, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECURITY_HEADERS, serverTlsOptions } from '../../src/http/tls.js';
import { loadCertificateIssuer } from '../../src/pki/certificate-issuer.js';
import { ensureDevCertificates, type DevCertificates } from '../../src/pki/dev-ca.js';
import { EXTENDED_KEY_USAGE, issueCertificate } from '../../src/pki/issue-certificate.js';
import { exportPrivateKeyPem, generateEcdsaKeyPair } from '../../src/pki/key-pair.js';

const DAY = 24 * 60 * 60 * 1000;

interface TestServer {
  server: Server;
  port: number;
  /** Error codes of handshakes the server refused, in order. */
  clientErrors: string[];
}

async function startServer(options: ServerOptions): Promise<TestServer> {
  const clientErrors: string[] = [];
  const server = createServer(options, (req, res) => {
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerCertificate();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        protocol: socket.getProtocol(),
        cipher: socket.getCipher().name,
        authorized: socket.authorized,
        authorizationError: socket.authorizationError ?? null,
        peerSubject: peer && 'subject' in peer && peer.subject ? peer.subject.CN : null,
      }),
    );
  });
  server.on('tlsClientError', (error: NodeJS.ErrnoException) => clientErrors.push(error.code ?? error.message));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, clientErrors };
}

async function stopServer(test: TestServer | undefined): Promise<void> {
  if (!test) return;
  test.server.closeAllConnections();
  await new Promise<void>((resolve) => test.server.close(() => resolve()));
}

interface SClientResult {
  code: number | null;
  output: string;
  /** Protocol and cipher from the `New, <protocol>, Cipher is <cipher>` line; undefined when none was agreed. */
  negotiated?: { protocol: string; cipher: string };
}

/** Runs `openssl s_client` with stdin closed (so it quits after the handshake) and a hard timeout. */
function sClient(port: number, args: string[]): Promise<SClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 10_000,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = /^New, (\S+), Cipher is (\S+)$/m.exec(output);
      const negotiated = line && line[1] !== '(NONE)' && line[2] !== '(NONE)' ? { protocol: line[1]!, cipher: line[2]! } : undefined;
      resolve({ code, output, ...(negotiated ? { negotiated } : {}) });
    });
  });
}

/** Waits briefly for the server to report a refused handshake (it is reported asynchronously). */
async function nextClientError(test: TestServer, before: number): Promise<string | undefined> {
  for (let i = 0; i < 50 && test.clientErrors.length <= before; i++) await new Promise((r) => setTimeout(r, 20));
  return test.clientErrors[before];
}

/** Asserts that the handshake was refused by the server (see the header comment), with the given server error. */
async function expectRefused(test: TestServer, args: string[], serverError: string): Promise<void> {
  const before = test.clientErrors.length;
  const result = await sClient(test.port, args);
  expect(result.output, 'the client must really offer it').not.toMatch(/no protocols available|no cipher match|no ciphers available/i);
  expect(result.negotiated, result.output).toBeUndefined();
  expect(result.output).toContain('New, (NONE), Cipher is (NONE)');
  expect(result.code).not.toBe(0);
  expect(await nextClientError(test, before)).toBe(serverError);
}

interface Response {
  status: number;
  headers: import('node:http').IncomingHttpHeaders;
  body: { protocol: string; cipher: string; authorized: boolean; authorizationError: string | null; peerSubject: string | null };
}

function get(url: string, options: RequestOptions): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: 10_000, ...options }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as Response['body'] }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const run = promisify(execFile);

describe('server TLS policy', () => {
  let base: string;
  let dev: DevCertificates;
  let ecdsa: TestServer;
  let rsa: TestServer;
  let ecdsaDefaults: TestServer;
  let rsaDefaults: TestServer;
  let rsaCert: string;
  let rsaKey: string;
  const verifyArgs = () => ['-CAfile', dev.caCertFile, '-verify_return_error', '-verify_hostname', 'localhost'];

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'dd-tls-'));
    dev = await ensureDevCertificates(join(base, 'tls'), { hosts: ['127.0.0.1'] });
    // An RSA certificate, so that suites with RSA key exchange or RSA authentication are possible at all: refusing
    // AES128-SHA256 on an ECDSA-only server would prove nothing about the policy.
    const rsaCertFile = join(base, 'rsa.pem');
    const rsaKeyFile = join(base, 'rsa-key.pem');
    await run('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment', '-addext', 'extendedKeyUsage=serverAuth',
      '-keyout', rsaKeyFile, '-out', rsaCertFile,
    ], { timeout: 20_000 });
    rsaCert = await readFile(rsaCertFile, 'utf8');
    rsaKey = await readFile(rsaKeyFile, 'utf8');

    ecdsa = await startServer(serverTlsOptions({ certPem: dev.certPem, keyPem: dev.keyPem }));
    rsa = await startServer(serverTlsOptions({ certPem: rsaCert, keyPem: rsaKey }));
    ecdsaDefaults = await startServer({ cert: dev.certPem, key: dev.keyPem });
    rsaDefaults = await startServer({ cert: rsaCert, key: rsaKey });
  });

  afterAll(async () => {
    await Promise.all([ecdsa, rsa, ecdsaDefaults, rsaDefaults].map(stopServer));
    await rm(base, { recursive: true, force: true });
  });

  it('sets the documented options', () => {
    const options = serverTlsOptions({ certPem: 'c', keyPem: 'k' });
    expect(options).toMatchObject({ minVersion: 'TLSv1.2', honorCipherOrder: true, ecdhCurve: 'X25519:P-256:P-384' });
    expect(options.ciphers?.split(':')).not.toContain('');
    expect(Number(options.secureOptions) & constants.SSL_OP_NO_TICKET).toBeTruthy();
    expect(Number(options.secureOptions) & constants.SSL_OP_NO_RENEGOTIATION).toBeTruthy();
    expect(options).not.toHaveProperty('requestCert');
    expect(options).not.toHaveProperty('ca');
  });

  it('sets the mutual TLS modes: off, optional (default with a CA), required; CRLs passed through', () => {
    expect(serverTlsOptions({ certPem: 'c', keyPem: 'k', caPem: 'ca', clientAuth: 'off' })).not.toHaveProperty('requestCert');
    expect(serverTlsOptions({ certPem: 'c', keyPem: 'k', caPem: 'ca' })).toMatchObject({ ca: 'ca', requestCert: true, rejectUnauthorized: false });
    expect(serverTlsOptions({ certPem: 'c', keyPem: 'k', caPem: 'ca', crlPems: ['crl'], clientAuth: 'required' })).toMatchObject({ ca: 'ca', crl: ['crl'], requestCert: true, rejectUnauthorized: true });
    expect(() => serverTlsOptions({ certPem: 'c', keyPem: 'k', clientAuth: 'required' })).toThrow(expect.objectContaining({ code: 'ERR_VALIDATION' }));
  });

  it('exports the security headers', () => {
    expect(SECURITY_HEADERS).toEqual({
      'strict-transport-security': 'max-age=63072000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
  });

  it('completes TLS 1.2 with ECDHE-ECDSA-AES128-GCM-SHA256 and a verified chain', async () => {
    const result = await sClient(ecdsa.port, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256', ...verifyArgs()]);
    expect(result.code, result.output).toBe(0);
    expect(result.negotiated).toEqual({ protocol: 'TLSv1.2', cipher: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    expect(result.output).toContain('Verify return code: 0 (ok)');
  });

  it.each(['ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305'])('completes TLS 1.2 with %s', async (cipher) => {
    const result = await sClient(ecdsa.port, ['-tls1_2', '-cipher', cipher, ...verifyArgs()]);
    expect(result.negotiated, result.output).toEqual({ protocol: 'TLSv1.2', cipher });
  });

  it.each(['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305'])(
    'completes TLS 1.2 with %s on an RSA certificate',
    async (cipher) => {
      const result = await sClient(rsa.port, ['-tls1_2', '-cipher', cipher]);
      expect(result.negotiated, result.output).toEqual({ protocol: 'TLSv1.2', cipher });
    },
  );

  it("uses the server's cipher order, not the client's", async () => {
    const result = await sClient(ecdsa.port, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256']);
    expect(result.negotiated?.cipher, result.output).toBe('ECDHE-ECDSA-AES128-GCM-SHA256');
  });

  it('completes TLS 1.3 with X25519', async () => {
    const result = await sClient(ecdsa.port, ['-tls1_3', ...verifyArgs()]);
    expect(result.code, result.output).toBe(0);
    expect(result.negotiated?.protocol).toBe('TLSv1.3');
    expect(result.negotiated?.cipher).toMatch(/^TLS_(AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256|AES_128_GCM_SHA256)$/);
    expect(result.output).toContain('Server Temp Key: X25519');
    expect(result.output).toContain('Verify return code: 0 (ok)');
  });

  it('offers P-256 and P-384 key exchange but not P-521', async () => {
    for (const [group, label] of [['P-256', 'prime256v1'], ['P-384', 'secp384r1']] as const) {
      const result = await sClient(ecdsa.port, ['-tls1_3', '-groups', group]);
      expect(result.output, group).toContain(`Server Temp Key: ECDH, ${label}`);
    }
    const before = ecdsa.clientErrors.length;
    const refused = await sClient(ecdsa.port, ['-tls1_2', '-groups', 'P-521']);
    expect(refused.negotiated, refused.output).toBeUndefined();
    expect(await nextClientError(ecdsa, before)).toBeDefined();
  });

  it.each([
    ['-tls1_1', 'DEFAULT@SECLEVEL=0'],
    ['-tls1', 'DEFAULT@SECLEVEL=0'],
  ])('refuses %s', async (version, cipher) => {
    await expectRefused(ecdsa, [version, '-cipher', cipher], 'ERR_SSL_UNSUPPORTED_PROTOCOL');
    await expectRefused(rsa, [version, '-cipher', cipher], 'ERR_SSL_UNSUPPORTED_PROTOCOL');
  });

  // Every suite below is one the certificate could serve: the refusal comes from the cipher list. RC4, 3DES and
  // export suites are not listed because Debian's OpenSSL client cannot offer them at all (`no cipher match`, which
  // expectRefused treats as a broken test); the server side is an allow-list, so they cannot slip in.
  it.each([
    ['ECDHE-ECDSA-AES128-SHA', 'ecdsa', 'CBC'],
    ['ECDHE-ECDSA-AES256-SHA384', 'ecdsa', 'CBC with SHA-384'],
    ['ECDHE-ECDSA-NULL-SHA', 'ecdsa', 'no encryption'],
    ['AES128-SHA256', 'rsa', 'RSA key exchange, CBC'],
    ['AES128-GCM-SHA256', 'rsa', 'RSA key exchange, even with GCM'],
    ['ECDHE-RSA-AES128-SHA', 'rsa', 'CBC'],
    ['DHE-RSA-AES128-GCM-SHA256', 'rsa', 'finite-field DHE'],
    ['ECDHE-RSA-AES256-SHA384', 'rsa', 'CBC with SHA-384'],
  ] as Array<[string, 'ecdsa' | 'rsa', string]>)('refuses TLS 1.2 with %s (%s certificate: %s)', async (cipher, kind) => {
    await expectRefused(kind === 'ecdsa' ? ecdsa : rsa, ['-tls1_2', '-cipher', `${cipher}:@SECLEVEL=0`], 'ERR_SSL_NO_SHARED_CIPHER');
  });

  it("control: Node's default TLS options accept suites the policy refuses", async () => {
    const cbc = await sClient(ecdsaDefaults.port, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0']);
    expect(cbc.negotiated?.cipher, cbc.output).toBe('ECDHE-ECDSA-AES128-SHA');
    const rsaKx = await sClient(rsaDefaults.port, ['-tls1_2', '-cipher', 'AES128-GCM-SHA256:@SECLEVEL=0']);
    expect(rsaKx.negotiated?.cipher, rsaKx.output).toBe('AES128-GCM-SHA256');
  });

  it('issues no TLS 1.2 session ticket (the default server does)', async () => {
    const ours = await sClient(ecdsa.port, ['-tls1_2']);
    expect(ours.negotiated, ours.output).toBeDefined();
    expect(ours.output).not.toContain('TLS session ticket');
    const control = await sClient(ecdsaDefaults.port, ['-tls1_2']);
    expect(control.output).toContain('TLS session ticket');
  });

  /** Connects with TLS 1.2, asks to renegotiate, and tells what happened. */
  async function tryRenegotiate(port: number): Promise<string> {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: dev.caCertPem, maxVersion: 'TLSv1.2' });
    try {
      await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      return await new Promise<string>((resolve) => {
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
        socket.once('close', () => resolve('closed'));
        const started = socket.renegotiate({ rejectUnauthorized: true }, (error) => resolve(error ? 'callback error' : 'renegotiated'));
        if (!started) resolve('not started');
        setTimeout(() => resolve('timeout'), 5_000);
      });
    } finally {
      socket.destroy();
    }
  }

  it('refuses TLS 1.2 renegotiation (the default server allows it)', async () => {
    expect(await tryRenegotiate(ecdsa.port)).toBe('ERR_SSL_NO_RENEGOTIATION');
    expect(await tryRenegotiate(ecdsaDefaults.port)).toBe('renegotiated');
  });

  it('verifies with the dev CA over https for 127.0.0.1 and localhost', async () => {
    const byIp = await get(`https://127.0.0.1:${ecdsa.port}/`, { ca: dev.caCertPem, rejectUnauthorized: true });
    expect(byIp.status).toBe(200);
    expect(byIp.body.protocol).toBe('TLSv1.3');
    expect(byIp.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
    const byName = await get(`https://localhost:${ecdsa.port}/`, { ca: dev.caCertPem, rejectUnauthorized: true, family: 4 });
    expect(byName.status).toBe(200);
    const tls12 = await get(`https://localhost:${ecdsa.port}/`, { ca: dev.caCertPem, family: 4, maxVersion: 'TLSv1.2' });
    expect(tls12.body).toMatchObject({ protocol: 'TLSv1.2', cipher: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
  });

  it('fails verification without the dev CA, or for a name the certificate does not cover', async () => {
    await expect(get(`https://127.0.0.1:${ecdsa.port}/`, { rejectUnauthorized: true })).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    await expect(
      get(`https://127.0.0.1:${ecdsa.port}/`, { ca: dev.caCertPem, servername: 'other.example.test', headers: { host: 'other.example.test' } }),
    ).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  describe('with a client CA (optional mTLS)', () => {
    let mtls: TestServer;
    let clientCert: string;
    let clientKey: string;

    beforeAll(async () => {
      mtls = await startServer(serverTlsOptions({ certPem: dev.certPem, keyPem: dev.keyPem, caPem: dev.caCertPem }));
      const issuer = await loadCertificateIssuer(dev.caCertPem, await readFile(join(base, 'tls', 'ca-key.pem'), 'utf8'));
      const keys = await generateEcdsaKeyPair();
      const now = new Date();
      clientCert = await issueCertificate({
        issuer,
        subjectPublicKey: keys.publicKey,
        commonName: 'app-1',
        extendedKeyUsages: [EXTENDED_KEY_USAGE.clientAuth],
        notBefore: now,
        notAfter: new Date(now.getTime() + DAY),
      });
      clientKey = await exportPrivateKeyPem(keys.privateKey);
    });
    afterAll(() => stopServer(mtls));

    it('authorizes a client certificate issued by the CA', async () => {
      const res = await get(`https://127.0.0.1:${mtls.port}/`, { ca: dev.caCertPem, cert: clientCert, key: clientKey });
      expect(res.body).toMatchObject({ authorized: true, authorizationError: null, peerSubject: 'app-1' });
    });

    it('still serves clients without a certificate, unauthorized', async () => {
      const res = await get(`https://127.0.0.1:${mtls.port}/`, { ca: dev.caCertPem });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ authorized: false, peerSubject: null });
    });

    it('does not authorize a certificate from another CA, or one not meant for client authentication', async () => {
      const foreign = await get(`https://127.0.0.1:${mtls.port}/`, { ca: dev.caCertPem, cert: rsaCert, key: rsaKey });
      expect(foreign.body.authorized).toBe(false);
      expect(foreign.body.authorizationError).toBeTruthy();
      // The server's own certificate chains to the CA but has EKU serverAuth only.
      const wrongPurpose = await get(`https://127.0.0.1:${mtls.port}/`, { ca: dev.caCertPem, cert: dev.certPem, key: dev.keyPem });
      expect(wrongPurpose.body).toMatchObject({ authorized: false, authorizationError: 'INVALID_PURPOSE' });
    });
  });
});

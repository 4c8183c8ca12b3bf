/**
 * The client commands end to end against a tiny local HTTPS server (self-signed P-256 certificate from openssl)
 * that records what it receives.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  keyView,
  runCli,
  selfSignedCertificate,
  startRecordingServer,
  type RecordingServer,
  type TlsMaterial,
} from './cli-harness.js';

const TOKEN = 'ddt_test-token-123';
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

let dir: string;
let tls: TlsMaterial;
let other: TlsMaterial;
let server: RecordingServer;
/** The global options that point the CLI at the test server. */
let conn: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dd-cli-'));
  [tls, other] = await Promise.all([selfSignedCertificate(dir, 'server'), selfSignedCertificate(dir, 'other')]);
  server = await startRecordingServer(tls);
  conn = ['--endpoint', server.endpoint, '--token', TOKEN, '--ca-bundle', tls.certFile];
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  server.requests.length = 0;
  server.handle(() => ({ status: 500, body: { code: 'ERR_INTERNAL', detail: 'unexpected request', requestId: 'r-unexpected' } }));
});

const only = () => {
  expect(server.requests).toHaveLength(1);
  return server.requests[0]!;
};

describe('key create', () => {
  it('POSTs /v1/keys with the options as JSON and the bearer token, and prints the key', async () => {
    server.handle(() => ({ status: 201, body: { key: keyView({ tags: { env: 'prod', query: 'a=b' } }) } }));
    const run = await runCli([
      ...conn, 'key', 'create', '--description', 'payments', '--tag', 'env=prod', '--tag', 'query=a=b', '--rotation-period', '365',
    ]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/v1/keys');
    expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.body).toEqual({ description: 'payments', tags: { env: 'prod', query: 'a=b' }, rotationPeriodInDays: 365 });
    expect(run.stdout).toContain('Key ID:          1234abcd-12ab-34cd-56ef-1234567890ab\n');
    expect(run.stdout).toContain('Tags:            env=prod, query=a=b\n');
  });

  it('sends automaticRotation: false for --no-automatic-rotation and an empty body by default', async () => {
    server.handle(() => ({ status: 201, body: { key: keyView() } }));
    expect((await runCli([...conn, 'key', 'create', '--no-automatic-rotation'])).code).toBe(0);
    expect((await runCli([...conn, 'key', 'create'])).code).toBe(0);
    expect(server.requests.map((r) => r.body)).toEqual([{ automaticRotation: false }, {}]);
  });

  it('prints the raw answer with --json, also when --json comes after the command', async () => {
    const answer = { key: keyView() };
    server.handle(() => ({ status: 201, body: answer }));
    const run = await runCli([...conn, 'key', 'create', '--json']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${JSON.stringify(answer, null, 2)}\n`);
  });

  it('refuses contradictory or invalid options before sending anything', async () => {
    const contradictory = await runCli([...conn, 'key', 'create', '--rotation-period', '365', '--no-automatic-rotation']);
    expect(contradictory.code).toBe(1);
    expect(contradictory.stderr).toContain('contradict');
    const tooShort = await runCli([...conn, 'key', 'create', '--rotation-period', '30']);
    expect(tooShort.code).not.toBe(0);
    expect(tooShort.stderr).toContain('Expected an integer from 90 to 2560.');
    const badTag = await runCli([...conn, 'key', 'create', '--tag', 'novalue']);
    expect(badTag.code).not.toBe(0);
    expect(badTag.stderr).toContain('key=value');
    expect(server.requests).toHaveLength(0);
  });
});

describe('key list', () => {
  it('follows nextMarker with --all and prints one table', async () => {
    server.handle((req) =>
      req.url.includes('marker=m1')
        ? { status: 200, body: { keys: [keyView({ keyId: 'k3', description: 'third', currentVersion: 3 })] } }
        : { status: 200, body: { keys: [keyView({ keyId: 'k1' }), keyView({ keyId: 'k2', state: 'Disabled' })], nextMarker: 'm1' } },
    );
    const run = await runCli([...conn, 'key', 'list', '--limit', '2', '--all']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /v1/keys?limit=2', 'GET /v1/keys?limit=2&marker=m1']);
    expect(run.stdout.split('\n')).toEqual([
      'KEY ID  STATE     DESCRIPTION  VERSION  ROTATION',
      'k1      Enabled   payments     1        every 365 days',
      'k2      Disabled  payments     1        every 365 days',
      'k3      Enabled   third        3        every 365 days',
      '',
    ]);

    const asJson = await runCli([...conn, '--json', 'key', 'list', '--all']);
    expect(JSON.parse(asJson.stdout).keys.map((k: { keyId: string }) => k.keyId)).toEqual(['k1', 'k2', 'k3']);
  });

  it('prints one page without --all and points at the next one on stderr', async () => {
    server.handle(() => ({ status: 200, body: { keys: [keyView({ keyId: 'k1' })], nextMarker: 'm1' } }));
    const run = await runCli([...conn, 'key', 'list', '--marker', 'm0']);
    expect(only().url).toBe('/v1/keys?marker=m0');
    expect(run.stdout).toContain('k1');
    expect(run.stderr).toBe('More keys: pass --all, or --marker m1\n');
  });

  it('stops when the server repeats a marker', async () => {
    server.handle(() => ({ status: 200, body: { keys: [], nextMarker: 'same' } }));
    const run = await runCli([...conn, 'key', 'list', '--all']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('same nextMarker twice');
    expect(server.requests).toHaveLength(2);
  });

  it.each(['0', '1001', '2.5', 'ten'])('rejects --limit %s before any request', async (limit) => {
    const run = await runCli([...conn, 'key', 'list', '--limit', limit]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Expected an integer from 1 to 1000.');
    expect(server.requests).toHaveLength(0);
  });
});

describe('key lifecycle commands', () => {
  it('URL-encodes the key identifier (alias names contain "/")', async () => {
    server.handle(() => ({ status: 200, body: { key: keyView() } }));
    expect((await runCli([...conn, 'key', 'describe', 'alias/payments'])).code).toBe(0);
    expect(only()).toMatchObject({ method: 'GET', url: '/v1/keys/alias%2Fpayments', text: '' });
  });

  it.each(['rotate', 'enable', 'disable', 'cancel-deletion'])('key %s POSTs with no body', async (name) => {
    server.handle(() => ({ status: 200, body: { key: keyView() } }));
    const run = await runCli([...conn, 'key', name, 'k1']);
    expect(run.code).toBe(0);
    expect(only()).toMatchObject({ method: 'POST', url: `/v1/keys/k1/${name}`, text: '' });
    expect(run.stdout).toContain('State:           Enabled');
  });

  it('key schedule-deletion sends pendingWindowInDays and validates it', async () => {
    server.handle(() => ({ status: 200, body: { key: keyView({ state: 'PendingDeletion', deletionAt: '2025-01-09T00:00:00.000Z' }) } }));
    const run = await runCli([...conn, 'key', 'schedule-deletion', 'k1', '--days', '7']);
    expect(run.stdout).toContain('Deletion date:   2025-01-09T00:00:00.000Z');
    expect(only()).toMatchObject({ method: 'POST', url: '/v1/keys/k1/schedule-deletion', body: { pendingWindowInDays: 7 } });
    expect((await runCli([...conn, 'key', 'schedule-deletion', 'k1', '--days', '6'])).stderr).toContain('from 7 to 30');
    expect(server.requests).toHaveLength(1);
  });
});

describe('encrypt', () => {
  it('POSTs /v1/encrypt with base64 plaintext and context, prints the ciphertext', async () => {
    server.handle(() => ({ status: 200, body: { ciphertext: 'AQIDBA==', keyId: 'arn:aws:kms:us-east-1:1:key/k1', keyVersion: 1 } }));
    const run = await runCli([...conn, 'encrypt', '--key-id', 'alias/payments', '--plaintext', 'PAN 4111', '--context', 'customer=42', '--context', 'q=a=b']);
    expect(run).toEqual({ code: 0, stdout: 'AQIDBA==\n', stderr: '' });
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/v1/encrypt');
    expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req.body).toEqual({ keyId: 'alias/payments', plaintext: b64('PAN 4111'), encryptionContext: { customer: '42', q: 'a=b' } });
  });

  it('reads --in as bytes and prints the whole answer with --json', async () => {
    const answer = { ciphertext: 'AQIDBA==', keyId: 'arn:k', keyVersion: 2 };
    server.handle(() => ({ status: 200, body: answer }));
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe]);
    await writeFile(join(dir, 'secret.bin'), bytes);
    const run = await runCli([...conn, '--json', 'encrypt', '--key-id', 'k1', '--in', 'secret.bin'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(answer);
    expect(only().body).toEqual({ keyId: 'k1', plaintext: bytes.toString('base64') });
  });

  it('validates its arguments before any request', async () => {
    const noEquals = await runCli([...conn, 'encrypt', '--key-id', 'k', '--plaintext', 'x', '--context', 'customer']);
    expect(noEquals.code).not.toBe(0);
    expect(noEquals.stderr).toContain("option '--context <k=v>' argument 'customer' is invalid");
    const both = await runCli([...conn, 'encrypt', '--key-id', 'k', '--plaintext', 'x', '--in', 'f']);
    expect(both.code).not.toBe(0);
    expect(both.stderr).toContain('cannot be used with');
    const neither = await runCli([...conn, 'encrypt', '--key-id', 'k']);
    expect(neither).toMatchObject({ code: 1, stderr: 'datadefender: Give exactly one of --plaintext and --in.\n' });
    const noKey = await runCli([...conn, 'encrypt', '--plaintext', 'x']);
    expect(noKey.stderr).toContain("required option '--key-id <keyId>' not specified");
    const empty = await runCli([...conn, 'encrypt', '--key-id', 'k', '--plaintext', '']);
    expect(empty.stderr).toContain('must be 1 to 4096 bytes');
    const large = await runCli([...conn, 'encrypt', '--key-id', 'k', '--plaintext', 'x'.repeat(4097)]);
    expect(large.stderr).toContain('The plaintext is 4097 bytes');
    const missing = await runCli([...conn, 'encrypt', '--key-id', 'k', '--in', 'missing.bin'], { cwd: dir });
    expect(missing.stderr).toContain(`Cannot read the plaintext file ${join(dir, 'missing.bin')}: ENOENT.`);
    expect(server.requests).toHaveLength(0);
  });
});

describe('decrypt', () => {
  it('POSTs /v1/decrypt and writes the plaintext as text, without a newline', async () => {
    server.handle(() => ({ status: 200, body: { plaintext: b64('balance 100.00'), keyId: 'arn:k', keyVersion: 1 } }));
    const run = await runCli([...conn, 'decrypt', '--ciphertext', 'AQIDBA==', '--context', 'customer=42', '--key-id', 'k1']);
    expect(run).toEqual({ code: 0, stdout: 'balance 100.00', stderr: '' });
    const req = only();
    expect(req).toMatchObject({ method: 'POST', url: '/v1/decrypt' });
    expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req.body).toEqual({ ciphertext: 'AQIDBA==', encryptionContext: { customer: '42' }, keyId: 'k1' });
  });

  it('reads base64 from --in (whitespace ignored) and prints base64 with --base64', async () => {
    server.handle(() => ({ status: 200, body: { plaintext: b64(Buffer.from([0xff, 0])), keyId: 'arn:k', keyVersion: 1 } }));
    await writeFile(join(dir, 'ct.b64'), 'AQID\nBA==\n');
    const run = await runCli([...conn, 'decrypt', '--in', join(dir, 'ct.b64'), '--base64']);
    expect(run).toEqual({ code: 0, stdout: '/wA=\n', stderr: '' });
    expect(only().body).toEqual({ ciphertext: 'AQIDBA==' });
  });

  it('warns when binary plaintext is printed as text', async () => {
    server.handle(() => ({ status: 200, body: { plaintext: b64(Buffer.from([0xff, 0x41])), keyId: 'arn:k', keyVersion: 1 } }));
    const run = await runCli([...conn, 'decrypt', '--ciphertext', 'AQIDBA==']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('use --base64');
  });

  it('refuses a ciphertext that is not base64 before any request', async () => {
    const run = await runCli([...conn, 'decrypt', '--ciphertext', 'not base64!']);
    expect(run).toMatchObject({ code: 1, stderr: 'datadefender: The ciphertext is not standard base64.\n' });
    expect(server.requests).toHaveLength(0);
  });
});

describe('generate-data-key and whoami', () => {
  it('sends keySpec (default AES_256) or numberOfBytes, context and includePlaintext', async () => {
    server.handle(() => ({ status: 200, body: { ciphertext: 'Q1Q=', plaintext: 'UFQ=', keyId: 'arn:k', keyVersion: 1 } }));
    const run = await runCli([...conn, 'generate-data-key', '--key-id', 'k1', '--context', 'a=1']);
    expect(run.stdout).toBe('Key ID:      arn:k\nKey version: 1\nCiphertext:  Q1Q=\nPlaintext:   UFQ=\n');
    await runCli([...conn, 'generate-data-key', '--key-id', 'k1', '--bytes', '64', '--no-plaintext']);
    await runCli([...conn, 'generate-data-key', '--key-id', 'k1', '--key-spec', 'AES_128']);
    expect(server.requests.map((r) => [r.url, r.body])).toEqual([
      ['/v1/data-keys', { keyId: 'k1', keySpec: 'AES_256', encryptionContext: { a: '1' }, includePlaintext: true }],
      ['/v1/data-keys', { keyId: 'k1', numberOfBytes: 64, includePlaintext: false }],
      ['/v1/data-keys', { keyId: 'k1', keySpec: 'AES_128', includePlaintext: true }],
    ]);
  });

  it('refuses bad lengths and specs before any request', async () => {
    expect((await runCli([...conn, 'generate-data-key', '--key-id', 'k', '--bytes', '1025'])).stderr).toContain('from 1 to 1024');
    expect((await runCli([...conn, 'generate-data-key', '--key-id', 'k', '--key-spec', 'AES_512'])).stderr).toContain('Allowed choices are AES_256, AES_128');
    expect((await runCli([...conn, 'generate-data-key', '--key-id', 'k', '--key-spec', 'AES_128', '--bytes', '16'])).stderr).toContain('cannot be used with');
    expect(server.requests).toHaveLength(0);
  });

  it('whoami GETs /v1/whoami', async () => {
    const answer = { principal: { arn: 'arn:aws:iam::1:user/admin', roles: ['administrator'], policies: ['ops'], tags: { team: 'sec' }, credential: 'token:AbCd' } };
    server.handle(() => ({ status: 200, body: answer }));
    const run = await runCli([...conn, 'whoami']);
    expect(run.stdout).toBe(
      'ARN:        arn:aws:iam::1:user/admin\nRoles:      administrator\nPolicies:   ops\nTags:       team=sec\nCredential: token:AbCd\n',
    );
    expect(only()).toMatchObject({ method: 'GET', url: '/v1/whoami', text: '' });
    expect((await runCli([...conn, 'whoami', '--json'])).stdout).toBe(`${JSON.stringify(answer, null, 2)}\n`);
  });
});

describe('errors', () => {
  it('prints a problem+json answer as "<code>: <detail> (request <id>)" and fails', async () => {
    server.handle(() => ({
      status: 404,
      body: { type: 'urn:datadefender:error:ERR_NOT_FOUND', title: 'not found', status: 404, detail: "Key 'alias/nope' does not exist", code: 'ERR_NOT_FOUND', requestId: 'req-42' },
    }));
    const run = await runCli([...conn, 'key', 'describe', 'alias/nope']);
    expect(run).toEqual({ code: 1, stdout: '', stderr: "datadefender: ERR_NOT_FOUND: Key 'alias/nope' does not exist (request req-42)\n" });
  });

  it('falls back to the status and the x-request-id header for answers that are not problems', async () => {
    server.handle(() => ({ status: 502, raw: '<html>bad gateway</html>', headers: { 'content-type': 'text/html', 'x-request-id': 'hdr-7' } }));
    const run = await runCli([...conn, 'whoami']);
    expect(run.stderr).toBe('datadefender: HTTP_502: Bad Gateway (request hdr-7)\n');
  });

  it('keeps terminal escapes in server text out of stderr', async () => {
    server.handle(() => ({ status: 400, body: { code: 'ERR_VALIDATION', detail: 'bad\x1b[2J\nfake line', requestId: 'r1' } }));
    const run = await runCli([...conn, 'whoami']);
    expect(run.stderr).toBe('datadefender: ERR_VALIDATION: bad?[2J?fake line (request r1)\n');
  });

  it('fails TLS verification against an unknown CA, and without a CA bundle', async () => {
    const wrongCa = await runCli(['--endpoint', server.endpoint, '--token', TOKEN, '--ca-bundle', other.certFile, 'whoami']);
    expect(wrongCa.code).toBe(1);
    expect(wrongCa.stderr).toContain(`Cannot verify the TLS certificate of ${server.endpoint}`);
    expect(wrongCa.stderr).toContain('--ca-bundle');
    // Without a bundle the system store is used; NODE_TLS_REJECT_UNAUTHORIZED=0 must not switch verification off.
    const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    const savedEmit = process.emitWarning;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    process.emitWarning = () => undefined;
    let systemRoots;
    try {
      systemRoots = await runCli(['--endpoint', server.endpoint, '--token', TOKEN, 'whoami']);
    } finally {
      if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
      process.emitWarning = savedEmit;
    }
    expect(systemRoots.code).toBe(1);
    expect(systemRoots.stderr).toContain(`Cannot verify the TLS certificate of ${server.endpoint}`);
    expect(server.requests).toHaveLength(0);
    expect(wrongCa.stderr + systemRoots.stderr).not.toContain(TOKEN);
  });

  it('names the endpoint when nothing listens there', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const run = await runCli(['--endpoint', `https://127.0.0.1:${port}`, '--token', TOKEN, 'whoami']);
    expect(run).toMatchObject({ code: 1, stderr: `datadefender: Cannot reach https://127.0.0.1:${port}: connection refused (is the server running?).\n` });
  });

  it('tells which flag or variable to set when the configuration is incomplete', async () => {
    const run = await runCli(['whoami'], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('No server endpoint: pass --endpoint <url>, set DATADEFENDER_ENDPOINT');
  });
});

describe('configuration from the environment and a credentials file', () => {
  it('uses DATADEFENDER_CREDENTIALS (relative caCertFile) and lets DATADEFENDER_TOKEN override its token', async () => {
    const credsDir = await mkdtemp(join(dir, 'creds-'));
    await writeFile(join(credsDir, 'ca.pem'), tls.cert);
    await writeFile(
      join(credsDir, 'dev-credentials.json'),
      JSON.stringify({ endpoint: server.endpoint, region: 'us-east-1', accessKeyId: 'AKIA', secretAccessKey: 'x', token: 'ddt_file', caCertFile: 'ca.pem' }),
    );
    server.handle(() => ({ status: 200, body: { principal: { arn: 'a', roles: [] } } }));
    const env = { DATADEFENDER_CREDENTIALS: join(credsDir, 'dev-credentials.json') };
    expect((await runCli(['whoami'], { env })).code).toBe(0);
    expect((await runCli(['whoami'], { env: { ...env, DATADEFENDER_TOKEN: 'ddt_env' } })).code).toBe(0);
    expect((await runCli(['--token', 'ddt_flag', 'whoami'], { env: { ...env, DATADEFENDER_TOKEN: 'ddt_env' } })).code).toBe(0);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer ddt_file', 'Bearer ddt_env', 'Bearer ddt_flag']);
  });

  it('finds ./data/dev-credentials.json under the working directory', async () => {
    const work = await mkdtemp(join(dir, 'work-'));
    await mkdir(join(work, 'data'));
    await writeFile(join(work, 'data', 'dev-credentials.json'), JSON.stringify({ endpoint: server.endpoint, token: 'ddt_default', caCertFile: tls.certFile }));
    server.handle(() => ({ status: 200, body: { principal: { arn: 'a', roles: [] } } }));
    expect((await runCli(['whoami'], { cwd: work })).code).toBe(0);
    expect(only().headers.authorization).toBe('Bearer ddt_default');
  });
});

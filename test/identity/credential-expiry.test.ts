// Credential expiry and token storage through a real server (src/main.ts startServer, in-process, dev mode, real
// SQLite and HTTPS — as test/rest/rest-api.test.ts runs it):
// - an access key with an expiry works through @aws-sdk/client-kms until then and is refused after, audited;
// - a bearer token works until its TTL ends and is refused (401) after, audited; its listing shows the expiry;
// - a token is stored only as its SHA-256 hash: the token never reaches the database files.
//
// The server reads time through systemClock (`new Date()`), which has no injection point in startServer, and the
// shortest expiries the API allows are one day (access keys) and 60 s (tokens). So the clock is moved with vitest's
// fake Date only (`toFake: ['Date']`: timers, performance.now and OpenSSL's certificate checks stay real), advancing
// with real time, and jumped with vi.setSystemTime. Client (SDK signer) and server share it, so SigV4 dates agree.
// One exception: Node's HTTP `Date` response header comes from Node's own (unfaked) Date, and the AWS SDK corrects
// its signing clock to that header (clock-skew correction) after a skewed response; so every SDK call below uses a
// fresh client, whose first request is signed with the (fake) current time.
//
// A disabled principal's access key and token are already covered by test/identity/credentials-api.test.ts
// ("disabled principals"), so they are not repeated here.
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncryptCommand, ListKeysCommand, type ListKeysCommandOutput } from '@aws-sdk/client-kms';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadServerConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/main.js';
import { kmsClient } from '../helpers/aws-clients.js';
import { restClient, type DevCredentialsFile } from '../helpers/rest-client.js';
import { eventually, expectProblem, unique } from './identity-helpers.js';

const DAY = 86_400_000;
/** What sigv4-authenticator.ts answers for unknown, inactive, expired keys (UNRECOGNIZED). */
const UNRECOGNIZED_MESSAGE = 'The security token included in the request is invalid.';
/** What bearer-authenticator.ts answers for unknown, expired tokens. */
const BEARER_MESSAGE = 'A valid bearer token is required.';

let dir: string;
let server: RunningServer;
let admin: DevCredentialsFile;
let call: ReturnType<typeof restClient>;

interface AuditEventView {
  eventName: string;
  requestId: string;
  principal: string;
  credential: string;
  outcome: string;
  errorCode: string | null;
  [k: string]: unknown;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dd-credential-expiry-'));
  server = await startServer(loadServerConfig({ dev: true, dataDir: dir, listen: '127.0.0.1:0' }, {}), pino({ level: 'silent' }));
  admin = JSON.parse(await readFile(server.credentialsFile!, 'utf8')) as DevCredentialsFile;
  call = restClient(admin);
  // Dev mode first serves a bootstrap certificate and replaces it with a built-in one right away. Let that happen
  // under the real clock: a certificate issued while the fake clock is a day ahead would be "not yet valid" for the
  // client's (real-time) OpenSSL check.
  await eventually('built-in certificate serving', async () => (await restClient(admin, { token: null })('GET', '/v1/health')).body?.certificate?.source === 'built-in');
});

afterAll(async () => {
  vi.useRealTimers();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.useRealTimers();
});

/** Lets Date run on from the real time, so it can then be jumped with vi.setSystemTime. */
function controllableClock(): void {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true, advanceTimeDelta: 5 });
  vi.setSystemTime(new Date());
}

async function newPrincipal(roles: string[]): Promise<{ name: string; arn: string }> {
  const name = unique('exp');
  const res = await call('POST', '/v1/principals', { name, roles });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { name, arn: res.body.principal.arn as string };
}

async function auditByRequestId(requestId: string): Promise<AuditEventView[]> {
  const res = await call('GET', `/v1/audit/events?limit=1000&requestId=${encodeURIComponent(requestId)}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.events as AuditEventView[];
}

/** Sends one command with a fresh SDK client for the key (see the header on the SDK's clock-skew correction). */
type AnyCommand = ListKeysCommand | EncryptCommand;
async function sendWith(key: { accessKeyId: string; secretAccessKey: string }, command: AnyCommand): Promise<unknown> {
  const kms = kmsClient(admin, { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey });
  try {
    return await (command instanceof ListKeysCommand ? kms.send(command) : kms.send(command));
  } finally {
    kms.destroy();
  }
}

/** The SDK error a call rejects with (name, HTTP status, message, request id); fails when it succeeds. */
async function sdkError(p: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string; requestId: string | undefined; type: string | undefined }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; __type?: string; $metadata?: { httpStatusCode?: number; requestId?: string } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message, requestId: e.$metadata?.requestId, type: e.__type };
  }
  throw new Error('expected the call to fail');
}

describe('access key expiry (AWS API, @aws-sdk/client-kms)', () => {
  it('a key created with expiresInDays works until its expiry and is refused after it with UnrecognizedClientException, audited as denied without the secret', async () => {
    const principal = await newPrincipal(['developer']);
    const created = await call('POST', `/v1/principals/${principal.name}/access-keys`, { expiresInDays: 1 });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const key = created.body.accessKey as { accessKeyId: string; secretAccessKey: string; createdAt: string; expiresAt: string };
    const expiresAt = Date.parse(key.expiresAt);
    expect(expiresAt - Date.parse(key.createdAt)).toBe(DAY);
    // The listing shows the expiry too.
    const listed = (await call('GET', `/v1/principals/${principal.name}/access-keys`)).body.accessKeys as { accessKeyId: string; expiresAt: string | null }[];
    expect(listed.find((k) => k.accessKeyId === key.accessKeyId)?.expiresAt).toBe(key.expiresAt);

    const kms = <T = unknown>(command: AnyCommand) => sendWith(key, command) as Promise<T>;
    controllableClock();
    // Now: accepted, as the principal.
    const now = await kms<ListKeysCommandOutput>(new ListKeysCommand({}));
    expect(now.$metadata.httpStatusCode).toBe(200);
    expect(Array.isArray(now.Keys)).toBe(true);

    // Two seconds before the expiry (a day later): still accepted, as the principal with this key.
    vi.setSystemTime(expiresAt - 2000);
    const justBefore = await kms<ListKeysCommandOutput>(new ListKeysCommand({}));
    expect(justBefore.$metadata.httpStatusCode).toBe(200);
    const allowed = await auditByRequestId(justBefore.$metadata.requestId!);
    expect(allowed).toEqual([expect.objectContaining({ eventName: 'ListKeys', outcome: 'success', principal: principal.arn, credential: `access-key:${key.accessKeyId}` })]);

    // One second past the expiry: refused at once, although the key's record was read well within the
    // authenticator's one-second cache (real time) by the call just above.
    vi.setSystemTime(expiresAt + 1000);
    const refused = await sdkError(kms(new ListKeysCommand({})));
    expect(refused).toMatchObject({ name: 'UnrecognizedClientException', status: 400, message: UNRECOGNIZED_MESSAGE });
    expect(refused.requestId).toMatch(/\S/);

    // The refusal is in the audit trail: a denial of the operation by an unauthenticated caller, no secret.
    const events = await auditByRequestId(refused.requestId!);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      eventName: 'ListKeys',
      eventSource: 'aws-kms',
      outcome: 'denied',
      errorCode: 'ERR_UNAUTHENTICATED',
      principal: 'anonymous',
      credential: 'none',
      // The CloudTrail record the event was chained as.
      record: { eventName: 'ListKeys', outcome: 'denied', errorMessage: UNRECOGNIZED_MESSAGE, userIdentity: { type: 'Anonymous', arn: 'anonymous' } },
    });
    const text = JSON.stringify(events);
    expect(text).not.toContain(key.secretAccessKey);
    expect(text).not.toContain(principal.arn); // an expired key authenticates nobody, not even for the record

    // After the record cache's window (1 s, real time) the key is read from storage again: still refused, and
    // for any operation (authentication precedes the operation).
    await new Promise((r) => setTimeout(r, 1200));
    expect(await sdkError(kms(new ListKeysCommand({})))).toMatchObject({ name: 'UnrecognizedClientException', status: 400 });
    expect(await sdkError(kms(new EncryptCommand({ KeyId: 'alias/anything', Plaintext: Buffer.from('x') })))).toMatchObject({
      name: 'UnrecognizedClientException',
      status: 400,
      message: UNRECOGNIZED_MESSAGE,
    });
    // The key itself is still Active: expiry, not deactivation, refuses it.
    const after = (await call('GET', `/v1/principals/${principal.name}/access-keys`)).body.accessKeys as { accessKeyId: string; status: string }[];
    expect(after.find((k) => k.accessKeyId === key.accessKeyId)?.status).toBe('Active');
  });

  it('a key without an expiry keeps working when the clock is a year ahead (the refusal above is the expiry)', async () => {
    const principal = await newPrincipal(['developer']);
    const key = (await call('POST', `/v1/principals/${principal.name}/access-keys`, {})).body.accessKey as { accessKeyId: string; secretAccessKey: string; expiresAt: null };
    expect(key.expiresAt).toBeNull();
    controllableClock();
    vi.setSystemTime(Date.now() + 365 * DAY);
    expect(((await sendWith(key, new ListKeysCommand({}))) as ListKeysCommandOutput).$metadata.httpStatusCode).toBe(200);
  });
});

describe('bearer token expiry (native API)', () => {
  it('a token with a 60 s TTL works until its expiry and is refused (401 ERR_UNAUTHENTICATED) after it; its listing shows the expiry', async () => {
    const principal = await newPrincipal(['developer']);
    controllableClock();
    const created = await call('POST', `/v1/principals/${principal.name}/tokens`, { ttlSeconds: 60 });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const token = created.body.token as { token: string; accessor: string; createdAt: string; expiresAt: string };
    const expiresAt = Date.parse(token.expiresAt);
    expect(expiresAt - Date.parse(token.createdAt)).toBe(60_000);

    // Listed by its accessor, with its expiry (and never the token).
    const listed = await call('GET', `/v1/principals/${principal.name}/tokens`);
    expect(listed.status).toBe(200);
    expect((listed.body.tokens as { accessor: string }[]).filter((t) => t.accessor === token.accessor)).toEqual([
      { accessor: token.accessor, principal: principal.name, createdAt: token.createdAt, expiresAt: token.expiresAt },
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(token.token);

    const rest = restClient(admin, { token: token.token });
    const now = await rest('GET', '/v1/whoami');
    expect(now.status, JSON.stringify(now.body)).toBe(200);
    expect(now.body.principal).toMatchObject({ arn: principal.arn, credential: `token:${token.accessor}` });

    vi.setSystemTime(expiresAt - 2000);
    const justBefore = await rest('GET', '/v1/whoami');
    expect(justBefore.status, JSON.stringify(justBefore.body)).toBe(200);

    // Past the expiry: refused at once, even though the token is in the authenticator's (real-time) cache.
    vi.setSystemTime(expiresAt + 1000);
    const refused = await rest('GET', '/v1/whoami');
    expectProblem(refused, 401, 'ERR_UNAUTHENTICATED');
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body.detail).toBe(BEARER_MESSAGE);
    // The same answer as a token that never existed: an expired token reveals nothing.
    const bogus = await restClient(admin, { token: `ddt_${'A'.repeat(43)}` })('GET', '/v1/whoami');
    expectProblem(bogus, 401, 'ERR_UNAUTHENTICATED');
    expect(bogus.body.detail).toBe(refused.body.detail);

    // The refusal is audited as a denial by nobody in particular, without the token.
    const requestId = refused.headers['x-request-id'] as string;
    expect(requestId).toMatch(/\S/);
    const events = await auditByRequestId(requestId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'denied', errorCode: 'ERR_UNAUTHENTICATED', credential: 'none' });
    expect(JSON.stringify(events)).not.toContain(token.token);

    // After the cache window (real time) it is read from storage again: still refused; the listing still shows it.
    await new Promise((r) => setTimeout(r, 1200));
    expectProblem(await rest('GET', '/v1/whoami'), 401, 'ERR_UNAUTHENTICATED');
    const still = (await call('GET', `/v1/principals/${principal.name}/tokens`)).body.tokens as { accessor: string; expiresAt: string }[];
    expect(still.find((t) => t.accessor === token.accessor)?.expiresAt).toBe(token.expiresAt);
  });
});

describe('token storage', () => {
  /** Every file of the SQLite database (main file, -wal, -shm, -journal), raw. */
  async function databaseBytes(): Promise<{ files: string[]; bytes: Buffer }> {
    const files = (await readdir(dir)).filter((f) => f.startsWith('datadefender.db')).sort();
    const buffers = await Promise.all(files.map((f) => readFile(join(dir, f))));
    return { files, bytes: Buffer.concat(buffers) };
  }

  it('stores a token only as its SHA-256 hash: the token occurs nowhere in the database files or the tokens table, its accessor and hash do', async () => {
    const principal = await newPrincipal([]);
    const created = await call('POST', `/v1/principals/${principal.name}/tokens`, { ttlSeconds: 3600 });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const { token, accessor, expiresAt } = created.body.token as { token: string; accessor: string; expiresAt: string };
    // It works, so what is stored is enough to authenticate it.
    expect((await restClient(admin, { token })('GET', '/v1/whoami')).body.principal.credential).toBe(`token:${accessor}`);
    const hash = createHash('sha256').update(token, 'utf8').digest('hex');
    const randomPart = token.slice('ddt_'.length);
    const randomBytesOfToken = Buffer.from(randomPart, 'base64url');
    expect(randomBytesOfToken).toHaveLength(32);

    // Raw bytes of every database file, while the server runs (WAL included).
    const { files, bytes } = await databaseBytes();
    expect(files).toContain('datadefender.db');
    expect(bytes.includes(Buffer.from(accessor, 'utf8')), 'the accessor is stored (so these are the right files)').toBe(true);
    expect(bytes.includes(Buffer.from(hash, 'utf8')), 'the hash is stored').toBe(true);
    expect(bytes.includes(Buffer.from(token, 'utf8')), 'the token is stored').toBe(false);
    expect(bytes.includes(Buffer.from(randomPart, 'utf8')), 'the token without its prefix is stored').toBe(false);
    expect(bytes.includes(randomBytesOfToken), "the token's random bytes are stored").toBe(false);
    expect(bytes.includes(Buffer.from(randomPart, 'utf8').toString('base64')), 'the token is stored base64-encoded').toBe(false);

    // The tokens table through SQLite itself.
    const db = new Database(join(dir, 'datadefender.db'), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT * FROM tokens').all() as Record<string, unknown>[];
      const mine = rows.filter((r) => r.accessor === accessor);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ hash, accessor, expires_at: Date.parse(expiresAt) });
      for (const row of rows) {
        for (const value of Object.values(row)) {
          const text = Buffer.isBuffer(value) ? value.toString('latin1') : String(value);
          expect(text).not.toContain(randomPart);
          if (Buffer.isBuffer(value)) expect(value.includes(randomBytesOfToken)).toBe(false);
        }
      }
      // Nor in the audit trail's rows (the CreateToken event names the accessor only).
      const audit = JSON.stringify(db.prepare('SELECT * FROM audit_events').all(), (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('latin1') : typeof v === 'bigint' ? String(v) : v));
      expect(audit).toContain(accessor);
      expect(audit).not.toContain(randomPart);
    } finally {
      db.close();
    }
  });

  it('stores a secret access key only wrapped: the secret occurs nowhere in the database files', async () => {
    const principal = await newPrincipal([]);
    const key = (await call('POST', `/v1/principals/${principal.name}/access-keys`, {})).body.accessKey as { accessKeyId: string; secretAccessKey: string };
    const { bytes } = await databaseBytes();
    expect(bytes.includes(Buffer.from(key.accessKeyId, 'utf8'))).toBe(true);
    expect(bytes.includes(Buffer.from(key.secretAccessKey, 'utf8'))).toBe(false);
    expect(bytes.includes(Buffer.from(key.secretAccessKey, 'base64'))).toBe(false);
  });
});

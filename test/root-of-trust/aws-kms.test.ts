// The aws-kms root of trust against a second DataDefender server speaking the AWS KMS API (a separate process, as
// DESIGN §5 says): the RootOfTrust contract, key pinning, the upstream key's state, an upstream that stops, hangs
// and comes back, credentials and TLS verification, and what the upstream's audit trail saw.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { CreateAliasCommand, CreateKeyCommand, DisableKeyCommand, EnableKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAwsKmsRootOfTrust, type AwsKmsRootOfTrust, type AwsKmsRootOfTrustOptions } from '../../src/adapters/root-of-trust/aws-kms/index.js';
import { SecretBytes } from '../../src/crypto/index.js';
import { createRootCa } from '../../src/pki/create-root-ca.js';
import { kmsClient, startAwsDevServer, type AwsDevServer } from '../helpers/aws-clients.js';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';
import { addPrincipal } from '../helpers/principals.js';
import { restClient, type DevCredentialsFile } from '../helpers/rest-client.js';
import { rootOfTrustContract } from './root-of-trust-contract.js';

const INVALID_CIPHERTEXT = { code: 'ERR_INVALID_CIPHERTEXT', message: 'The ciphertext is invalid or does not match the encryption context.' };
const aad = (s: string) => Buffer.from(s, 'utf8');
const secret = (n: number) => SecretBytes.copyOf(randomBytes(n));
const sha256b64url = (b: Uint8Array) => createHash('sha256').update(b).digest('base64url');

/** Adapter options for `creds`' server and the upstream key `keyId`. */
function optionsFor(creds: DevCredentialsFile, keyId: string, extra: Partial<AwsKmsRootOfTrustOptions> = {}): AwsKmsRootOfTrustOptions {
  return {
    keyId,
    region: creds.region,
    endpoint: creds.endpoint,
    credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey },
    caBundlePem: readFileSync(creds.caCertFile, 'utf8'),
    timeoutMs: 5_000,
    ...extra,
  };
}

/** What a promise rejects with (fails the test when it resolves). */
async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected a failure');
}

async function newKey(kms: KMSClient, input: ConstructorParameters<typeof CreateKeyCommand>[0] = {}): Promise<{ keyId: string; arn: string }> {
  const created = await kms.send(new CreateKeyCommand(input));
  return { keyId: created.KeyMetadata!.KeyId!, arn: created.KeyMetadata!.Arn! };
}

// One upstream for the contract and most tests, started once.
let upstreamPromise: Promise<{ up: AwsDevServer; keyA: { keyId: string; arn: string }; keyB: { keyId: string; arn: string } }> | undefined;
const upstream = () =>
  (upstreamPromise ??= (async () => {
    const up = await startAwsDevServer('dd-upstream-');
    return { up, keyA: await newKey(up.kms), keyB: await newKey(up.kms) };
  })());

afterAll(async () => {
  if (upstreamPromise) await (await upstreamPromise).up.stop();
}, 30_000);

rootOfTrustContract('aws-kms (upstream DataDefender)', async () => {
  const { up, keyA } = await upstream();
  const root = await openAwsKmsRootOfTrust(optionsFor(up.server.credentials, keyA.keyId));
  return { root, close: () => root.close() };
});

describe('aws-kms root of trust against an upstream DataDefender', () => {
  const opened: AwsKmsRootOfTrust[] = [];
  const open = async (options: AwsKmsRootOfTrustOptions) => {
    const root = await openAwsKmsRootOfTrust(options);
    opened.push(root);
    return root;
  };
  afterAll(async () => {
    for (const root of opened) await root.close();
  });

  it('resolves an alias to its key ARN and wraps material up to 4096 bytes directly (format 1), larger through a data key (format 2)', async () => {
    const { up, keyA } = await upstream();
    const alias = `alias/dd-root-${randomBytes(4).toString('hex')}`;
    await up.kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyA.keyId }));
    const root = await open(optionsFor(up.server.credentials, alias));
    expect(root.kind).toBe('aws-kms');
    expect(root.keyArn).toBe(keyA.arn);
    for (const [size, format] of [[4096, 1], [4097, 2], [16_384, 2]] as const) {
      const material = randomBytes(size);
      const wrapped = await root.wrap(SecretBytes.copyOf(material), aad(`k/${size}`));
      expect(wrapped[0]).toBe(format);
      const unwrapped = await root.unwrap(wrapped, aad(`k/${size}`));
      expect(Buffer.compare(unwrapped.reveal(), material)).toBe(0);
    }
    await expect(root.wrap(SecretBytes.copyOf(Buffer.alloc(0)), aad('empty'))).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
  });

  it('pins the key: a blob wrapped under key A does not unwrap with key B (either format), nor under another aad', async () => {
    const { up, keyA, keyB } = await upstream();
    const rootA = await open(optionsFor(up.server.credentials, keyA.arn));
    const rootB = await open(optionsFor(up.server.credentials, keyB.keyId));
    for (const size of [32, 5000]) {
      const wrapped = await rootA.wrap(secret(size), aad('key/1/v1'));
      await expect(rootB.unwrap(wrapped, aad('key/1/v1'))).rejects.toMatchObject(INVALID_CIPHERTEXT);
      await expect(rootA.unwrap(wrapped, aad('key/1/v2'))).rejects.toMatchObject(INVALID_CIPHERTEXT);
      await expect(rootA.unwrap(wrapped, new Uint8Array(0))).rejects.toMatchObject(INVALID_CIPHERTEXT);
      expect((await rootA.unwrap(wrapped, aad('key/1/v1'))).length).toBe(size);
    }
  });

  it('refuses every edit of a format-2 blob and a swapped version byte with InvalidCiphertextError', async () => {
    const { up, keyA } = await upstream();
    const root = await open(optionsFor(up.server.credentials, keyA.keyId));
    const big = Buffer.from(await root.wrap(secret(6000), aad('big')));
    const small = Buffer.from(await root.wrap(secret(32), aad('big')));
    const upstreamLength = big.readUInt16BE(1);
    const edits: Buffer[] = [big.subarray(0, 3), big.subarray(0, 3 + upstreamLength), big.subarray(0, big.length - 1)];
    for (const i of [0, 1, 2, 3, 3 + Math.floor(upstreamLength / 2), 3 + upstreamLength, big.length - 20, big.length - 1]) {
      const flipped = Buffer.from(big);
      flipped[i]! ^= 0x01;
      edits.push(flipped);
    }
    const asDirect = Buffer.from(big);
    asDirect[0] = 0x01;
    const asEnvelope = Buffer.from(small);
    asEnvelope[0] = 0x02;
    edits.push(asDirect, asEnvelope, Buffer.concat([Buffer.from([0x03]), small.subarray(1)]), Buffer.from([0x01]), Buffer.concat([Buffer.from([1]), randomBytes(7000)]));
    for (const bad of edits) await expect(root.unwrap(bad, aad('big'))).rejects.toMatchObject(INVALID_CIPHERTEXT);
    expect((await root.unwrap(big, aad('big'))).length).toBe(6000);
  });

  it('fails with ERR_DEPENDENCY while the upstream key is disabled and works again once it is enabled, without reopening', async () => {
    const { up } = await upstream();
    const key = await newKey(up.kms);
    const root = await open(optionsFor(up.server.credentials, key.keyId, { healthCacheMs: 60_000 }));
    const wrapped = await root.wrap(secret(32), aad('d'));
    expect(await root.health()).toBe('ok');

    await up.kms.send(new DisableKeyCommand({ KeyId: key.keyId }));
    const onWrap = await failure(root.wrap(secret(32), aad('d')));
    expect(onWrap).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The upstream KMS key cannot be used for Encrypt: DisabledException.' });
    const onUnwrap = await failure(root.unwrap(wrapped, aad('d')));
    expect(onUnwrap).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The upstream KMS key cannot be used for Decrypt: DisabledException.' });
    expect(await root.health()).toBe('unavailable'); // the failure dropped the cached 'ok'
    const atOpen = await failure(openAwsKmsRootOfTrust(optionsFor(up.server.credentials, key.keyId)));
    expect(atOpen).toMatchObject({ code: 'ERR_DEPENDENCY', message: `The upstream KMS key ${key.arn} is not usable: its state is Disabled.` });

    await up.kms.send(new EnableKeyCommand({ KeyId: key.keyId }));
    expect((await root.unwrap(wrapped, aad('d'))).length).toBe(32);
    expect((await root.unwrap(await root.wrap(secret(32), aad('e')), aad('e'))).length).toBe(32);
    expect(await root.health()).toBe('ok');
  });

  it('refuses at open a key that is not SYMMETRIC_DEFAULT ENCRYPT_DECRYPT (ERR_VALIDATION) and a key that does not exist (ERR_DEPENDENCY)', async () => {
    const { up } = await upstream();
    const rsa = await newKey(up.kms, { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    expect(await failure(openAwsKmsRootOfTrust(optionsFor(up.server.credentials, rsa.keyId)))).toMatchObject({
      code: 'ERR_VALIDATION',
      message: `The upstream KMS key ${rsa.arn} is not a SYMMETRIC_DEFAULT ENCRYPT_DECRYPT key (it is RSA_2048 SIGN_VERIFY).`,
    });
    const hmac = await newKey(up.kms, { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    expect(await failure(openAwsKmsRootOfTrust(optionsFor(up.server.credentials, hmac.keyId)))).toMatchObject({ code: 'ERR_VALIDATION' });
    expect(await failure(openAwsKmsRootOfTrust(optionsFor(up.server.credentials, 'alias/no-such-root')))).toMatchObject({
      code: 'ERR_DEPENDENCY',
      message: 'The upstream KMS key cannot be used for DescribeKey: NotFoundException.',
    });
  });

  it('fails with ERR_DEPENDENCY on wrong credentials and on a principal the upstream does not allow to Encrypt, never echoing a secret', async () => {
    const { up, keyA } = await upstream();
    const creds = up.server.credentials;
    const wrongSecret = 'x'.repeat(40);
    const badSecret = await failure(openAwsKmsRootOfTrust(optionsFor({ ...creds, secretAccessKey: wrongSecret }, keyA.keyId)));
    expect(badSecret).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The upstream KMS refused DescribeKey: InvalidSignatureException.' });
    const badId = await failure(openAwsKmsRootOfTrust(optionsFor({ ...creds, accessKeyId: 'DDAKAAAAAAAAAAAAAAAA' }, keyA.keyId)));
    expect(badId).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The upstream KMS refused DescribeKey: UnrecognizedClientException.' });

    // security-analyst: may read key metadata, may not use keys.
    const analyst = await addPrincipal(creds, `analyst-${randomBytes(4).toString('hex')}`, { roles: ['security-analyst'] });
    const root = await open(optionsFor(analyst, keyA.keyId));
    const refused = await failure(root.wrap(secret(32), aad('x')));
    expect(refused).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The upstream KMS refused Encrypt: AccessDeniedException.' });
    const wrapped = await (await open(optionsFor(creds, keyA.keyId))).wrap(secret(32), aad('x'));
    expect(await failure(root.unwrap(wrapped, aad('x')))).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The upstream KMS refused Decrypt: AccessDeniedException.' });
    for (const e of [badSecret, badId, refused]) {
      expect(e.message).not.toContain(wrongSecret);
      expect(e.message).not.toContain(creds.secretAccessKey);
      expect(e.message).not.toContain(analyst.secretAccessKey);
    }
  });

  it('verifies the upstream TLS certificate: no CA bundle (dev CA untrusted), another CA, or NODE_TLS_REJECT_UNAUTHORIZED=0 -> ERR_DEPENDENCY', async () => {
    const { up, keyA } = await upstream();
    expect(process.env.NODE_EXTRA_CA_CERTS ?? '').not.toBe(up.server.credentials.caCertFile);
    const noBundle = await failure(openAwsKmsRootOfTrust(optionsFor(up.server.credentials, keyA.keyId, { caBundlePem: undefined })));
    expect(noBundle.code).toBe('ERR_DEPENDENCY');
    expect(noBundle.message).toMatch(/^The upstream KMS's TLS certificate is not trusted or the handshake failed: [A-Z_]+\.$/);

    const now = Date.now();
    const other = await createRootCa({ commonName: 'Another CA', notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 86_400_000), pathLength: 0 });
    const otherCa = await failure(openAwsKmsRootOfTrust(optionsFor(up.server.credentials, keyA.keyId, { caBundlePem: other.certPem })));
    expect(otherCa.code).toBe('ERR_DEPENDENCY');
    expect(otherCa.message).toMatch(/TLS certificate is not trusted/);

    const previous = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      const insecureEnv = await failure(openAwsKmsRootOfTrust(optionsFor(up.server.credentials, keyA.keyId, { caBundlePem: undefined })));
      expect(insecureEnv.message).toMatch(/TLS certificate is not trusted/);
    } finally {
      if (previous === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previous;
    }
  });

  it('shows the upstream only encryption-context keys: its audit events name the key and the context keys, never the AAD digest', async () => {
    const { up, keyA } = await upstream();
    const rest = restClient(up.server.credentials);
    const before = (await rest('GET', '/v1/audit/events?limit=1000')).body.events as Array<{ sequence: number }>;
    const after = Math.max(0, ...before.map((e) => e.sequence));
    const root = await open(optionsFor(up.server.credentials, keyA.keyId));
    const marker = aad(`audit/${randomBytes(8).toString('hex')}`);
    const wrapped = await root.wrap(secret(32), marker);
    await root.unwrap(wrapped, marker);
    await expect(root.unwrap(wrapped, aad('audit/other'))).rejects.toMatchObject(INVALID_CIPHERTEXT);

    const res = await rest('GET', `/v1/audit/events?after=${after}&limit=1000`);
    expect(res.status).toBe(200);
    const events = (res.body.events as Array<Record<string, any>>).filter((e) => String(e.userAgent).includes('datadefender-root-of-trust/aws-kms'));
    const encrypts = events.filter((e) => e.eventName === 'Encrypt');
    const decrypts = events.filter((e) => e.eventName === 'Decrypt');
    expect(encrypts.length).toBeGreaterThan(0);
    expect(decrypts.length).toBeGreaterThan(0);
    for (const e of [...encrypts, ...decrypts]) {
      expect(e.eventSource).toBe('aws-kms');
      expect(e.credential).toBe(`access-key:${up.server.credentials.accessKeyId}`);
      // The upstream records the keys of the encryption context (sorted), not their values.
      expect(e.details.encryptionContextKeys).toEqual(['datadefender:aad', 'datadefender:purpose']);
    }
    expect(encrypts.some((e) => e.resource === keyA.arn && e.outcome === 'success')).toBe(true);
    expect(decrypts.some((e) => e.resource === keyA.arn && e.outcome === 'success')).toBe(true);
    expect(decrypts.some((e) => e.resource === keyA.arn && e.outcome !== 'success')).toBe(true);
    const text = JSON.stringify(res.body);
    expect(text).not.toContain(sha256b64url(marker));
    expect(text).not.toContain(marker.toString('utf8'));
    expect(text).not.toContain('root-wrap');
  });

  it('uses the AWS SDK credential chain when no credentials are given, and fails with ERR_DEPENDENCY when it finds none', async () => {
    const { up, keyA } = await upstream();
    const names = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_EC2_METADATA_DISABLED'];
    const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
    try {
      for (const n of names) delete process.env[n];
      process.env.AWS_SHARED_CREDENTIALS_FILE = join(tmpdir(), 'dd-no-such-credentials');
      process.env.AWS_CONFIG_FILE = join(tmpdir(), 'dd-no-such-config');
      process.env.AWS_EC2_METADATA_DISABLED = 'true';
      process.env.AWS_ACCESS_KEY_ID = up.server.credentials.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = up.server.credentials.secretAccessKey;
      const root = await open(optionsFor(up.server.credentials, keyA.keyId, { credentials: undefined }));
      expect((await root.unwrap(await root.wrap(secret(32), aad('env')), aad('env'))).length).toBe(32);

      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
      expect(await failure(openAwsKmsRootOfTrust(optionsFor(up.server.credentials, keyA.keyId, { credentials: undefined })))).toMatchObject({
        code: 'ERR_DEPENDENCY',
        message: 'No credentials for the upstream KMS were found by the AWS SDK credential chain.',
      });
    } finally {
      for (const n of names) {
        if (saved[n] === undefined) delete process.env[n];
        else process.env[n] = saved[n];
      }
    }
  });

  it('answers health from a short cache and refuses every operation after close', async () => {
    const { up, keyA } = await upstream();
    const root = await openAwsKmsRootOfTrust(optionsFor(up.server.credentials, keyA.keyId, { healthCacheMs: 60_000 }));
    const wrapped = await root.wrap(secret(32), aad('c'));
    const [h1, h2] = await Promise.all([root.health(), root.health()]);
    expect([h1, h2]).toEqual(['ok', 'ok']);
    await root.close();
    await root.close();
    expect(await root.health()).toBe('unavailable');
    expect(await failure(root.wrap(secret(32), aad('c')))).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The aws-kms root of trust is closed.' });
    expect(await failure(root.unwrap(wrapped, aad('c')))).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The aws-kms root of trust is closed.' });
  });

  it('validates its options before any request (ERR_VALIDATION)', async () => {
    const { up, keyA } = await upstream();
    const base = optionsFor(up.server.credentials, keyA.keyId);
    const bad: Partial<AwsKmsRootOfTrustOptions>[] = [
      { keyId: '' },
      { keyId: ' padded ' },
      { region: 'nowhere' },
      { endpoint: up.server.credentials.endpoint.replace('https:', 'http:') },
      { endpoint: 'not a url' },
      { caBundlePem: 'not a certificate' },
      { timeoutMs: 0 },
      { timeoutMs: 1.5 },
      { maxAttempts: 0 },
      { healthCacheMs: -1 },
      { credentials: { accessKeyId: 'x', secretAccessKey: '' } },
    ];
    for (const b of bad) await expect(openAwsKmsRootOfTrust({ ...base, ...b }), JSON.stringify(b)).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
  });
});

describe('aws-kms root of trust when the upstream stops, hangs and comes back', () => {
  let dir: string;
  let server: DevServer | undefined;
  let root: AwsKmsRootOfTrust | undefined;
  let hole: Server | undefined;
  const held: Socket[] = [];
  const TIMEOUT_MS = 2_000;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-upstream-restart-'));
    server = await startDevServer(dir);
  });
  afterAll(async () => {
    await root?.close();
    held.forEach((s) => s.destroy());
    await new Promise<void>((resolve) => (hole ? hole.close(() => resolve()) : resolve()));
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('fails with ERR_DEPENDENCY within the timeout while the upstream is down or silent, and works again once it is back', async () => {
    const creds = server!.credentials;
    const admin = kmsClient(creds);
    const key = await newKey(admin);
    admin.destroy();
    root = await openAwsKmsRootOfTrust(optionsFor(creds, key.keyId, { timeoutMs: TIMEOUT_MS, healthCacheMs: 0 }));
    const wrapped = await root.wrap(secret(32), aad('r'));

    // Stopped: connections are refused (after the SDK's retries), well within the deadline.
    await server!.stop();
    let started = Date.now();
    const down = await failure(root.wrap(secret(32), aad('r')));
    expect(down.code).toBe('ERR_DEPENDENCY');
    expect(down.message).toMatch(/^The upstream KMS is unreachable( after \d attempts)?: (ECONNREFUSED|ECONNRESET)\.$/);
    expect(await failure(root.unwrap(wrapped, aad('r')))).toMatchObject({ code: 'ERR_DEPENDENCY' });
    expect(Date.now() - started).toBeLessThan(2 * TIMEOUT_MS);
    expect(await root.health()).toBe('unavailable');
    const refusedAtOpen = await failure(openAwsKmsRootOfTrust(optionsFor(creds, key.keyId, { timeoutMs: TIMEOUT_MS })));
    expect(refusedAtOpen).toMatchObject({ code: 'ERR_DEPENDENCY' });

    // Silent: something accepts connections on the port and never answers — the deadline ends each operation.
    hole = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => hole!.listen(server!.port, '127.0.0.1', () => resolve()));
    started = Date.now();
    const silent = await failure(root.unwrap(wrapped, aad('r')));
    const elapsed = Date.now() - started;
    expect(silent).toMatchObject({ code: 'ERR_DEPENDENCY', message: `The upstream KMS did not answer Decrypt within ${TIMEOUT_MS} ms.` });
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 1_500);
    started = Date.now();
    expect(await failure(openAwsKmsRootOfTrust(optionsFor(creds, key.keyId, { timeoutMs: TIMEOUT_MS })))).toMatchObject({
      code: 'ERR_DEPENDENCY',
      message: `The upstream KMS did not answer DescribeKey within ${TIMEOUT_MS} ms.`,
    });
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 1_500);
    held.forEach((s) => s.destroy());
    await new Promise<void>((resolve) => hole!.close(() => resolve()));
    hole = undefined;

    // Back on the same port and data directory: the same adapter works again, old blobs included.
    server = await startDevServer(dir, { port: server!.port });
    expect((await root.unwrap(wrapped, aad('r'))).length).toBe(32);
    expect((await root.unwrap(await root.wrap(secret(32), aad('s')), aad('s'))).length).toBe(32);
    expect(await root.health()).toBe('ok');
  }, 60_000);
});

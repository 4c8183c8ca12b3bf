// The aws-kms root of trust against a scripted HTTPS upstream (AWS JSON 1.1 over real TLS, certificates from the
// dev CA code): the exact requests the adapter sends (key pinned, encryption context values), and the upstream
// answers a DataDefender upstream cannot be made to give — throttling and 5xx after retries, untrustworthy error
// messages and names, answers for another key.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openAwsKmsRootOfTrust, type AwsKmsRootOfTrustOptions } from '../../src/adapters/root-of-trust/aws-kms/index.js';
import { SecretBytes } from '../../src/crypto/index.js';
import { ensureDevCertificates } from '../../src/pki/dev-ca.js';

const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const OTHER_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/ffffffff-12ab-34cd-56ef-1234567890ab';

interface Request {
  op: string;
  body: Record<string, any>;
}
type Answer = { status: number; body?: unknown; raw?: string };
type Script = (r: Request) => Answer | undefined;

const requests: Request[] = [];
let script: Script = () => undefined;
const stored = new Map<string, { plaintext: string; context: string; keyId: string }>();

/** A well-behaved upstream: DescribeKey shows a usable key; Encrypt stores the plaintext, Decrypt checks key and context. */
function honest(r: Request, metadata: Record<string, unknown> = {}): Answer {
  if (r.op === 'DescribeKey') {
    return { status: 200, body: { KeyMetadata: { KeyId: KEY_ARN.split('/')[1], Arn: KEY_ARN, KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', KeyState: 'Enabled', ...metadata } } };
  }
  if (r.op === 'Encrypt') {
    const id = randomBytes(16).toString('base64');
    stored.set(id, { plaintext: r.body.Plaintext, context: JSON.stringify(r.body.EncryptionContext), keyId: r.body.KeyId });
    return { status: 200, body: { CiphertextBlob: id, KeyId: KEY_ARN, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' } };
  }
  if (r.op === 'Decrypt') {
    const entry = stored.get(r.body.CiphertextBlob);
    if (!entry) return { status: 400, body: { __type: 'InvalidCiphertextException', message: 'no' } };
    if (entry.keyId !== r.body.KeyId) return { status: 400, body: { __type: 'IncorrectKeyException', message: 'no' } };
    if (entry.context !== JSON.stringify(r.body.EncryptionContext)) return { status: 400, body: { __type: 'InvalidCiphertextException', message: 'no' } };
    return { status: 200, body: { Plaintext: entry.plaintext, KeyId: KEY_ARN, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' } };
  }
  return { status: 400, body: { __type: 'UnknownOperationException' } };
}

let dir: string;
let server: Server;
let caPem: string;
let endpoint: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dd-fake-upstream-'));
  const tls = await ensureDevCertificates(dir, { hosts: ['127.0.0.1'] });
  caPem = tls.caCertPem;
  server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const op = String(req.headers['x-amz-target'] ?? '').replace('TrentService.', '');
      const r: Request = { op, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') };
      requests.push(r);
      const answer = script(r) ?? honest(r);
      res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(answer.raw ?? (answer.body === undefined ? '' : JSON.stringify(answer.body)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  endpoint = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  requests.length = 0;
  script = () => undefined;
});

const options = (extra: Partial<AwsKmsRootOfTrustOptions> = {}): AwsKmsRootOfTrustOptions => ({
  keyId: 'alias/datadefender-root',
  region: 'eu-west-1',
  endpoint,
  credentials: { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake-secret-access-key-0123456789abcdef', sessionToken: 'fake-session' },
  caBundlePem: caPem,
  timeoutMs: 10_000,
  ...extra,
});
const aad = (s: string) => Buffer.from(s, 'utf8');
const secret = () => SecretBytes.copyOf(randomBytes(32));
const count = (op: string) => requests.filter((r) => r.op === op).length;

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected a failure');
}

describe('aws-kms root of trust against a scripted upstream', () => {
  it('resolves the key once and pins its ARN; the encryption context is the purpose and the base64url SHA-256 of the AAD', async () => {
    const root = await openAwsKmsRootOfTrust(options());
    expect(root.keyArn).toBe(KEY_ARN);
    expect(requests).toEqual([{ op: 'DescribeKey', body: { KeyId: 'alias/datadefender-root' } }]);
    const material = randomBytes(32);
    const wrapped = await root.wrap(SecretBytes.copyOf(material), aad('key/k1/v1'));
    const unwrapped = await root.unwrap(wrapped, aad('key/k1/v1'));
    expect(Buffer.compare(unwrapped.reveal(), material)).toBe(0);
    const context = { 'datadefender:purpose': 'root-wrap', 'datadefender:aad': createHash('sha256').update('key/k1/v1').digest('base64url') };
    expect(requests[1]).toEqual({ op: 'Encrypt', body: { KeyId: KEY_ARN, Plaintext: material.toString('base64'), EncryptionContext: context, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' } });
    expect(requests[2]!.op).toBe('Decrypt');
    expect(requests[2]!.body).toMatchObject({ KeyId: KEY_ARN, EncryptionContext: context, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    expect(Buffer.from(wrapped).subarray(1).toString('base64')).toBe(requests[2]!.body.CiphertextBlob);

    // Format 2: the upstream only ever sees a 32-byte data key, under its own purpose.
    requests.length = 0;
    const large = randomBytes(5000);
    const wrappedLarge = await root.wrap(SecretBytes.copyOf(large), aad('key/k1/v2'));
    expect(requests).toHaveLength(1);
    expect(Buffer.from(requests[0]!.body.Plaintext, 'base64')).toHaveLength(32);
    expect(requests[0]!.body.EncryptionContext['datadefender:purpose']).toBe('root-wrap-dek');
    expect(Buffer.compare((await root.unwrap(wrappedLarge, aad('key/k1/v2'))).reveal(), large)).toBe(0);
    await root.close();
  });

  it('reports throttling and 5xx after the SDK retries, with the attempt count', async () => {
    const root = await openAwsKmsRootOfTrust(options({ maxAttempts: 3 }));
    script = (r) => (r.op === 'Encrypt' ? { status: 400, body: { __type: 'ThrottlingException', message: 'slow down' } } : undefined);
    expect(await failure(root.wrap(secret(), aad('t')))).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The upstream KMS throttled Encrypt after 3 attempts: ThrottlingException.' });
    expect(count('Encrypt')).toBe(3);

    requests.length = 0;
    script = (r) => (r.op === 'Encrypt' ? { status: 500, body: { __type: 'KMSInternalException', message: 'boom' } } : undefined);
    expect(await failure(root.wrap(secret(), aad('t')))).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The upstream KMS failed Encrypt after 3 attempts: KMSInternalException.' });
    expect(count('Encrypt')).toBe(3);

    requests.length = 0;
    script = (r) => (r.op === 'Encrypt' ? { status: 503, raw: '<html>Service Unavailable</html>' } : undefined);
    const bare = await failure(root.wrap(secret(), aad('t')));
    expect(bare).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The upstream KMS failed Encrypt after 3 attempts: HTTP 503.' });
    expect(count('Encrypt')).toBe(3);
    requests.length = 0;
    script = (r) => (r.op === 'Encrypt' ? { status: 502, raw: '' } : undefined);
    expect(await failure(root.wrap(secret(), aad('t')))).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The upstream KMS failed Encrypt after 3 attempts: HTTP 502.' });
    expect(count('Encrypt')).toBe(3);

    // A transient failure that clears before the attempts run out is invisible.
    requests.length = 0;
    let failures = 2;
    script = (r) => (r.op === 'Encrypt' && failures-- > 0 ? { status: 500, body: { __type: 'KMSInternalException' } } : undefined);
    await root.wrap(secret(), aad('t'));
    expect(count('Encrypt')).toBe(3);
    await root.close();

    const once = await openAwsKmsRootOfTrust(options({ maxAttempts: 1 }));
    requests.length = 0;
    script = (r) => (r.op === 'Decrypt' ? { status: 400, body: { __type: 'ThrottlingException' } } : undefined);
    expect(await failure(once.unwrap(Buffer.from([1, 2, 3]), aad('t')))).toMatchObject({ message: 'The upstream KMS throttled Decrypt: ThrottlingException.' });
    expect(count('Decrypt')).toBe(1);
    await once.close();
  });

  it('never repeats an upstream message, and repeats an error name only when it looks like one', async () => {
    const root = await openAwsKmsRootOfTrust(options());
    script = (r) => (r.op === 'Encrypt' ? { status: 400, body: { __type: 'AccessDeniedException', message: 'TOPSECRET plaintext here' } } : undefined);
    const denied = await failure(root.wrap(secret(), aad('m')));
    expect(denied).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The upstream KMS refused Encrypt: AccessDeniedException.' });
    script = (r) => (r.op === 'Encrypt' ? { status: 400, body: { __type: 'Leak TOPSECRET <b>', message: 'TOPSECRET' } } : undefined);
    const odd = await failure(root.wrap(secret(), aad('m')));
    expect(odd.code).toBe('ERR_DEPENDENCY');
    expect(odd.message).not.toContain('TOPSECRET');
    expect(odd.message).toBe('The upstream KMS refused Encrypt: HTTP 400.');
    script = (r) => (r.op === 'Encrypt' ? { status: 400, body: { __type: 'ValidationException', message: 'Value TOPSECRET at plaintext' } } : undefined);
    expect(await failure(root.wrap(secret(), aad('m')))).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The upstream KMS rejected the Encrypt request: ValidationException.' });
    // A ciphertext refusal answering Encrypt is the upstream's failure, not the caller's ciphertext.
    script = (r) => (r.op === 'Encrypt' ? { status: 400, body: { __type: 'InvalidCiphertextException' } } : undefined);
    expect(await failure(root.wrap(secret(), aad('m')))).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The upstream KMS failed Encrypt: InvalidCiphertextException.' });
    await root.close();
  });

  it('refuses answers for another key and answers that are not what AWS KMS returns', async () => {
    const root = await openAwsKmsRootOfTrust(options());
    const wrapped = await root.wrap(secret(), aad('o'));
    script = (r) => (r.op === 'Encrypt' ? { status: 200, body: { CiphertextBlob: 'AAAA', KeyId: OTHER_ARN } } : undefined);
    expect(await failure(root.wrap(secret(), aad('o')))).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The upstream KMS answered Encrypt with an unexpected response.' });
    script = (r) => (r.op === 'Encrypt' ? { status: 200, body: { KeyId: KEY_ARN } } : undefined);
    expect(await failure(root.wrap(secret(), aad('o')))).toMatchObject({ message: 'The upstream KMS answered Encrypt with an unexpected response.' });
    script = (r) => (r.op === 'Decrypt' ? { status: 200, body: { Plaintext: randomBytes(32).toString('base64'), KeyId: OTHER_ARN } } : undefined);
    expect(await failure(root.unwrap(wrapped, aad('o')))).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The upstream KMS answered Decrypt with an unexpected response.' });
    script = (r) => (r.op === 'Decrypt' ? { status: 400, body: { __type: 'IncorrectKeyException' } } : undefined);
    expect(await failure(root.unwrap(wrapped, aad('o')))).toMatchObject({ code: 'ERR_INVALID_CIPHERTEXT' });
    script = () => undefined;
    expect((await root.unwrap(wrapped, aad('o'))).length).toBe(32);
    await root.close();

    script = (r) => (r.op === 'DescribeKey' ? { status: 200, body: { KeyMetadata: { KeyId: 'x' } } } : undefined);
    expect(await failure(openAwsKmsRootOfTrust(options()))).toMatchObject({ code: 'ERR_DEPENDENCY', message: 'The upstream KMS answered DescribeKey with an unexpected response.' });
    script = (r) => (r.op === 'DescribeKey' ? honest(r, { KeyState: 'PendingDeletion', Enabled: false }) : undefined);
    expect(await failure(openAwsKmsRootOfTrust(options()))).toMatchObject({ code: 'ERR_DEPENDENCY', message: `The upstream KMS key ${KEY_ARN} is not usable: its state is PendingDeletion.` });
  });

  it('answers health from its cache and probes again once it expires or after a failed operation', async () => {
    const root = await openAwsKmsRootOfTrust(options({ healthCacheMs: 60_000 }));
    requests.length = 0;
    expect(await Promise.all([root.health(), root.health(), root.health()])).toEqual(['ok', 'ok', 'ok']);
    expect(count('DescribeKey')).toBe(1);
    expect(await root.health()).toBe('ok');
    expect(count('DescribeKey')).toBe(1);

    script = (r) => (r.op === 'DescribeKey' ? honest(r, { KeyState: 'Disabled', Enabled: false }) : r.op === 'Encrypt' ? { status: 400, body: { __type: 'DisabledException' } } : undefined);
    await failure(root.wrap(secret(), aad('h')));
    expect(await root.health()).toBe('unavailable');
    expect(count('DescribeKey')).toBe(2);
    await root.close();

    script = () => undefined;
    const uncached = await openAwsKmsRootOfTrust(options({ healthCacheMs: 0 }));
    requests.length = 0;
    expect(await uncached.health()).toBe('ok');
    expect(await uncached.health()).toBe('ok');
    expect(count('DescribeKey')).toBe(2);
    await uncached.close();
  });
});

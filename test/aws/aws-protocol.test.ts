// The AWS JSON 1.1 wire protocol and SigV4 verification, with requests signed by the official signer
// (@smithy/signature-v4) and then tampered with.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListKeysCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kmsClient, rawAwsRequest } from '../helpers/aws-clients.js';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';
import { restClient } from '../helpers/rest-client.js';

let dir: string;
let server: DevServer;
let keyId: string;

const ENCRYPT = 'TrentService.Encrypt';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dd-awsp-'));
  server = await startDevServer(dir);
  const created = await rawAwsRequest(server.credentials, { target: 'TrentService.CreateKey', body: '{}' });
  keyId = (created.body.KeyMetadata as { KeyId: string }).KeyId;
});

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

const encryptBody = () => JSON.stringify({ KeyId: keyId, Plaintext: Buffer.from('hello').toString('base64') });

describe('wire protocol', () => {
  it('answers with AWS JSON, x-amzn-RequestId and Date on success', async () => {
    const r = await rawAwsRequest(server.credentials, { target: ENCRYPT, body: encryptBody() });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(r.headers['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers['date']).toBeTruthy();
    expect(r.headers['strict-transport-security']).toBeTruthy();
    expect(typeof r.body.CiphertextBlob).toBe('string');
  });

  it('answers JSON 400s for unknown operations, malformed JSON and wrong member types, never a 500', async () => {
    const cases: Array<[string | undefined, string, string]> = [
      ['TrentService.DoSomething', '{}', 'UnknownOperationException'],
      [undefined, '{}', 'UnknownOperationException'],
      ['OtherService.Encrypt', '{}', 'UnknownOperationException'],
      [ENCRYPT, '{"KeyId": ', 'ValidationException'],
      [ENCRYPT, '[]', 'ValidationException'],
      [ENCRYPT, JSON.stringify({ KeyId: keyId, Plaintext: 5 }), 'ValidationException'],
      [ENCRYPT, JSON.stringify({ KeyId: keyId, Plaintext: 'not base64!' }), 'ValidationException'],
      [ENCRYPT, JSON.stringify({ KeyId: keyId, Plaintext: 'aGk=', EncryptionContext: { a: 1 } }), 'ValidationException'],
      [ENCRYPT, JSON.stringify({ KeyId: ['x'], Plaintext: 'aGk=' }), 'ValidationException'],
      [ENCRYPT, JSON.stringify({ Plaintext: 'aGk=' }), 'ValidationException'],
      ['TrentService.GenerateRandom', JSON.stringify({ NumberOfBytes: 1.5 }), 'ValidationException'],
      ['TrentService.CreateKey', JSON.stringify({ Tags: 'x' }), 'ValidationException'],
      ['TrentService.Encrypt', JSON.stringify({ KeyId: keyId, Plaintext: 'aGk=', DryRun: true }), 'UnsupportedOperationException'],
    ];
    for (const [target, body, type] of cases) {
      const r = await rawAwsRequest(server.credentials, { ...(target ? { target } : {}), body });
      expect({ target, body, status: r.status, type: r.body.__type }).toEqual({ target, body, status: 400, type });
      expect(typeof r.body.message).toBe('string');
      expect(r.headers['x-amzn-requestid']).toBeTruthy();
    }
    const missing = await rawAwsRequest(server.credentials, { target: ENCRYPT, body: JSON.stringify({}) });
    expect(missing.body.message).toBe(
      "2 validation errors detected: Value at 'keyId' failed to satisfy constraint: Member must not be null; Value at 'plaintext' failed to satisfy constraint: Member must not be null",
    );
  });

  it('ignores members it does not know (newer SDKs add some)', async () => {
    const body = JSON.stringify({ KeyId: keyId, Plaintext: 'aGk=', SomethingNew: { x: 1 } });
    expect((await rawAwsRequest(server.credentials, { target: ENCRYPT, body })).status).toBe(200);
  });

  it('refuses oversized bodies with a JSON error', async () => {
    const body = JSON.stringify({ KeyId: keyId, Plaintext: 'A'.repeat(300_000) });
    const r = await rawAwsRequest(server.credentials, { target: ENCRYPT, body });
    expect(r.status).toBe(413);
    expect(r.body.__type).toBe('ValidationException');
  });
});

describe('SigV4', () => {
  it('refuses a wrong secret with InvalidSignatureException', async () => {
    const r = await rawAwsRequest(server.credentials, { target: ENCRYPT, body: encryptBody(), secretAccessKey: 'x'.repeat(40) });
    expect(r.status).toBe(400);
    expect(r.body.__type).toBe('InvalidSignatureException');
    expect(r.body.message).toMatch(/^The request signature we calculated does not match/);
  });

  it('refuses a body changed after signing', async () => {
    const tampered = JSON.stringify({ KeyId: keyId, Plaintext: Buffer.from('HELLO').toString('base64') });
    const r = await rawAwsRequest(server.credentials, { target: ENCRYPT, body: encryptBody(), tamperedBody: tampered });
    expect(r.body.__type).toBe('InvalidSignatureException');
  });

  it('refuses an x-amz-content-sha256 that does not match the body', async () => {
    const r = await rawAwsRequest(server.credentials, {
      target: ENCRYPT,
      body: encryptBody(),
      afterSigning: { 'x-amz-content-sha256': '0'.repeat(64) },
    });
    expect(r.body.__type).toBe('InvalidSignatureException');
  });

  it('refuses a request signed 10 minutes ago or 10 minutes ahead', async () => {
    const old = await rawAwsRequest(server.credentials, { target: ENCRYPT, body: encryptBody(), signingDate: new Date(Date.now() - 600_000) });
    expect(old.body.__type).toBe('InvalidSignatureException');
    expect(old.body.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/);
    const ahead = await rawAwsRequest(server.credentials, { target: ENCRYPT, body: encryptBody(), signingDate: new Date(Date.now() + 600_000) });
    expect(ahead.body.message).toMatch(/^Signature not yet current/);
    const near = await rawAwsRequest(server.credentials, { target: ENCRYPT, body: encryptBody(), signingDate: new Date(Date.now() - 240_000) });
    expect(near.status).toBe(200);
  });

  it('names missing, malformed and unknown credentials', async () => {
    const missing = await rawAwsRequest(server.credentials, { target: ENCRYPT, body: encryptBody(), drop: ['authorization'] });
    expect([missing.status, missing.body.__type]).toEqual([403, 'MissingAuthenticationTokenException']);
    const garbled = await rawAwsRequest(server.credentials, {
      target: ENCRYPT,
      body: encryptBody(),
      afterSigning: { authorization: 'AWS4-HMAC-SHA256 Credential=abc' },
    });
    expect([garbled.status, garbled.body.__type]).toEqual([400, 'IncompleteSignatureException']);
    const noDate = await rawAwsRequest(server.credentials, { target: ENCRYPT, body: encryptBody(), drop: ['x-amz-date'] });
    expect(noDate.body.__type).toBe('IncompleteSignatureException');
    const unknown = await rawAwsRequest(server.credentials, { target: ENCRYPT, body: encryptBody(), accessKeyId: 'DDAKAAAAAAAAAAAAAAAA' });
    expect([unknown.status, unknown.body.__type, unknown.body.message]).toEqual([
      400,
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    ]);
    const token = await rawAwsRequest(server.credentials, { target: ENCRYPT, body: encryptBody(), afterSigning: { 'x-amz-security-token': 'abc' } });
    expect(token.body.__type).toBe('UnrecognizedClientException');
    const region = await rawAwsRequest(server.credentials, { target: ENCRYPT, body: encryptBody(), region: 'eu-west-1' });
    expect(region.body.__type).toBe('InvalidSignatureException');
  });

  it('refuses a signed header dropped or changed after signing', async () => {
    const changed = await rawAwsRequest(server.credentials, { target: ENCRYPT, body: encryptBody(), afterSigning: { 'x-amz-target': 'TrentService.Decrypt' } });
    expect(changed.body.__type).toBe('InvalidSignatureException');
  });

  it('audits refused requests without secrets', async () => {
    await rawAwsRequest(server.credentials, { target: ENCRYPT, body: encryptBody(), secretAccessKey: 'y'.repeat(40) });
    const events = (await restClient(server.credentials)('GET', '/v1/audit/events?limit=1000')).body.events as Array<Record<string, unknown>>;
    const refused = events.filter((e) => e.eventSource === 'aws-kms' && e.outcome === 'denied');
    expect(refused.length).toBeGreaterThan(3);
    expect(refused.some((e) => e.eventName === 'Encrypt' && e.errorCode === 'ERR_UNAUTHENTICATED')).toBe(true);
    expect(JSON.stringify(events)).not.toContain(server.credentials.secretAccessKey);
  });

  it('works for the SDK, which signs x-amz-content-sha256 and its own headers', async () => {
    const kms = kmsClient(server.credentials);
    expect((await kms.send(new ListKeysCommand({}))).Keys!.length).toBeGreaterThan(0);
    kms.destroy();
  });
});

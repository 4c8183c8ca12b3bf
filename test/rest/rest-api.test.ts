/**
 * The native REST API in-process over real HTTPS: validation, problem+json errors, no changes on bad input.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/main.js';
import { b64, restClient, type DevCredentialsFile } from '../helpers/rest-client.js';

describe('native REST API', () => {
  let dir: string;
  let server: RunningServer;
  let rest: ReturnType<typeof restClient>;
  let creds: DevCredentialsFile;
  let keyId: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-rest-'));
    const config = loadServerConfig({ dev: true, dataDir: dir, listen: '127.0.0.1:0' }, {});
    server = await startServer(config, pino({ level: 'silent' }));
    creds = JSON.parse(await readFile(server.credentialsFile!, 'utf8')) as DevCredentialsFile;
    rest = restClient(creds);
    keyId = (await rest('POST', '/v1/keys', { description: 'rest' })).body.key.keyId;
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const keyCount = async () => (await rest('GET', '/v1/keys?limit=1000')).body.keys.length as number;

  it('answers health without credentials, with security headers and a request id', async () => {
    const res = await restClient(creds, { token: null })('GET', '/v1/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', storage: 'sqlite', rootOfTrust: 'local', audit: 'ok', certificate: { source: 'built-in' } });
    // The serving certificate's expiry and renewal time (PCI DSS 4.2.1.1: certificates are inventoried and kept valid).
    const { notAfter, renewAt } = res.body.certificate as { notAfter: string; renewAt: string };
    expect(Date.parse(renewAt)).toBeGreaterThan(Date.now());
    expect(Date.parse(renewAt)).toBeLessThan(Date.parse(notAfter));
    expect(res.headers['strict-transport-security']).toContain('max-age=');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('requires a valid bearer token', async () => {
    for (const token of [null, 'nope', `ddt_${'x'.repeat(43)}`]) {
      const res = await restClient(creds, { token })('GET', '/v1/keys');
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'ERR_UNAUTHENTICATED', type: 'urn:datadefender:error:ERR_UNAUTHENTICATED', status: 401 });
    }
  });

  it('creates keys with the documented shape', async () => {
    const res = await rest('POST', '/v1/keys', { description: 'card vault', tags: { team: 'payments' }, rotationPeriodInDays: 365 });
    expect(res.status).toBe(201);
    expect(res.body.key).toMatchObject({
      arn: `arn:aws:kms:us-east-1:${creds.accountId}:key/${res.body.key.keyId}`,
      description: 'card vault',
      keySpec: 'SYMMETRIC_DEFAULT',
      keyUsage: 'ENCRYPT_DECRYPT',
      state: 'Enabled',
      currentVersion: 1,
      rotation: { enabled: true, periodInDays: 365 },
      deletionAt: null,
      tags: { team: 'payments' },
    });
    const off = await rest('POST', '/v1/keys', { automaticRotation: false });
    expect(off.body.key.rotation).toEqual({ enabled: false, periodInDays: null, nextRotationAt: null });
  });

  it('rejects bad input with a 4xx problem and changes nothing', async () => {
    const before = await keyCount();
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/v1/keys', { description: 42 }, 400, 'ERR_VALIDATION'],
      ['POST', '/v1/keys', { surprise: true }, 400, 'ERR_VALIDATION'],
      ['POST', '/v1/keys', { rotationPeriodInDays: '365' }, 400, 'ERR_VALIDATION'],
      ['POST', '/v1/keys', { rotationPeriodInDays: 30 }, 400, 'ERR_VALIDATION'],
      ['POST', '/v1/keys', '{not json', 400, 'ERR_VALIDATION'],
      ['POST', '/v1/keys', { description: 'x'.repeat(70_000) }, 413, 'ERR_PAYLOAD_TOO_LARGE'],
      ['POST', '/v1/encrypt', { keyId, plaintext: 'not base64!' }, 400, 'ERR_VALIDATION'],
      ['POST', '/v1/encrypt', { keyId, plaintext: 12 }, 400, 'ERR_VALIDATION'],
      ['POST', '/v1/encrypt', { keyId, plaintext: '' }, 400, 'ERR_VALIDATION'],
      ['POST', '/v1/encrypt', { keyId, plaintext: b64('x'.repeat(4097)) }, 400, 'ERR_VALIDATION'],
      ['POST', '/v1/encrypt', { keyId: '00000000-0000-4000-8000-000000000000', plaintext: b64('x') }, 404, 'ERR_NOT_FOUND'],
      ['POST', '/v1/encrypt', { keyId, plaintext: b64('x'), encryptionContext: { a: 1 } }, 400, 'ERR_VALIDATION'],
      ['POST', '/v1/decrypt', { ciphertext: b64('garbage') }, 400, 'ERR_INVALID_CIPHERTEXT'],
      ['POST', '/v1/data-keys', { keyId, keySpec: 'AES_256', numberOfBytes: 32 }, 400, 'ERR_VALIDATION'],
      ['POST', '/v1/random', { numberOfBytes: 2000 }, 400, 'ERR_VALIDATION'],
      ['GET', '/v1/keys?limit=abc', undefined, 400, 'ERR_VALIDATION'],
      ['GET', '/v1/keys?marker=%21%21', undefined, 400, 'ERR_INVALID_MARKER'],
      ['GET', '/v1/keys/not-a-key', undefined, 404, 'ERR_NOT_FOUND'],
      ['POST', `/v1/keys/${keyId}/schedule-deletion`, { pendingWindowInDays: 3 }, 400, 'ERR_VALIDATION'],
      ['POST', `/v1/keys/${keyId}/cancel-deletion`, undefined, 409, 'ERR_INVALID_STATE'],
      ['POST', '/v1/aliases', { aliasName: 'alias/aws/x', keyId }, 400, 'ERR_INVALID_ALIAS_NAME'],
      ['GET', '/v1/nowhere', undefined, 404, 'ERR_NOT_FOUND'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await rest(method, path, body);
      expect({ path, body: typeof body === 'string' ? body : JSON.stringify(body)?.slice(0, 80), status: res.status, code: res.body?.code }).toEqual({
        path,
        body: typeof body === 'string' ? body : JSON.stringify(body)?.slice(0, 80),
        status,
        code,
      });
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body.requestId).toBe(res.headers['x-request-id']);
      expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(ts|js):\d+/);
    }
    expect(await keyCount()).toBe(before);
    expect((await rest('GET', `/v1/keys/${keyId}`)).body.key).toMatchObject({ state: 'Enabled', currentVersion: 1 });
  });

  it('serves the whole key surface', async () => {
    const alias = await rest('POST', '/v1/aliases', { aliasName: 'alias/rest/app', keyId });
    expect(alias.status).toBe(201);
    expect((await rest('GET', '/v1/keys/alias%2Frest%2Fapp')).body.key.keyId).toBe(keyId);
    expect((await rest('GET', `/v1/aliases?keyId=${keyId}`)).body.aliases.map((a: { aliasName: string }) => a.aliasName)).toEqual(['alias/rest/app']);

    const enc = await rest('POST', '/v1/encrypt', { keyId: 'alias/rest/app', plaintext: b64('acct 12345678') });
    const dk = await rest('POST', '/v1/data-keys', { keyId, keySpec: 'AES_256', encryptionContext: { file: 'statement.pdf' } });
    expect(Buffer.from(dk.body.plaintext, 'base64')).toHaveLength(32);
    const dkNoPlain = await rest('POST', '/v1/data-keys', { keyId, numberOfBytes: 16, includePlaintext: false });
    expect(dkNoPlain.body.plaintext).toBeUndefined();

    const other = (await rest('POST', '/v1/keys', {})).body.key.keyId;
    const re = await rest('POST', '/v1/re-encrypt', { ciphertext: enc.body.ciphertext, destinationKeyId: other });
    expect(re.body.sourceKeyId).toContain(keyId);
    expect(Buffer.from((await rest('POST', '/v1/decrypt', { ciphertext: re.body.ciphertext })).body.plaintext, 'base64').toString()).toBe('acct 12345678');
    expect((await rest('POST', '/v1/decrypt', { ciphertext: enc.body.ciphertext, keyId: other })).body.code).toBe('ERR_INCORRECT_KEY');

    expect((await rest('PATCH', `/v1/keys/${keyId}`, { description: 'renamed' })).body.key.description).toBe('renamed');
    expect((await rest('POST', `/v1/keys/${keyId}/tags`, { tags: { env: 'test' } })).body.key.tags).toEqual({ env: 'test' });
    expect((await rest('POST', `/v1/keys/${keyId}/untag`, { tagKeys: ['env'] })).body.key.tags).toEqual({});
    expect((await rest('PUT', `/v1/keys/${keyId}/rotation`, { enabled: true, periodInDays: 90 })).body.key.rotation.periodInDays).toBe(90);
    expect((await rest('POST', `/v1/keys/${keyId}/rotate`)).body.key.currentVersion).toBe(2);
    expect((await rest('GET', `/v1/keys/${keyId}/rotations`)).body.rotations).toMatchObject([{ version: 2, rotationType: 'ON_DEMAND' }]);
    expect((await rest('PUT', '/v1/aliases/alias/rest/app', { keyId: other })).body.alias.keyId).toBe(other);
    expect((await rest('DELETE', '/v1/aliases/alias/rest/app')).status).toBe(204);
    expect(Buffer.from((await rest('POST', '/v1/random', { numberOfBytes: 64 })).body.random, 'base64')).toHaveLength(64);
    expect((await rest('GET', '/v1/whoami')).body.principal).toMatchObject({ arn: `arn:aws:iam::${creds.accountId}:user/admin`, roles: ['administrator', 'data-engineer'] });
  });
});

/**
 * End to end, as a newcomer would use it: the dev server as a separate process, driven by the CLI and the
 * REST API, restarted on the same data dir.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startDevServer, type DevServer } from '../helpers/dev-server.js';
import { b64, restClient, unb64 } from '../helpers/rest-client.js';

describe('dev server end to end', () => {
  let dir: string;
  let server: DevServer;
  const cli = (...args: string[]) => runCli(['--credentials', join(dir, 'dev-credentials.json'), ...args]);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-e2e-'));
    server = await startDevServer(dir);
  });
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints exactly one ready line and writes the dev credentials (mode 0600)', async () => {
    const lines = server.stdout().split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`https://127.0.0.1:${server.port}`);
    const c = server.credentials;
    expect(c.endpoint).toBe(`https://127.0.0.1:${server.port}`);
    expect(c.region).toBe('us-east-1');
    expect(c.accountId).toMatch(/^\d{12}$/);
    expect(c.accessKeyId).toMatch(/^[A-Z0-9]{20}$/);
    expect(c.secretAccessKey).toHaveLength(40);
    expect(c.token).toMatch(/^ddt_/);
    expect((await stat(join(dir, 'dev-credentials.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'root.key'))).mode & 0o777).toBe(0o600);
    expect(server.stderr()).toContain('DEV MODE');
  });

  it('creates, encrypts, rotates, decrypts old ciphertexts, disables, schedules deletion, and survives a restart', async () => {
    const rest = restClient(server.credentials);

    const created = await cli('key', 'create', '--description', 'e2e key', '--json');
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const keyId: string = JSON.parse(created.stdout).key.keyId;
    expect(keyId).toMatch(/^[0-9a-f-]{36}$/);

    const enc1 = await cli('encrypt', '--key-id', keyId, '--plaintext', 'PAN 4111111111111111', '--context', 'customer=42');
    expect(enc1.code).toBe(0);
    const ciphertextV1 = enc1.stdout.trim();

    const viaRest = await rest('POST', '/v1/encrypt', { keyId, plaintext: b64('balance 100.00'), encryptionContext: { customer: '42' } });
    expect(viaRest.status).toBe(200);
    expect(viaRest.body.keyVersion).toBe(1);
    expect(viaRest.body.keyId).toBe(`arn:aws:kms:us-east-1:${server.credentials.accountId}:key/${keyId}`);

    const rotated = await cli('key', 'rotate', keyId, '--json');
    expect(rotated.code).toBe(0);
    expect(JSON.parse(rotated.stdout).key.currentVersion).toBe(2);

    const dec = await rest('POST', '/v1/decrypt', { ciphertext: ciphertextV1, encryptionContext: { customer: '42' } });
    expect(dec.status).toBe(200);
    expect(unb64(dec.body.plaintext)).toBe('PAN 4111111111111111');
    expect(dec.body.keyVersion).toBe(1);

    const wrongContext = await rest('POST', '/v1/decrypt', { ciphertext: ciphertextV1, encryptionContext: { customer: '43' } });
    expect(wrongContext.status).toBe(400);
    expect(wrongContext.body.code).toBe('ERR_INVALID_CIPHERTEXT');

    const cliDecrypt = await cli('decrypt', '--ciphertext', viaRest.body.ciphertext, '--context', 'customer=42');
    expect(cliDecrypt.code).toBe(0);
    expect(cliDecrypt.stdout).toBe('balance 100.00');

    const enc2 = await rest('POST', '/v1/encrypt', { keyId, plaintext: b64('after rotation') });
    expect(enc2.body.keyVersion).toBe(2);

    expect((await cli('key', 'disable', keyId)).code).toBe(0);
    const refused = await rest('POST', '/v1/encrypt', { keyId, plaintext: b64('x') });
    expect(refused.status).toBe(409);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ code: 'ERR_KEY_DISABLED', status: 409, requestId: refused.headers['x-request-id'] });
    expect(refused.body.detail).toBe(`arn:aws:kms:us-east-1:${server.credentials.accountId}:key/${keyId} is disabled.`);
    const cliRefused = await cli('encrypt', '--key-id', keyId, '--plaintext', 'x');
    expect(cliRefused.code).not.toBe(0);
    expect(cliRefused.stderr).toContain('ERR_KEY_DISABLED');

    const scheduled = await rest('POST', `/v1/keys/${keyId}/schedule-deletion`, { pendingWindowInDays: 7 });
    expect(scheduled.status).toBe(200);
    expect(scheduled.body.key.state).toBe('PendingDeletion');
    const days = (Date.parse(scheduled.body.key.deletionAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThanOrEqual(7);

    const tokenBefore = server.credentials.token;
    expect(await server.stop()).toBe(0);
    server = await startDevServer(dir, { port: server.port });
    const again = restClient(server.credentials);
    expect(server.credentials.token).toBe(tokenBefore);

    const described = await again('GET', `/v1/keys/${keyId}`);
    expect(described.status).toBe(200);
    expect(described.body.key).toMatchObject({ state: 'PendingDeletion', currentVersion: 2, description: 'e2e key' });
    expect((await again('POST', `/v1/keys/${keyId}/cancel-deletion`)).body.key.state).toBe('Disabled');
    expect((await cli('key', 'enable', keyId)).code).toBe(0);
    const afterRestart = await again('POST', '/v1/decrypt', { ciphertext: ciphertextV1, encryptionContext: { customer: '42' } });
    expect(unb64(afterRestart.body.plaintext)).toBe('PAN 4111111111111111');
    const afterRestart2 = await again('POST', '/v1/decrypt', { ciphertext: enc2.body.ciphertext });
    expect(unb64(afterRestart2.body.plaintext)).toBe('after rotation');

    const listed = await cli('key', 'list');
    expect(listed.stdout).toContain(keyId);
  });

  it('audits every request, including denied ones, without plaintext', async () => {
    const anonymous = restClient(server.credentials, { token: 'ddt_' + 'A'.repeat(43) });
    const denied = await anonymous('GET', '/v1/keys');
    expect(denied.status).toBe(401);
    expect(denied.body.code).toBe('ERR_UNAUTHENTICATED');

    const rest = restClient(server.credentials);
    const events = await rest('GET', '/v1/audit/events?limit=1000');
    expect(events.status).toBe(200);
    const all = events.body.events as Array<{ eventName: string; outcome: string; requestId: string; errorCode: string | null }>;
    expect(all.find((e) => e.requestId === denied.headers['x-request-id'])).toMatchObject({ eventName: 'ListKeys', outcome: 'denied', errorCode: 'ERR_UNAUTHENTICATED' });
    expect(all.some((e) => e.eventName === 'RotateKeyOnDemand' && e.outcome === 'attempt')).toBe(true);
    expect(all.some((e) => e.eventName === 'Encrypt' && e.outcome === 'failure' && e.errorCode === 'ERR_KEY_DISABLED')).toBe(true);
    const text = JSON.stringify(all);
    expect(text).not.toContain('4111111111111111');
    expect(text).not.toContain(b64('PAN 4111111111111111'));
    expect(text).not.toContain(server.credentials.token);
  });
});

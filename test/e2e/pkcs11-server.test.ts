// A production server rooted in a PKCS#11 token (SoftHSM2): operator init creates the root key in the token, the
// server opens unsealed, serves both APIs, fails closed while the token is gone and recovers without a restart.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateKeyCommand, DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kmsClient } from '../helpers/aws-clients.js';
import { freePort, runCli, spawnServer, type RunningProcess } from '../helpers/dev-server.js';
import { addPrincipal } from '../helpers/principals.js';
import { restClient, type DevCredentialsFile } from '../helpers/rest-client.js';
import { startSoftHsm, withRawSession, type SoftHsm, type SoftHsmToken } from '../helpers/softhsm.js';

const execFileAsync = promisify(execFile);

describe('a server on the pkcs11 root of trust (SoftHSM2)', () => {
  let softhsm: SoftHsm;
  let token: SoftHsmToken;
  let dir: string;
  let env: Record<string, string>;
  let server: RunningProcess | undefined;
  let admin: DevCredentialsFile;
  let engineer: DevCredentialsFile;
  let port: number;

  beforeAll(async () => {
    softhsm = await startSoftHsm();
    token = await softhsm.createToken('dd-e2e', '2468');
    dir = await mkdtemp(join(tmpdir(), 'dd-pkcs11-e2e-'));
    await writeFile(join(dir, 'pin'), '2468\n', { mode: 0o600 });
    env = {
      DATADEFENDER_ROOT_OF_TRUST: 'pkcs11',
      DATADEFENDER_PKCS11_MODULE: softhsm.module,
      DATADEFENDER_PKCS11_TOKEN_LABEL: token.label,
      DATADEFENDER_PKCS11_KEY_LABEL: 'datadefender-root',
      DATADEFENDER_PKCS11_PIN_FILE: join(dir, 'pin'),
      DATADEFENDER_AUDIT_CHECKPOINT_EVENTS: '5',
    };
    port = await freePort();
  });

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
    await softhsm.close();
  });

  it('operator init without --create-key refuses a token that lacks the root key', async () => {
    const r = await runCli(['operator', 'init', '--data-dir', join(dir, 'data'), '--listen', `127.0.0.1:${port}`], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/datadefender-root/);
  });

  it('operator init --create-key makes a sensitive, non-extractable AES-256 key in the token', async () => {
    const r = await runCli(['operator', 'init', '--create-key', '--data-dir', join(dir, 'data'), '--listen', `127.0.0.1:${port}`], env);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/root of trust: pkcs11/);
    expect(r.stdout).not.toMatch(/share/);
    admin = JSON.parse(await readFile(join(dir, 'data', 'admin-credentials.json'), 'utf8')) as DevCredentialsFile;
    const attributes = await withRawSession(softhsm, token, (api, session) => {
      api.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: 'datadefender-root' }]);
      const [handle] = api.C_FindObjects(session, 2);
      api.C_FindObjectsFinal(session);
      return api.C_GetAttributeValue(session, handle!, [
        { type: pkcs11js.CKA_SENSITIVE },
        { type: pkcs11js.CKA_EXTRACTABLE },
        { type: pkcs11js.CKA_VALUE_LEN },
      ]);
    });
    const [sensitive, extractable, length] = attributes.map((a) => a.value as Buffer);
    expect([sensitive![0], extractable![0], Number(length!.readBigUInt64LE(0))]).toEqual([1, 0, 32]);
  });

  it('starts unsealed and serves the AWS API', async () => {
    server = await spawnServer(['--data-dir', join(dir, 'data'), '--listen', `127.0.0.1:${port}`], env);
    expect(server.stdout()).toMatch(/root of trust: pkcs11\)/);
    const health = await restClient(admin)('GET', '/v1/health');
    expect(health.body).toMatchObject({ status: 'ok', rootOfTrust: 'pkcs11', root: 'ok' });
    engineer = await addPrincipal(admin, 'engineer', { roles: ['data-engineer'] });
    const aws = kmsClient(engineer);
    const keyId = (await aws.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const blob = (await aws.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('IBAN DE89370400440532013000') }))).CiphertextBlob!;
    expect(Buffer.from((await aws.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe('IBAN DE89370400440532013000');
  });

  it('fails closed with a dependency error while the token is gone, and recovers without a restart', async () => {
    const aws = kmsClient(engineer);
    await token.takeOffline();
    try {
      const error = await aws.send(new CreateKeyCommand({})).catch((e: Error) => e);
      expect((error as Error).name).toBe('DependencyTimeoutException');
      const health = await restClient(admin)('GET', '/v1/health');
      expect(health.status).toBe(503);
      expect(health.body).toMatchObject({ status: 'degraded', root: 'unavailable' });
    } finally {
      await token.bringOnline();
    }
    await expect.poll(async () => (await restClient(admin)('GET', '/v1/health')).body.root, { timeout: 15_000, interval: 250 }).toBe('ok');
    const keyId = (await aws.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    expect(keyId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('signs inside the HSM: the built-in CA (pki init, issue, CRL) and the audit checkpoints (audit verify)', async () => {
    const cli = (...args: string[]) => runCli(['--credentials', join(dir, 'data', 'admin-credentials.json'), ...args], env);
    const opensslOk = async (args: string[]) => {
      const r = await execFileAsync('openssl', args).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: `FAILED ${e.stderr ?? ''}` }));
      return `${r.stdout}${r.stderr}`;
    };
    const init = await cli('pki', 'init', '--common-name', 'HSM Root');
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    // Every CA key of this deployment is an EC key pair in the token: sensitive, never extractable.
    const caKeys = await withRawSession(softhsm, token, (api, session) => {
      api.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }, { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC }]);
      const handles = api.C_FindObjects(session, 20);
      api.C_FindObjectsFinal(session);
      return handles.map((h) => {
        const [label, sensitive, extractable] = api.C_GetAttributeValue(session, h, [{ type: pkcs11js.CKA_LABEL }, { type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_EXTRACTABLE }]);
        return { label: (label!.value as Buffer).toString(), sensitive: (sensitive!.value as Buffer)[0], extractable: (extractable!.value as Buffer)[0] };
      });
    });
    // The CA made at first start (the file CA of operator init is not adopted: its key was in a file), the one of
    // pki init, and the audit checkpoint key.
    expect(caKeys.filter((k) => k.label.startsWith('datadefender-ca-'))).toHaveLength(2);
    expect(caKeys.filter((k) => k.label.startsWith('datadefender-audit-'))).toHaveLength(1);
    expect(caKeys.every((k) => k.sensitive === 1 && k.extractable === 0)).toBe(true);

    const out = join(dir, 'svc');
    const issued = await cli('pki', 'issue', '--server', '--host', 'svc.internal', '--out', out);
    expect(issued.code).toBe(0);
    expect(await opensslOk(['verify', '-CAfile', `${out}-ca.pem`, `${out}.pem`])).toBe(`${out}.pem: OK\n`);
    const crl = await cli('pki', 'crl', '--out', join(dir, 'crl.pem'));
    expect(crl.code).toBe(0);
    expect((await opensslOk(['crl', '-in', join(dir, 'crl.pem'), '-CAfile', `${out}-ca.pem`, '-noout'])).trim()).toBe('verify OK');

    const publicKeys = await cli('audit', 'public-key');
    expect(publicKeys.stdout).toMatch(/^# audit-signing-1 \(ECDSA_SHA_256\)$/m);
    const verified = await cli('audit', 'verify');
    expect(verified.stderr).toBe('');
    expect(verified.stdout).toMatch(/^OK: \d+ events in \d+ chain\(s\), [1-9]\d* signed checkpoint\(s\)/);
    await writeFile(join(dir, 'audit.pem'), publicKeys.stdout.split('\n').filter((l) => !l.startsWith('#')).join('\n'));
    expect((await cli('audit', 'export', '--output', join(dir, 'export.jsonl'))).code).toBe(0);
    const offline = await runCli(['audit', 'verify', '--file', join(dir, 'export.jsonl'), '--public-key', join(dir, 'audit.pem')]);
    expect(offline.stdout).toMatch(/^OK: .*[1-9]\d* signed checkpoint\(s\)/);
    expect(offline.code).toBe(0);
  });

  it('a wrong PIN stops the server at start with a clear message', async () => {
    await server?.stop();
    server = undefined;
    await writeFile(join(dir, 'pin'), '0000\n');
    const r = await spawnServer(['--data-dir', join(dir, 'data'), '--listen', `127.0.0.1:${port}`], env).catch((e: Error) => e);
    expect(r).toBeInstanceOf(Error);
    expect((r as Error).message).toMatch(/PIN/i);
    expect((r as Error).message).not.toMatch(/0000|    at /);
  });
});

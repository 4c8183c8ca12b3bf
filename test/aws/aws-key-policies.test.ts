// Key policies through @aws-sdk/client-kms: stored, validated, and evaluated on every request with the caller's own
// permissions (explicit Deny wins; the default key policy delegates to the account's principals).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  GetKeyPolicyCommand,
  ListKeyPoliciesCommand,
  PutKeyPolicyCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsError, kmsClient } from '../helpers/aws-clients.js';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';
import { addPrincipal } from '../helpers/principals.js';
import type { DevCredentialsFile } from '../helpers/rest-client.js';

let dir: string;
let server: DevServer;
let admin: KMSClient;
let app: KMSClient;
let appCreds: DevCredentialsFile;
let account: string;

const policy = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const accountRootAllowsAll = () => ({ Sid: 'Account', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dd-kpol-'));
  server = await startDevServer(dir);
  account = server.credentials.accountId;
  admin = kmsClient(server.credentials);
  appCreds = await addPrincipal(server.credentials, 'ledger-app');
  app = kmsClient(appCreds);
});

afterAll(async () => {
  admin?.destroy();
  app?.destroy();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('key policies', () => {
  it('returns the default key policy and lists one policy named default', async () => {
    const key = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!;
    const got = await admin.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }));
    expect(got.PolicyName).toBe('default');
    expect(JSON.parse(got.Policy!)).toEqual({
      Version: '2012-10-17',
      Id: 'key-default-1',
      Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' }],
    });
    expect(await admin.send(new ListKeyPoliciesCommand({ KeyId: key.Arn }))).toMatchObject({ PolicyNames: ['default'], Truncated: false });
    expect((await awsError(admin.send(new GetKeyPolicyCommand({ KeyId: key.KeyId, PolicyName: 'other' })))).name).toBe('NotFoundException');
    expect((await awsError(app.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })))).name).toBe('AccessDeniedException');
  });

  it('refuses malformed documents with a reason, and a lockout unless bypassed', async () => {
    const key = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!;
    const bad: Array<[string, RegExp]> = [
      ['{"Version":', /not valid JSON/],
      [JSON.stringify({ Version: '2012-10-17', Statement: [] }), /at least one statement/],
      [policy({ Effect: 'Allow', Principal: '*', Resource: '*' }), /must contain actions/],
      [policy({ Effect: 'Maybe', Principal: '*', Action: 'kms:*' }), /Effect/],
      [policy({ Effect: 'Allow', Principal: { AWS: 'bob' }, Action: 'kms:*' }), /invalid principals/],
      [policy({ Effect: 'Allow', Principal: '*', Action: 'kms:*', Condition: { StringSorta: { 'kms:KeySpec': 'x' } } }), /Unknown condition operator: StringSorta/],
      [policy({ Effect: 'Allow', Principal: '*', Action: 'kms:*', Extra: 1 }), /unknown field: Extra/],
    ];
    for (const [doc, reason] of bad) {
      const e = await awsError(admin.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: doc })));
      expect(e.name).toBe('MalformedPolicyDocumentException');
      expect(e.message).toMatch(reason);
    }
    const lockout = policy({ Effect: 'Allow', Principal: { AWS: appCreds.principalArn }, Action: 'kms:Encrypt', Resource: '*' });
    const refused = await awsError(admin.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: lockout })));
    expect(refused.name).toBe('MalformedPolicyDocumentException');
    expect(refused.message).toMatch(/BypassPolicyLockoutSafetyCheck/);
    await admin.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: lockout, BypassPolicyLockoutSafetyCheck: true }));
    expect((await awsError(admin.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })))).name).toBe('AccessDeniedException');
    expect((await awsError(admin.send(new GetKeyPolicyCommand({ KeyId: key.KeyId })))).name).toBe('AccessDeniedException');
  });

  it('lets a key policy allow another principal under conditions, and an explicit Deny beat an administrator', async () => {
    const doc = policy(accountRootAllowsAll(), {
      Sid: 'LedgerEncryptsForItsTenant',
      Effect: 'Allow',
      Principal: { AWS: appCreds.principalArn },
      Action: ['kms:Encrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
      Condition: { StringEquals: { 'kms:EncryptionContext:tenant': 'bank-7' } },
    }, {
      Sid: 'NobodyDecryptsStatements',
      Effect: 'Deny',
      Principal: { AWS: `arn:aws:iam::${account}:root` },
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: { StringEquals: { 'kms:EncryptionContext:kind': 'statement' } },
    });
    const key = (await admin.send(new CreateKeyCommand({ Policy: doc }))).KeyMetadata!;
    expect((await admin.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }))).Policy).toBe(doc);

    const enc = await app.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('iban'), EncryptionContext: { tenant: 'bank-7' } }));
    expect((await awsError(app.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionContext: { tenant: 'bank-8' } })))).name).toBe(
      'AccessDeniedException',
    );
    expect((await awsError(app.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { tenant: 'bank-7' } })))).name).toBe(
      'AccessDeniedException',
    );
    expect(Buffer.from((await admin.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { tenant: 'bank-7' } }))).Plaintext!).toString()).toBe('iban');

    const statement = await admin.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('s'), EncryptionContext: { kind: 'statement' } }));
    const denied = await awsError(admin.send(new DecryptCommand({ CiphertextBlob: statement.CiphertextBlob, EncryptionContext: { kind: 'statement' } })));
    expect(denied).toEqual({ status: 400, name: 'AccessDeniedException', message: `User: ${server.credentials.principalArn} is not authorized to perform: kms:Decrypt on resource: ${key.Arn}` });
  });

  it('evaluates aws:SourceIp, aws:CurrentTime and aws:SecureTransport conditions', async () => {
    const allow = (Sid: string, Condition: object) => ({ Sid, Effect: 'Allow', Principal: { AWS: appCreds.principalArn }, Action: 'kms:Encrypt', Resource: '*', Condition });
    const make = async (statement: object) =>
      (await admin.send(new CreateKeyCommand({ Policy: policy(accountRootAllowsAll(), statement) }))).KeyMetadata!.KeyId!;
    const fromHere = await make(allow('FromLoopback', { IpAddress: { 'aws:SourceIp': ['127.0.0.0/8', '::1/128'] }, Bool: { 'aws:SecureTransport': 'true' } }));
    await app.send(new EncryptCommand({ KeyId: fromHere, Plaintext: Buffer.from('x') }));
    const elsewhere = await make(allow('FromOffice', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }));
    expect((await awsError(app.send(new EncryptCommand({ KeyId: elsewhere, Plaintext: Buffer.from('x') })))).name).toBe('AccessDeniedException');
    const expired = await make(allow('UntilYesterday', { DateLessThan: { 'aws:CurrentTime': new Date(Date.now() - 86_400_000).toISOString() } }));
    expect((await awsError(app.send(new EncryptCommand({ KeyId: expired, Plaintext: Buffer.from('x') })))).name).toBe('AccessDeniedException');
    const current = await make(allow('UntilTomorrow', { DateLessThan: { 'aws:CurrentTime': new Date(Date.now() + 86_400_000).toISOString() } }));
    await app.send(new EncryptCommand({ KeyId: current, Plaintext: Buffer.from('x') }));
  });
});

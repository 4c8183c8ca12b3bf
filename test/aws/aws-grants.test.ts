// Grants through @aws-sdk/client-kms: a principal with no permission of its own uses a key only through a grant,
// only for the grant's operations and only under its encryption-context constraints.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  ListGrantsCommand,
  ListRetirableGrantsCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
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
let auditor: KMSClient;
let auditorCreds: DevCredentialsFile;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dd-grants-'));
  server = await startDevServer(dir);
  admin = kmsClient(server.credentials);
  appCreds = await addPrincipal(server.credentials, 'payments-app');
  auditorCreds = await addPrincipal(server.credentials, 'auditor');
  app = kmsClient(appCreds);
  auditor = kmsClient(auditorCreds);
});

afterAll(async () => {
  for (const c of [admin, app, auditor]) c?.destroy();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('grants', () => {
  it('lets the grantee use the key for the granted operations under the constraints, and nothing else', async () => {
    const key = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!;
    const denied = await awsError(app.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })));
    expect(denied).toEqual({ status: 400, name: 'AccessDeniedException', message: `User: ${appCreds.principalArn} is not authorized to perform: kms:Encrypt on resource: ${key.Arn}` });

    const grant = await admin.send(
      new CreateGrantCommand({
        KeyId: key.KeyId,
        GranteePrincipal: appCreds.principalArn,
        RetiringPrincipal: auditorCreds.principalArn,
        Operations: ['Encrypt', 'Decrypt'],
        Constraints: { EncryptionContextSubset: { tenant: 'bank-7' } },
        Name: 'payments',
      }),
    );
    expect(grant.GrantId).toMatch(/^[0-9a-f]{64}$/);
    expect(grant.GrantToken).toBeTruthy();

    const ec = { tenant: 'bank-7', field: 'pan' };
    const enc = await app.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('4111'), EncryptionContext: ec, GrantTokens: [grant.GrantToken!] }));
    const dec = await app.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec }));
    expect(Buffer.from(dec.Plaintext!).toString()).toBe('4111');

    expect((await awsError(app.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionContext: { tenant: 'bank-8' } })))).name).toBe('AccessDeniedException');
    expect((await awsError(app.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })))).name).toBe('AccessDeniedException');
    expect((await awsError(app.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, NumberOfBytes: 32, EncryptionContext: ec })))).name).toBe('AccessDeniedException');
    expect((await awsError(app.send(new DescribeKeyCommand({ KeyId: key.KeyId })))).name).toBe('AccessDeniedException');
    const other = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!;
    expect((await awsError(app.send(new EncryptCommand({ KeyId: other.KeyId, Plaintext: Buffer.from('x'), EncryptionContext: ec })))).name).toBe('AccessDeniedException');

    const same = await admin.send(
      new CreateGrantCommand({
        KeyId: key.KeyId,
        GranteePrincipal: appCreds.principalArn,
        RetiringPrincipal: auditorCreds.principalArn,
        Operations: ['Decrypt', 'Encrypt'],
        Constraints: { EncryptionContextSubset: { tenant: 'bank-7' } },
        Name: 'payments',
      }),
    );
    expect(same.GrantId).toBe(grant.GrantId);

    const listed = await admin.send(new ListGrantsCommand({ KeyId: key.Arn }));
    expect(listed.Grants).toHaveLength(1);
    expect(listed.Grants![0]).toMatchObject({
      KeyId: key.Arn,
      GrantId: grant.GrantId,
      Name: 'payments',
      GranteePrincipal: appCreds.principalArn,
      RetiringPrincipal: auditorCreds.principalArn,
      IssuingAccount: `arn:aws:iam::${server.credentials.accountId}:root`,
      Operations: ['Encrypt', 'Decrypt'],
      Constraints: { EncryptionContextSubset: { tenant: 'bank-7' } },
    });
    expect(listed.Grants![0]!.CreationDate).toBeInstanceOf(Date);
    const retirable = await admin.send(new ListRetirableGrantsCommand({ RetiringPrincipal: auditorCreds.principalArn }));
    expect(retirable.Grants!.map((g) => g.GrantId)).toEqual([grant.GrantId]);

    await auditor.send(new RetireGrantCommand({ GrantToken: grant.GrantToken }));
    expect((await awsError(app.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec })))).name).toBe('AccessDeniedException');
    expect((await admin.send(new ListGrantsCommand({ KeyId: key.KeyId }))).Grants).toEqual([]);
  });

  it('revokes, validates operations and tokens, and refuses strangers', async () => {
    const key = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!;
    const grant = await admin.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: appCreds.principalArn, Operations: ['Encrypt', 'RetireGrant'] }));
    await app.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
    expect((await awsError(auditor.send(new RetireGrantCommand({ KeyId: key.Arn, GrantId: grant.GrantId })))).name).toBe('AccessDeniedException');
    expect((await awsError(app.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId: grant.GrantId })))).name).toBe('AccessDeniedException');
    await admin.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId: grant.GrantId }));
    expect((await awsError(app.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })))).name).toBe('AccessDeniedException');
    expect((await awsError(admin.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId: grant.GrantId })))).name).toBe('NotFoundException');
    expect((await awsError(admin.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId: 'nope' })))).name).toBe('InvalidGrantIdException');
    expect((await awsError(admin.send(new RetireGrantCommand({ GrantToken: 'garbage' })))).name).toBe('InvalidGrantTokenException');
    expect((await awsError(admin.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: appCreds.principalArn, Operations: ['Sign'] })))).name).toBe(
      'ValidationException',
    );
    const mine = await admin.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: appCreds.principalArn, Operations: ['Encrypt', 'RetireGrant'] }));
    await app.send(new RetireGrantCommand({ KeyId: key.KeyId, GrantId: mine.GrantId }));
    expect((await admin.send(new ListGrantsCommand({ KeyId: key.KeyId }))).Grants).toEqual([]);
  });
});

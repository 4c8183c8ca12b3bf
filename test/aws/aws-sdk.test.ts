// The AWS KMS API driven by the official @aws-sdk/client-kms against the dev server as a separate process.
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateRandomCommand,
  GetKeyRotationStatusCommand,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeyRotationsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  ReEncryptCommand,
  ReplicateKeyCommand,
  EncapsulateCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
  UpdateKeyDescriptionCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsError, startAwsDevServer, type AwsDevServer } from '../helpers/aws-clients.js';
import type { DevServer } from '../helpers/dev-server.js';
import { restClient } from '../helpers/rest-client.js';

let server: DevServer;
let kms: KMSClient;

const newKey = async (description = '') => (await kms.send(new CreateKeyCommand({ Description: description }))).KeyMetadata!;

let env: AwsDevServer;
beforeAll(async () => {
  env = await startAwsDevServer('dd-aws-');
  ({ server, kms } = env);
});
afterAll(() => env?.stop());

describe('keys', () => {
  it('creates a key whose metadata has AWS shape: ARN, epoch dates, algorithms, empty description', async () => {
    const before = Date.now();
    const md = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const { accountId, region } = server.credentials;
    expect(md.Arn).toBe(`arn:aws:kms:${region}:${accountId}:key/${md.KeyId}`);
    expect(md).toMatchObject({
      AWSAccountId: accountId,
      Description: '',
      Enabled: true,
      KeyState: 'Enabled',
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeySpec: 'SYMMETRIC_DEFAULT',
      CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      MultiRegion: false,
    });
    expect(md.CreationDate).toBeInstanceOf(Date);
    expect(Math.abs(md.CreationDate!.getTime() - before)).toBeLessThan(60_000);
    expect(md.CurrentKeyMaterialId).toMatch(/^[0-9a-f]{64}$/);
    expect(md.SigningAlgorithms).toBeUndefined();
    expect(md.DeletionDate).toBeUndefined();
  });

  it('describes by key id, key ARN, alias name and alias ARN', async () => {
    const md = await newKey('describe me');
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/describe-me', TargetKeyId: md.KeyId }));
    const aliasArn = md.Arn!.replace(`key/${md.KeyId}`, 'alias/describe-me');
    for (const id of [md.KeyId, md.Arn, 'alias/describe-me', aliasArn]) {
      expect((await kms.send(new DescribeKeyCommand({ KeyId: id }))).KeyMetadata!.Description).toBe('describe me');
    }
    const missing = await awsError(kms.send(new DescribeKeyCommand({ KeyId: '00000000-0000-4000-8000-000000000000' })));
    expect(missing).toMatchObject({ name: 'NotFoundException', status: 400 });
    expect((await awsError(kms.send(new DescribeKeyCommand({ KeyId: 'alias/none' })))).message).toMatch(/alias\/none is not found/);
  });

  it('lists keys page by page with Limit, Marker and Truncated', async () => {
    for (let i = 0; i < 3; i++) await newKey();
    const seen = new Set<string>();
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await kms.send(new ListKeysCommand({ Limit: 2, ...(marker ? { Marker: marker } : {}) }));
      expect(page.Keys!.length).toBeLessThanOrEqual(2);
      for (const k of page.Keys!) {
        expect(k.KeyArn).toContain(`key/${k.KeyId}`);
        seen.add(k.KeyId!);
      }
      marker = page.Truncated ? page.NextMarker : undefined;
      if (page.Truncated) expect(page.NextMarker).toBeTruthy();
      pages++;
    } while (marker);
    expect(pages).toBeGreaterThan(1);
    expect(seen.size).toBeGreaterThanOrEqual(3);
    expect(await awsError(kms.send(new ListKeysCommand({ Marker: 'not-a-marker' })))).toMatchObject({ name: 'InvalidMarkerException' });
    expect(await awsError(kms.send(new ListKeysCommand({ Limit: 1001 })))).toMatchObject({ name: 'ValidationException' });
  });

  it('updates the description, disables, enables, schedules and cancels deletion with AWS state errors', async () => {
    const md = await newKey();
    await kms.send(new UpdateKeyDescriptionCommand({ KeyId: md.Arn, Description: 'renamed' }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!.Description).toBe('renamed');

    await kms.send(new DisableKeyCommand({ KeyId: md.KeyId }));
    const disabled = await awsError(kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.from('x') })));
    expect(disabled).toEqual({ name: 'DisabledException', status: 400, message: `${md.Arn} is disabled.` });
    await kms.send(new EnableKeyCommand({ KeyId: md.KeyId }));

    const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: md.KeyId, PendingWindowInDays: 7 }));
    expect(scheduled).toMatchObject({ KeyId: md.Arn, KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
    expect(scheduled.DeletionDate!.getTime() - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    const pending = await awsError(kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.from('x') })));
    expect(pending).toMatchObject({ name: 'KMSInvalidStateException', message: `${md.Arn} is pending deletion.` });
    expect(await awsError(kms.send(new ScheduleKeyDeletionCommand({ KeyId: md.KeyId })))).toMatchObject({ name: 'KMSInvalidStateException' });
    const described = (await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
    expect(described).toMatchObject({ KeyState: 'PendingDeletion', Enabled: false, PendingDeletionWindowInDays: 7 });
    expect(described.DeletionDate).toBeInstanceOf(Date);

    expect((await kms.send(new CancelKeyDeletionCommand({ KeyId: md.KeyId }))).KeyId).toBe(md.Arn);
    expect((await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!.KeyState).toBe('Disabled');
    expect(await awsError(kms.send(new CancelKeyDeletionCommand({ KeyId: md.KeyId })))).toMatchObject({
      name: 'KMSInvalidStateException',
      message: `${md.Arn} is not pending deletion.`,
    });
    expect(await awsError(kms.send(new ScheduleKeyDeletionCommand({ KeyId: md.KeyId, PendingWindowInDays: 6 })))).toMatchObject({
      name: 'ValidationException',
    });
  });

  it('refuses aliases for management operations and unsupported features with clear errors', async () => {
    const md = await newKey();
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/managed', TargetKeyId: md.KeyId }));
    expect(await awsError(kms.send(new DisableKeyCommand({ KeyId: 'alias/managed' })))).toMatchObject({ name: 'NotFoundException' });
    expect(await awsError(kms.send(new CreateKeyCommand({ MultiRegion: true })))).toMatchObject({ name: 'UnsupportedOperationException' });
    expect(await awsError(kms.send(new ReplicateKeyCommand({ KeyId: md.KeyId, ReplicaRegion: 'eu-west-1' })))).toMatchObject({
      name: 'UnsupportedOperationException',
      status: 400,
    });
    expect(await awsError(kms.send(new EncapsulateCommand({ KeyId: md.KeyId!, EncapsulationAlgorithm: 'ML_KEM_768' as never })))).toMatchObject({ name: 'UnsupportedOperationException', status: 400 });
    expect(await awsError(kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048' })))).toMatchObject({
      name: 'ValidationException',
      message: 'You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.',
    });
    expect(await awsError(kms.send(new CreateKeyCommand({ KeySpec: 'NOPE' as never })))).toMatchObject({ name: 'ValidationException' });
  });
});

describe('symmetric cryptography', () => {
  it('encrypts under an alias, decrypts with and without KeyId, and binds the encryption context', async () => {
    const md = await newKey();
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/payments', TargetKeyId: md.KeyId }));
    const ec = { tenant: 't1', purpose: 'pan' };
    const enc = await kms.send(new EncryptCommand({ KeyId: 'alias/payments', Plaintext: Buffer.from('4111111111111111'), EncryptionContext: ec }));
    expect(enc).toMatchObject({ KeyId: md.Arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });

    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { purpose: 'pan', tenant: 't1' } }));
    expect(Buffer.from(dec.Plaintext!).toString()).toBe('4111111111111111');
    expect(dec.KeyId).toBe(md.Arn);
    expect(dec.EncryptionAlgorithm).toBe('SYMMETRIC_DEFAULT');
    for (const keyId of [md.KeyId, md.Arn, 'alias/payments']) {
      const again = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec, KeyId: keyId }));
      expect(again.KeyId).toBe(md.Arn);
    }

    const wrongContexts: Array<Record<string, string> | undefined> = [undefined, { tenant: 't1' }, { tenant: 'T1', purpose: 'pan' }];
    for (const wrong of wrongContexts) {
      const e = await awsError(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, ...(wrong ? { EncryptionContext: wrong } : {}) })));
      expect(e).toMatchObject({ name: 'InvalidCiphertextException', status: 400 });
    }
    const other = await newKey();
    const incorrect = await awsError(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec, KeyId: other.KeyId })));
    expect(incorrect).toMatchObject({ name: 'IncorrectKeyException' });
    const flipped = Buffer.from(enc.CiphertextBlob!);
    flipped[flipped.length - 1]! ^= 1;
    expect(await awsError(kms.send(new DecryptCommand({ CiphertextBlob: flipped, EncryptionContext: ec })))).toMatchObject({
      name: 'InvalidCiphertextException',
    });
  });

  it('applies AWS limits to decoded lengths with AWS validation messages', async () => {
    const md = await newKey();
    const big = await awsError(kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.alloc(4097) })));
    expect(big.name).toBe('ValidationException');
    expect(big.message).toContain("Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096");
    const ok = await kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.alloc(4096, 1) }));
    expect(ok.CiphertextBlob!.length).toBeGreaterThan(4096);
    const zero = await awsError(kms.send(new GenerateRandomCommand({ NumberOfBytes: 0 })));
    expect(zero.message).toContain("Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1");
    expect((await awsError(kms.send(new GenerateRandomCommand({ NumberOfBytes: 1025 })))).name).toBe('ValidationException');
    expect((await awsError(kms.send(new GenerateRandomCommand({})))).message).toBe('NumberOfBytes is required.');
    expect((await kms.send(new GenerateRandomCommand({ NumberOfBytes: 1024 }))).Plaintext!.length).toBe(1024);
  });

  it('re-encrypts between keys and generates data keys with and without plaintext', async () => {
    const a = await newKey();
    const b = await newKey();
    const enc = await kms.send(new EncryptCommand({ KeyId: a.KeyId, Plaintext: Buffer.from('secret'), EncryptionContext: { x: '1' } }));
    const re = await kms.send(
      new ReEncryptCommand({
        CiphertextBlob: enc.CiphertextBlob,
        SourceEncryptionContext: { x: '1' },
        DestinationKeyId: b.Arn,
        DestinationEncryptionContext: { y: '2' },
      }),
    );
    expect(re).toMatchObject({ SourceKeyId: a.Arn, KeyId: b.Arn, SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT', DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: re.CiphertextBlob, EncryptionContext: { y: '2' } }));
    expect(Buffer.from(dec.Plaintext!).toString()).toBe('secret');

    const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: a.KeyId, NumberOfBytes: 32, EncryptionContext: { f: 'ssn' } }));
    expect(dk.Plaintext!.length).toBe(32);
    expect(dk.KeyId).toBe(a.Arn);
    const unwrapped = await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: { f: 'ssn' } }));
    expect(Buffer.from(unwrapped.Plaintext!)).toEqual(Buffer.from(dk.Plaintext!));
    expect((await kms.send(new GenerateDataKeyCommand({ KeyId: a.KeyId, KeySpec: 'AES_128' }))).Plaintext!.length).toBe(16);
    expect(await awsError(kms.send(new GenerateDataKeyCommand({ KeyId: a.KeyId })))).toMatchObject({ name: 'ValidationException' });
    expect(await awsError(kms.send(new GenerateDataKeyCommand({ KeyId: a.KeyId, KeySpec: 'AES_256', NumberOfBytes: 32 })))).toMatchObject({
      name: 'ValidationException',
    });

    const wp = await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: a.KeyId, KeySpec: 'AES_256' }));
    expect('Plaintext' in wp).toBe(false);
    expect(wp.KeyId).toBe(a.Arn);
    expect((await kms.send(new DecryptCommand({ CiphertextBlob: wp.CiphertextBlob }))).Plaintext!.length).toBe(32);
  });
});

describe('aliases', () => {
  it('creates, lists, updates and deletes aliases with AWS errors', async () => {
    const a = await newKey();
    const b = await newKey();
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/app/ledger', TargetKeyId: a.Arn }));
    const dup = await awsError(kms.send(new CreateAliasCommand({ AliasName: 'alias/app/ledger', TargetKeyId: b.KeyId })));
    expect(dup).toMatchObject({ name: 'AlreadyExistsException' });
    expect(dup.message).toContain('alias/app/ledger already exists');
    expect((await awsError(kms.send(new CreateAliasCommand({ AliasName: 'ledger', TargetKeyId: a.KeyId })))).message).toMatch(
      /^Alias must start with the prefix "alias\/"/,
    );
    expect(await awsError(kms.send(new CreateAliasCommand({ AliasName: 'alias/aws/x', TargetKeyId: a.KeyId })))).toMatchObject({ status: 400 });
    expect(await awsError(kms.send(new CreateAliasCommand({ AliasName: 'alias/x', TargetKeyId: 'alias/app/ledger' })))).toMatchObject({
      name: 'NotFoundException',
    });

    const listed = await kms.send(new ListAliasesCommand({ KeyId: a.KeyId }));
    expect(listed.Truncated).toBe(false);
    expect(listed.Aliases).toHaveLength(1);
    expect(listed.Aliases![0]).toMatchObject({ AliasName: 'alias/app/ledger', TargetKeyId: a.KeyId, AliasArn: a.Arn!.replace(/key\/.*/, 'alias/app/ledger') });
    expect(listed.Aliases![0]!.CreationDate).toBeInstanceOf(Date);

    await kms.send(new UpdateAliasCommand({ AliasName: 'alias/app/ledger', TargetKeyId: b.KeyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: 'alias/app/ledger' }))).KeyMetadata!.KeyId).toBe(b.KeyId);
    await kms.send(new DeleteAliasCommand({ AliasName: 'alias/app/ledger' }));
    expect(await awsError(kms.send(new DeleteAliasCommand({ AliasName: 'alias/app/ledger' })))).toMatchObject({ name: 'NotFoundException' });
  });
});

describe('rotation', () => {
  it('enables, reports, rotates on demand, lists rotations and still decrypts old ciphertext', async () => {
    const md = await newKey();
    const old = await kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.from('v1') }));
    await kms.send(new EnableKeyRotationCommand({ KeyId: md.KeyId, RotationPeriodInDays: 90 }));
    const status = await kms.send(new GetKeyRotationStatusCommand({ KeyId: md.Arn }));
    expect(status).toMatchObject({ KeyId: md.Arn, KeyRotationEnabled: true, RotationPeriodInDays: 90 });
    expect(status.NextRotationDate!.getTime() - Date.now()).toBeGreaterThan(89 * 86_400_000);
    expect(await awsError(kms.send(new EnableKeyRotationCommand({ KeyId: md.KeyId, RotationPeriodInDays: 89 })))).toMatchObject({
      name: 'ValidationException',
    });

    expect((await kms.send(new RotateKeyOnDemandCommand({ KeyId: md.KeyId }))).KeyId).toBe(md.Arn);
    const rotations = await kms.send(new ListKeyRotationsCommand({ KeyId: md.KeyId }));
    expect(rotations.Rotations).toHaveLength(1);
    expect(rotations.Rotations![0]).toMatchObject({ KeyId: md.Arn, RotationType: 'ON_DEMAND' });
    expect(rotations.Rotations![0]!.RotationDate).toBeInstanceOf(Date);
    const after = (await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
    expect(after.CurrentKeyMaterialId).not.toBe(md.CurrentKeyMaterialId);
    expect(rotations.Rotations![0]!.KeyMaterialId).toBe(after.CurrentKeyMaterialId);
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: old.CiphertextBlob }))).Plaintext!).toString()).toBe('v1');

    await kms.send(new DisableKeyRotationCommand({ KeyId: md.KeyId }));
    expect(await kms.send(new GetKeyRotationStatusCommand({ KeyId: md.KeyId }))).toMatchObject({ KeyRotationEnabled: false });
    expect((await kms.send(new GetKeyRotationStatusCommand({ KeyId: md.KeyId }))).RotationPeriodInDays).toBeUndefined();
  });
});

describe('tags', () => {
  it('tags, lists and untags with TagException for reserved and duplicate keys', async () => {
    const md = await newKey();
    await kms.send(new TagResourceCommand({ KeyId: md.KeyId, Tags: [{ TagKey: 'customer', TagValue: '42' }, { TagKey: 'env', TagValue: 'prod' }] }));
    const tags = await kms.send(new ListResourceTagsCommand({ KeyId: md.Arn }));
    expect(tags).toMatchObject({ Truncated: false, Tags: [{ TagKey: 'customer', TagValue: '42' }, { TagKey: 'env', TagValue: 'prod' }] });
    const page = await kms.send(new ListResourceTagsCommand({ KeyId: md.KeyId, Limit: 1 }));
    expect(page.Truncated).toBe(true);
    const rest = await kms.send(new ListResourceTagsCommand({ KeyId: md.KeyId, Limit: 1, Marker: page.NextMarker }));
    expect(rest.Tags).toEqual([{ TagKey: 'env', TagValue: 'prod' }]);
    await kms.send(new UntagResourceCommand({ KeyId: md.KeyId, TagKeys: ['env'] }));
    expect((await kms.send(new ListResourceTagsCommand({ KeyId: md.KeyId }))).Tags).toEqual([{ TagKey: 'customer', TagValue: '42' }]);
    expect(await awsError(kms.send(new TagResourceCommand({ KeyId: md.KeyId, Tags: [{ TagKey: 'aws:x', TagValue: '1' }] })))).toMatchObject({
      name: 'TagException',
    });
    const dup = [{ TagKey: 'a', TagValue: '1' }, { TagKey: 'a', TagValue: '2' }];
    expect(await awsError(kms.send(new TagResourceCommand({ KeyId: md.KeyId, Tags: dup })))).toMatchObject({ name: 'TagException' });
    const long = await awsError(kms.send(new TagResourceCommand({ KeyId: md.KeyId, Tags: [{ TagKey: 'k', TagValue: 'v'.repeat(257) }] })));
    expect(long.message).toContain("'tags.1.member.tagValue'");
  });
});

describe('pagination', () => {
  it('pages ListAliases, ListKeyRotations and ListGrants with Limit, Marker and Truncated, and refuses bad markers', async () => {
    const md = await newKey();
    for (const n of [1, 2, 3]) await kms.send(new CreateAliasCommand({ AliasName: `alias/page/${n}`, TargetKeyId: md.KeyId }));
    for (let n = 0; n < 3; n++) await kms.send(new RotateKeyOnDemandCommand({ KeyId: md.KeyId }));
    for (let n = 0; n < 3; n++) {
      await kms.send(new CreateGrantCommand({ KeyId: md.KeyId, GranteePrincipal: `arn:aws:iam::${server.credentials.accountId}:user/u${n}`, Operations: ['Encrypt'] }));
    }
    const lists = [
      (Marker?: string) => kms.send(new ListAliasesCommand({ KeyId: md.KeyId, Limit: 2, ...(Marker ? { Marker } : {}) })).then((r) => ({ n: r.Aliases!.length, ...r })),
      (Marker?: string) => kms.send(new ListKeyRotationsCommand({ KeyId: md.KeyId, Limit: 2, ...(Marker ? { Marker } : {}) })).then((r) => ({ n: r.Rotations!.length, ...r })),
      (Marker?: string) => kms.send(new ListGrantsCommand({ KeyId: md.KeyId, Limit: 2, ...(Marker ? { Marker } : {}) })).then((r) => ({ n: r.Grants!.length, ...r })),
    ];
    for (const list of lists) {
      const first = await list();
      expect({ n: first.n, truncated: first.Truncated }).toEqual({ n: 2, truncated: true });
      const second = await list(first.NextMarker);
      expect({ n: second.n, truncated: second.Truncated, marker: second.NextMarker }).toEqual({ n: 1, truncated: false, marker: undefined });
      expect((await awsError(list('bm9wZQ'))).name).toBe('InvalidMarkerException');
    }
  });
});

describe('one core behind both APIs', () => {
  it('uses keys across APIs and records both in the same audit trail', async () => {
    const rest = restClient(server.credentials);
    const created = await rest('POST', '/v1/keys', { description: 'from REST' });
    const keyId = created.body.key.keyId as string;
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('cross'), EncryptionContext: { a: 'b' } }));
    const dec = await rest('POST', '/v1/decrypt', { ciphertext: Buffer.from(enc.CiphertextBlob!).toString('base64'), encryptionContext: { a: 'b' } });
    expect(Buffer.from(dec.body.plaintext, 'base64').toString()).toBe('cross');

    const events = (await rest('GET', '/v1/audit/events?limit=1000')).body.events as Array<Record<string, unknown>>;
    const awsEncrypt = events.find((e) => e.eventName === 'Encrypt' && e.eventSource === 'aws-kms' && String(e.resource).endsWith(keyId));
    expect(awsEncrypt).toMatchObject({ outcome: 'success', principal: server.credentials.principalArn });
    expect(String(awsEncrypt!.credential)).toBe(`access-key:${server.credentials.accessKeyId}`);
    expect(JSON.stringify(events)).not.toContain(Buffer.from('cross').toString('base64'));
    const restDecrypt = events.find((e) => e.eventName === 'Decrypt' && e.eventSource === 'rest' && String(e.resource).endsWith(keyId));
    expect(restDecrypt).toMatchObject({ outcome: 'success' });
  });
});

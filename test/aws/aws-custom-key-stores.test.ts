// Custom key stores (AWS CloudHSM key store model) through the official @aws-sdk/client-kms against a dev server
// process whose PKCS#11 module is SoftHSM2 with tokens made by this test: store lifecycle and AWS errors,
// connection states, keys whose material is a non-extractable token object, crypto inside the HSM, unavailability.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CancelKeyDeletionCommand,
  ConnectCustomKeyStoreCommand,
  CreateCustomKeyStoreCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteCustomKeyStoreCommand,
  DescribeCustomKeyStoresCommand,
  DescribeKeyCommand,
  DisconnectCustomKeyStoreCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateRandomCommand,
  GetParametersForImportCommand,
  ReEncryptCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  UpdateCustomKeyStoreCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsError, kmsClient } from '../helpers/aws-clients.js';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';
import { startSoftHsm, withRawSession, type SoftHsm, type SoftHsmToken } from '../helpers/softhsm.js';
import { trustAnchorPem } from '../helpers/trust-anchor.js';
import { keyObjectRef } from '../../src/core/hsm-keys.js';

const PIN = 'kmsuser-pin-1';

let softhsm: SoftHsm;
let token: SoftHsmToken;
let spare: SoftHsmToken;
let dir: string;
let server: DevServer;
let kms: KMSClient;

beforeAll(async () => {
  softhsm = await startSoftHsm();
  token = await softhsm.createToken('cluster-234567abcde', PIN);
  spare = await softhsm.createToken('cluster-spare7abcde', PIN);
  dir = await mkdtemp(join(tmpdir(), 'dd-aws-cks-'));
  // SOFTHSM2_CONF is in process.env (startSoftHsm), which the server process inherits.
  server = await startDevServer(dir, { env: { DATADEFENDER_PKCS11_MODULE: softhsm.module } });
  kms = kmsClient(server.credentials);
});

afterAll(async () => {
  kms?.destroy();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
  await softhsm?.close();
});

/** Attributes of the key's token object, read with pkcs11js in this process; null when it does not exist. */
async function keyObject(keyId: string) {
  return withRawSession(softhsm, token, (api, session) => {
    api.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_ID, value: Buffer.from(keyObjectRef(keyId).id) }]);
    const found = api.C_FindObjects(session, 2);
    api.C_FindObjectsFinal(session);
    if (found.length !== 1) return found.length === 0 ? null : 'duplicate';
    const values = api.C_GetAttributeValue(session, found[0]!, [
      { type: pkcs11js.CKA_CLASS },
      { type: pkcs11js.CKA_KEY_TYPE },
      { type: pkcs11js.CKA_VALUE_LEN },
      { type: pkcs11js.CKA_SENSITIVE },
      { type: pkcs11js.CKA_EXTRACTABLE },
      { type: pkcs11js.CKA_LABEL },
    ]).map((a) => a.value as Buffer);
    // Reading the key value itself must be refused by the token.
    let valueReadable = true;
    try {
      api.C_GetAttributeValue(session, found[0]!, [{ type: pkcs11js.CKA_VALUE }]);
    } catch {
      valueReadable = false;
    }
    const num = (b: Buffer) => Number(b.readBigUInt64LE(0));
    return {
      class: num(values[0]!),
      keyType: num(values[1]!),
      length: num(values[2]!),
      sensitive: values[3]![0],
      extractable: values[4]![0],
      label: values[5]!.toString(),
      valueReadable,
    };
  });
}

const describeStore = async (id: string) => (await kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id }))).CustomKeyStores![0]!;

describe('custom key stores through @aws-sdk/client-kms', () => {
  let storeId: string;
  let keyId: string;
  let keyArn: string;

  it('CreateCustomKeyStore validates like AWS and answers its errors', async () => {
    const base = { CustomKeyStoreName: 'ExampleKeyStore', CloudHsmClusterId: token.label, TrustAnchorCertificate: trustAnchorPem(), KeyStorePassword: PIN };
    expect(await awsError(kms.send(new CreateCustomKeyStoreCommand({ ...base, KeyStorePassword: 'short' })))).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(await awsError(kms.send(new CreateCustomKeyStoreCommand({ ...base, TrustAnchorCertificate: 'garbage' })))).toMatchObject({ name: 'IncorrectTrustAnchorException' });
    expect(await awsError(kms.send(new CreateCustomKeyStoreCommand({ ...base, CloudHsmClusterId: 'cluster-nosuchtoken' })))).toMatchObject({ name: 'CloudHsmClusterNotFoundException' });
    expect(await awsError(kms.send(new CreateCustomKeyStoreCommand({ ...base, CustomKeyStoreType: 'EXTERNAL_KEY_STORE' })))).toMatchObject({ name: 'UnsupportedOperationException' });
    storeId = (await kms.send(new CreateCustomKeyStoreCommand(base))).CustomKeyStoreId!;
    expect(storeId).toMatch(/^cks-[0-9a-f]{17}$/);
    expect(await awsError(kms.send(new CreateCustomKeyStoreCommand({ ...base, CloudHsmClusterId: spare.label })))).toMatchObject({ name: 'CustomKeyStoreNameInUseException' });
    expect(await awsError(kms.send(new CreateCustomKeyStoreCommand({ ...base, CustomKeyStoreName: 'Other' })))).toMatchObject({ name: 'CloudHsmClusterInUseException' });
  });

  it('DescribeCustomKeyStores shows the store, DISCONNECTED, without the password', async () => {
    const listed = await kms.send(new DescribeCustomKeyStoresCommand({}));
    expect(listed.CustomKeyStores).toHaveLength(1);
    expect(listed.Truncated).toBe(false);
    const store = listed.CustomKeyStores![0]!;
    expect(store).toMatchObject({
      CustomKeyStoreId: storeId,
      CustomKeyStoreName: 'ExampleKeyStore',
      CustomKeyStoreType: 'AWS_CLOUDHSM',
      CloudHsmClusterId: token.label,
      TrustAnchorCertificate: trustAnchorPem(),
      ConnectionState: 'DISCONNECTED',
    });
    expect(store.ConnectionErrorCode).toBeUndefined();
    expect(store.CreationDate).toBeInstanceOf(Date);
    expect(Math.abs(store.CreationDate!.getTime() - Date.now())).toBeLessThan(60_000);
    expect(JSON.stringify(listed)).not.toContain(PIN);
    expect((await kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreName: 'ExampleKeyStore' }))).CustomKeyStores![0]!.CustomKeyStoreId).toBe(storeId);
    expect(await awsError(kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: 'cks-00000000000000000' })))).toMatchObject({ name: 'CustomKeyStoreNotFoundException', status: 400 });
    expect(await awsError(kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: 'cks-00000000000000000' })))).toMatchObject({ name: 'CustomKeyStoreNotFoundException' });
  });

  it('CreateKey in a store that is not connected: CustomKeyStoreInvalidStateException', async () => {
    expect(await awsError(kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId })))).toMatchObject({ name: 'CustomKeyStoreInvalidStateException' });
    expect(await awsError(kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId })))).toMatchObject({ name: 'CustomKeyStoreInvalidStateException' });
  });

  it('a wrong password: Connect leaves the store FAILED with INVALID_CREDENTIALS until it is disconnected and fixed', async () => {
    await kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, KeyStorePassword: 'not-the-pin' }));
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    expect(await describeStore(storeId)).toMatchObject({ ConnectionState: 'FAILED', ConnectionErrorCode: 'INVALID_CREDENTIALS' });
    expect(await awsError(kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId })))).toMatchObject({ name: 'CustomKeyStoreInvalidStateException' });
    expect(await awsError(kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, KeyStorePassword: PIN })))).toMatchObject({ name: 'CustomKeyStoreInvalidStateException' });
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    expect((await describeStore(storeId)).ConnectionState).toBe('DISCONNECTED');
    await kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, KeyStorePassword: PIN }));
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    const connected = await describeStore(storeId);
    expect(connected.ConnectionState).toBe('CONNECTED');
    expect(connected.ConnectionErrorCode).toBeUndefined();
    // Connected: only the name may change.
    await kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, NewCustomKeyStoreName: 'PaymentsKeyStore' }));
    expect((await describeStore(storeId)).CustomKeyStoreName).toBe('PaymentsKeyStore');
    expect(await awsError(kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, CloudHsmClusterId: spare.label })))).toMatchObject({ name: 'CustomKeyStoreInvalidStateException' });
  });

  it('CreateKey with Origin AWS_CLOUDHSM makes a sensitive, non-extractable AES-256 object in the token', async () => {
    expect(await awsError(kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId, KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' })))).toMatchObject({
      name: 'UnsupportedOperationException',
    });
    expect(await awsError(kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM' })))).toMatchObject({ name: 'ValidationException' });
    expect(await awsError(kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: 'cks-00000000000000000' })))).toMatchObject({ name: 'CustomKeyStoreNotFoundException' });
    const md = (await kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId, Description: 'card vault' }))).KeyMetadata!;
    keyId = md.KeyId!;
    keyArn = md.Arn!;
    expect(md).toMatchObject({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId, CloudHsmClusterId: token.label, KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' });
    const described = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
    expect(described).toMatchObject({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId, CloudHsmClusterId: token.label, KeyState: 'Enabled', Enabled: true });
    expect(await keyObject(keyId)).toEqual({
      class: pkcs11js.CKO_SECRET_KEY,
      keyType: pkcs11js.CKK_AES,
      length: 32,
      sensitive: 1,
      extractable: 0,
      label: `datadefender/${keyId}/1`,
      valueReadable: false,
    });
  });

  it('Encrypt, Decrypt (without KeyId), ReEncrypt and data keys run inside the HSM', async () => {
    const ec = { purpose: 'test' };
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('IBAN DE89370400440532013000'), EncryptionContext: ec }));
    expect(enc.KeyId).toBe(keyArn);
    const blob = Buffer.from(enc.CiphertextBlob!);
    expect(blob[0]).toBe(1); // the common v1 blob, naming the key in its header
    expect(blob.subarray(1, 17).toString('hex')).toBe(keyId.replace(/-/g, ''));
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: ec }));
    expect(Buffer.from(dec.Plaintext!).toString()).toBe('IBAN DE89370400440532013000');
    expect(dec.KeyId).toBe(keyArn);
    expect(await awsError(kms.send(new DecryptCommand({ CiphertextBlob: blob })))).toMatchObject({ name: 'InvalidCiphertextException' });

    const other = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const moved = await kms.send(new ReEncryptCommand({ CiphertextBlob: blob, SourceEncryptionContext: ec, DestinationKeyId: other }));
    expect(moved.SourceKeyId).toBe(keyArn);
    const back = await kms.send(new ReEncryptCommand({ CiphertextBlob: moved.CiphertextBlob!, DestinationKeyId: keyId }));
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: back.CiphertextBlob! }))).Plaintext!).toString()).toBe('IBAN DE89370400440532013000');

    const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
    expect(dk.Plaintext).toHaveLength(32);
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob! }))).Plaintext!).equals(Buffer.from(dk.Plaintext!))).toBe(true);
    const dkw = await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyId, NumberOfBytes: 64 }));
    expect((await kms.send(new DecryptCommand({ CiphertextBlob: dkw.CiphertextBlob! }))).Plaintext).toHaveLength(64);
    expect((await kms.send(new GenerateRandomCommand({ NumberOfBytes: 24, CustomKeyStoreId: storeId }))).Plaintext).toHaveLength(24);
  });

  it('no rotation and no import for keys in a custom key store (UnsupportedOperationException)', async () => {
    expect(await awsError(kms.send(new RotateKeyOnDemandCommand({ KeyId: keyId })))).toMatchObject({ name: 'UnsupportedOperationException' });
    expect(await awsError(kms.send(new EnableKeyRotationCommand({ KeyId: keyId })))).toMatchObject({ name: 'UnsupportedOperationException' });
    expect(await awsError(kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' })))).toMatchObject({
      name: 'UnsupportedOperationException',
    });
  });

  it('a disconnected store makes its keys Unavailable: KMSInvalidStateException; reconnecting restores them', async () => {
    const blob = (await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('before') }))).CiphertextBlob!;
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    expect((await describeStore(storeId)).ConnectionState).toBe('DISCONNECTED');
    const md = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
    expect(md).toMatchObject({ KeyState: 'Unavailable', Enabled: false, CustomKeyStoreId: storeId });
    expect(await awsError(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })))).toMatchObject({
      name: 'KMSInvalidStateException',
      status: 400,
      message: `${keyArn} is unavailable.`,
    });
    expect(await awsError(kms.send(new DecryptCommand({ CiphertextBlob: blob })))).toMatchObject({ name: 'KMSInvalidStateException' });
    expect(await awsError(kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' })))).toMatchObject({ name: 'KMSInvalidStateException' });
    expect(await awsError(kms.send(new GenerateRandomCommand({ NumberOfBytes: 8, CustomKeyStoreId: storeId })))).toMatchObject({ name: 'CustomKeyStoreInvalidStateException' });
    expect(await awsError(kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId })))).toMatchObject({ name: 'CustomKeyStoreInvalidStateException' });
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe('before');
  });

  it('a restarted server logs in again on first use: the store stays CONNECTED and old ciphertexts decrypt', async () => {
    const blob = (await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('across restarts') }))).CiphertextBlob!;
    kms.destroy();
    await server.stop();
    server = await startDevServer(dir, { env: { DATADEFENDER_PKCS11_MODULE: softhsm.module } });
    kms = kmsClient(server.credentials);
    expect((await describeStore(storeId)).ConnectionState).toBe('CONNECTED');
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe('across restarts');
  });

  it('DeleteCustomKeyStore needs DISCONNECTED and no keys, pending deletion included; the key object stays until its deletion runs', async () => {
    expect(await awsError(kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: storeId })))).toMatchObject({ name: 'CustomKeyStoreInvalidStateException' });
    const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    expect(scheduled.KeyState).toBe('PendingDeletion');
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    // AWS: a key in a custom key store stays PendingDeletion (not Unavailable) while its store is disconnected.
    expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyState).toBe('PendingDeletion');
    expect(await awsError(kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: storeId })))).toMatchObject({ name: 'CustomKeyStoreHasCMKsException' });
    expect(await keyObject(keyId)).not.toBeNull();
    await kms.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyState).toBe('Unavailable');
  });

  it('an empty, disconnected store is deleted', async () => {
    const id = (
      await kms.send(
        new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'Spare', CloudHsmClusterId: spare.label, TrustAnchorCertificate: trustAnchorPem(), KeyStorePassword: PIN }),
      )
    ).CustomKeyStoreId!;
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    expect(await awsError(kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id })))).toMatchObject({ name: 'CustomKeyStoreInvalidStateException' });
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    await kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    expect(await awsError(kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id })))).toMatchObject({ name: 'CustomKeyStoreNotFoundException' });
    expect((await kms.send(new DescribeCustomKeyStoresCommand({}))).CustomKeyStores!.map((s) => s.CustomKeyStoreId)).toEqual([storeId]);
  });
});

// Imported key material (BYOK) through @aws-sdk/client-kms: material wrapped offline with node:crypto exactly as the
// AWS documentation describes, then used, compared with node:crypto, deleted (crypto-shredding) and re-imported.
import {
  constants,
  createCipheriv,
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
  sign as nodeSign,
  type KeyObject,
} from 'node:crypto';
import {
  CreateKeyCommand,
  DecryptCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateMacCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  VerifyCommand,
  type KMSClient,
  type KeySpec,
  type KeyUsageType,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsError, startAwsDevServer, type AwsDevServer } from '../helpers/aws-clients.js';

let kms: KMSClient;

let env: AwsDevServer;
beforeAll(async () => {
  env = await startAwsDevServer('dd-byok-');
  ({ kms } = env);
});
afterAll(() => env?.stop());

const external = async (KeySpec: KeySpec = 'SYMMETRIC_DEFAULT', KeyUsage?: KeyUsageType) =>
  (await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL', KeySpec, ...(KeyUsage ? { KeyUsage } : {}) }))).KeyMetadata!;

/** Wraps `material` for import as an AWS client would (RSAES_OAEP_SHA_256, or RSA_AES_KEY_WRAP_SHA_256 for long material). */
async function wrapForImport(keyId: string, material: Buffer, algorithm: 'RSAES_OAEP_SHA_256' | 'RSA_AES_KEY_WRAP_SHA_256' = 'RSAES_OAEP_SHA_256') {
  const params = await kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: algorithm, WrappingKeySpec: 'RSA_2048' }));
  const publicKey: KeyObject = createPublicKey({ key: Buffer.from(params.PublicKey!), format: 'der', type: 'spki' });
  const oaep = (data: Buffer) => publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, data);
  let encrypted: Buffer;
  if (algorithm === 'RSAES_OAEP_SHA_256') encrypted = oaep(material);
  else {
    const aesKey = randomBytes(32);
    const kwp = createCipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('A65959A6', 'hex'));
    encrypted = Buffer.concat([oaep(aesKey), kwp.update(material), kwp.final()]);
  }
  return { params, encrypted };
}

const importInto = async (keyId: string, material: Buffer, algorithm?: 'RSAES_OAEP_SHA_256' | 'RSA_AES_KEY_WRAP_SHA_256') => {
  const { params, encrypted } = await wrapForImport(keyId, material, algorithm);
  return kms.send(
    new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: encrypted, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }),
  );
};

describe('imported key material', () => {
  it('waits in PendingImport, imports, encrypts, shreds on delete and decrypts again only with the same material', async () => {
    const md = await external();
    expect(md).toMatchObject({ Origin: 'EXTERNAL', KeyState: 'PendingImport', Enabled: false });
    expect(md.CurrentKeyMaterialId).toBeUndefined();
    expect(await awsError(kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.from('x') })))).toMatchObject({
      name: 'KMSInvalidStateException',
      message: `${md.Arn} is pending import.`,
    });
    const { params } = await wrapForImport(md.KeyId!, randomBytes(32));
    expect(params.KeyId).toBe(md.Arn);
    expect(params.ParametersValidTo!.getTime() - Date.now()).toBeGreaterThan(23 * 3_600_000);

    const material = randomBytes(32);
    const imported = await importInto(md.KeyId!, material);
    expect(imported.KeyId).toBe(md.Arn);
    const after = (await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
    expect(after).toMatchObject({ KeyState: 'Enabled', Enabled: true, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    const enc = await kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.from('ledger'), EncryptionContext: { a: 'b' } }));

    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: md.KeyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!.KeyState).toBe('PendingImport');
    expect((await awsError(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: 'b' } })))).name).toBe(
      'KMSInvalidStateException',
    );
    await importInto(md.KeyId!, material, 'RSA_AES_KEY_WRAP_SHA_256');
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: 'b' } }));
    expect(Buffer.from(dec.Plaintext!).toString()).toBe('ledger');
    expect((await awsError(importInto(md.KeyId!, randomBytes(32)))).name).toBe('IncorrectKeyMaterialException');
    await importInto(md.KeyId!, material);
    expect((await awsError(kms.send(new EnableKeyRotationCommand({ KeyId: md.KeyId })))).name).toBe('UnsupportedOperationException');
  });

  it('computes the same HMAC as node:crypto with imported HMAC material', async () => {
    const md = await external('HMAC_256', 'GENERATE_VERIFY_MAC');
    const material = randomBytes(48);
    await importInto(md.KeyId!, material);
    const mac = await kms.send(new GenerateMacCommand({ KeyId: md.KeyId, Message: Buffer.from('payment 42'), MacAlgorithm: 'HMAC_SHA_256' }));
    expect(Buffer.from(mac.Mac!)).toEqual(createHmac('sha256', material).update('payment 42').digest());
  });

  it('verifies signatures node:crypto made with an imported private key', async () => {
    const md = await external('ECC_NIST_P256', 'SIGN_VERIFY');
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    await importInto(md.KeyId!, pair.privateKey.export({ type: 'pkcs8', format: 'der' }), 'RSA_AES_KEY_WRAP_SHA_256');
    const signature = nodeSign('sha256', Buffer.from('transfer 100 EUR'), pair.privateKey);
    const ok = await kms.send(new VerifyCommand({ KeyId: md.KeyId, Message: Buffer.from('transfer 100 EUR'), Signature: signature, SigningAlgorithm: 'ECDSA_SHA_256' }));
    expect(ok.SignatureValid).toBe(true);
  });

  it('refuses bad tokens, other keys, wrong sizes, expiring material and non-EXTERNAL keys', async () => {
    const a = await external();
    const b = await external();
    const { params, encrypted } = await wrapForImport(a.KeyId!, randomBytes(32));
    const send = (KeyId: string, ImportToken: Uint8Array, EncryptedKeyMaterial: Uint8Array, extra: object = { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }) =>
      kms.send(new ImportKeyMaterialCommand({ KeyId, ImportToken, EncryptedKeyMaterial, ...extra }));
    expect((await awsError(send(b.KeyId!, params.ImportToken!, encrypted))).name).toBe('InvalidImportTokenException');
    expect((await awsError(send(a.KeyId!, Buffer.from('garbage'), encrypted))).name).toBe('InvalidImportTokenException');
    const flipped = Buffer.from(encrypted);
    flipped[10]! ^= 1;
    expect((await awsError(send(a.KeyId!, params.ImportToken!, flipped))).name).toBe('InvalidCiphertextException');
    const short = await wrapForImport(a.KeyId!, randomBytes(16));
    expect((await awsError(send(a.KeyId!, short.params.ImportToken!, short.encrypted))).name).toBe('ValidationException');
    expect(await awsError(send(a.KeyId!, params.ImportToken!, encrypted, {}))).toMatchObject({
      name: 'ValidationException',
      message: 'A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES',
    });
    const generated = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    expect(await awsError(kms.send(new GetParametersForImportCommand({ KeyId: generated.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' })))).toMatchObject({
      name: 'UnsupportedOperationException',
      message: `${generated.Arn} origin is AWS_KMS which is not valid for this operation.`,
    });
    expect((await awsError(kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: generated.KeyId })))).name).toBe('UnsupportedOperationException');
    await send(a.KeyId!, params.ImportToken!, encrypted);
  });
});

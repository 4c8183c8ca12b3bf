// The AWS Encryption SDK for JavaScript (@aws-crypto/client-node) with KMS keyrings pointed at the dev server.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommitmentPolicy, KmsKeyringNode, buildClient, getClient } from '@aws-crypto/client-node';
import { CreateKeyCommand, KMS } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { kmsClient } from '../helpers/aws-clients.js';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';

let dir: string;
let server: DevServer;
let keyArn: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dd-esdk-'));
  server = await startDevServer(dir);
  const kms = kmsClient(server.credentials);
  keyArn = (await kms.send(new CreateKeyCommand({ Description: 'esdk' }))).KeyMetadata!.Arn!;
  kms.destroy();
});

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

it('encrypts and decrypts 1 MiB under a key ARN, and a discovery keyring decrypts it too', async () => {
  const c = server.credentials;
  const clientProvider = getClient(KMS, {
    endpoint: c.endpoint,
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
    requestHandler: { httpsAgent: new Agent({ ca: readFileSync(c.caCertFile) }) },
    maxAttempts: 1,
  });
  const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  const plaintext = randomBytes(1024 * 1024);
  const context = { tenant: 'bank-7', purpose: 'statements' };

  const keyring = new KmsKeyringNode({ generatorKeyId: keyArn, clientProvider });
  const { result, messageHeader } = await encrypt(keyring, plaintext, { encryptionContext: context });
  expect(result.length).toBeGreaterThan(plaintext.length);
  expect(messageHeader.encryptedDataKeys).toHaveLength(1);
  expect(messageHeader.encryptedDataKeys[0]!.providerInfo).toBe(keyArn);

  const decrypted = await decrypt(keyring, result);
  expect(Buffer.from(decrypted.plaintext).equals(plaintext)).toBe(true);
  expect(decrypted.messageHeader.encryptionContext).toMatchObject(context);

  const discovery = new KmsKeyringNode({ discovery: true, clientProvider });
  const discovered = await decrypt(discovery, result);
  expect(Buffer.from(discovered.plaintext).equals(plaintext)).toBe(true);

  const tampered = Buffer.from(result);
  tampered[tampered.length - 100]! ^= 1;
  await expect(decrypt(keyring, tampered)).rejects.toThrow();
});

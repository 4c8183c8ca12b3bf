/**
 * Issue #6: no secret in any audit event. A dev server (SQLite, a JSON-lines audit stream) runs a broad workload
 * through both APIs with real clients — the native REST API and @aws-sdk/client-kms over SigV4 — and every secret
 * value the workload sees is collected: plaintexts (text and binary), encryption-context values, data keys, data key
 * pairs' private keys, random bytes, imported key material (and the ephemeral AES key that wrapped it), MAC and
 * signature messages, ECDH shared secrets, access-key secrets and bearer tokens (valid, revoked and bogus), the value
 * an investigator hashed, and the dev server's own credentials, root key and TLS key. Then the database files (with
 * -wal and -shm, while serving and after the stop), the audit export, the stream file, every event read through the
 * search route and the server's output are scanned for each secret in its raw bytes, hex, base64 and base64url forms
 * (at each of the three base64 alignments, so a secret inside a longer encoded blob is found too) and, for each, a
 * 16-byte piece of it. None may appear; key ids, encryption-context keys and keyed hashes must (the scan sees the
 * events it should).
 */
import { createHmac, createCipheriv, createPrivateKey, createPublicKey, constants, diffieHellman, generateKeyPairSync, publicEncrypt, randomBytes, verify as nodeVerify } from 'node:crypto';
import { readFile, rm, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateKeyCommand,
  DecryptCommand,
  DeriveSharedSecretCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyPairCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateMacCommand,
  GenerateRandomCommand,
  GetParametersForImportCommand,
  GetPublicKeyCommand,
  ImportKeyMaterialCommand,
  ReEncryptCommand,
  SignCommand,
  VerifyCommand,
  VerifyMacCommand,
  type KeySpec,
  type KeyUsageType,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsError, kmsClient, rawAwsRequest } from '../helpers/aws-clients.js';
import { runCli, startDevServer, type DevServer } from '../helpers/dev-server.js';
import { addPrincipal } from '../helpers/principals.js';
import { restClient, type DevCredentialsFile } from '../helpers/rest-client.js';

/** A value that must never be written anywhere in the trail. */
interface Secret {
  label: string;
  bytes: Buffer;
}

/** One encoded form of a secret to look for. */
interface Needle {
  label: string;
  form: string;
  bytes: Buffer;
}

/**
 * The forms of `bytes` a careless record could hold: raw, hex (both cases), base64 and base64url (padded and not),
 * the fully determined part of its base64 / base64url at each of the three alignments (a secret inside a longer
 * encoded blob), and a 16-byte piece of it (raw, hex, base64) when it is longer than 12 bytes (a truncated copy).
 */
export function needlesOf(secret: Secret): Needle[] {
  const out: Needle[] = [];
  const add = (form: string, value: Buffer | string) => {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
    if (bytes.length >= 8 && !out.some((n) => n.bytes.equals(bytes))) out.push({ label: secret.label, form, bytes });
  };
  const b = secret.bytes;
  add('raw', b);
  add('hex', b.toString('hex'));
  add('HEX', b.toString('hex').toUpperCase());
  add('base64', b.toString('base64'));
  add('base64 unpadded', b.toString('base64').replace(/=+$/, ''));
  add('base64url', b.toString('base64url'));
  for (const shift of [0, 1, 2]) {
    const padded = Buffer.concat([Buffer.alloc(shift), b]);
    const start = [0, 2, 3][shift]!; // the first characters still depend on the bytes before the secret
    const end = Math.floor(padded.length / 3) * 4; // the last group depends on the bytes after it
    const fragment = padded.toString('base64').slice(start, end);
    add(`base64 at alignment ${shift}`, fragment);
    add(`base64url at alignment ${shift}`, fragment.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  if (b.length > 12) {
    const from = Math.max(0, Math.floor((b.length - 16) / 2));
    const piece = b.subarray(from, from + 16);
    add('16-byte piece', piece);
    add('16-byte piece hex', piece.toString('hex'));
    add('16-byte piece base64', piece.toString('base64').replace(/=+$/, ''));
  }
  return out;
}

/** Every (needle, haystack) pair where the needle occurs. */
function scan(needles: readonly Needle[], haystacks: ReadonlyMap<string, Buffer>): string[] {
  const found: string[] = [];
  for (const [where, hay] of haystacks) {
    for (const n of needles) if (hay.includes(n.bytes)) found.push(`${n.label} (${n.form}) in ${where}`);
  }
  return found;
}

const unique = (prefix: string) => `${prefix}-${randomBytes(18).toString('base64url')}`;

describe('no secret in the audit trail after a broad workload through both APIs', () => {
  let dir: string;
  let server: DevServer;
  let admin: DevCredentialsFile;
  let credsFile: string;
  const secrets: Secret[] = [];
  /** Key ids, encryption-context keys and keyed hashes that the trail must hold (non-secret). */
  const keyIds = new Set<string>();
  const contextKeys = new Map<string, string>();
  const keyedHashes = new Set<string>();
  const requestsSent = { rest: 0, aws: 0 };
  const haystacks = new Map<string, Buffer>();

  function secret<T extends string | Uint8Array>(label: string, value: T): T {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
    expect(bytes.length, label).toBeGreaterThanOrEqual(16);
    secrets.push({ label, bytes });
    return value;
  }
  /** An encryption context of one fresh key (must appear when the request is `recorded`) and one secret value. */
  function context(label: string, recorded = true): Record<string, string> {
    const key = `ctxkey${randomBytes(6).toString('hex')}`;
    if (recorded) contextKeys.set(key, label);
    return { [key]: secret(`encryption-context value (${label})`, unique('ecv')) };
  }
  /** The private parts of a PKCS#8 DER private key, beside the whole DER. */
  function privateKeySecrets(label: string, der: Uint8Array): void {
    secret(`${label} (PKCS#8 DER)`, der);
    const jwk = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
    for (const part of ['d', 'p', 'q'] as const) {
      const v = (jwk as Record<string, string | undefined>)[part];
      if (v !== undefined) secret(`${label} (${part})`, Buffer.from(v, 'base64url'));
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-no-secrets-'));
    server = await startDevServer(dir, { env: { DATADEFENDER_AUDIT_STREAMS: join(dir, 'stream.jsonl'), DATADEFENDER_AUDIT_CHECKPOINT_EVENTS: '50' } });
    admin = server.credentials;
    credsFile = join(dir, 'dev-credentials.json');
    // The dev bootstrap's own secrets: its credentials, the local root key and the server's TLS key.
    secret('dev bootstrap bearer token', admin.token);
    secret('dev bootstrap secret access key', admin.secretAccessKey);
    secret('dev root key', await readFile(join(dir, 'root.key')));
    const tlsKey = createPrivateKey(await readFile(join(dir, 'tls', 'server-key.pem')));
    privateKeySecrets('server TLS private key', tlsKey.export({ type: 'pkcs8', format: 'der' }));
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs the workload through the native API and the AWS API (every call answers as expected)', { timeout: 40_000 }, async () => {
    const rest = restClient(admin);
    const r = async (method: string, path: string, body?: unknown, token?: DevCredentialsFile) => {
      requestsSent.rest++;
      return (token ? restClient(token) : rest)(method, path, body);
    };
    const b64 = (v: string | Uint8Array) => Buffer.from(v).toString('base64');

    // ---- Native API -------------------------------------------------------------------------------------------
    const k1: string = (await r('POST', '/v1/keys', { description: 'no-secrets rest 1' })).body.key.keyId;
    const k2: string = (await r('POST', '/v1/keys', { description: 'no-secrets rest 2' })).body.key.keyId;
    keyIds.add(k1).add(k2);
    for (let i = 0; i < 4; i++) {
      const plaintext = secret('REST Encrypt plaintext', unique(`ptrest${i}`));
      const ec = context('REST Encrypt');
      const enc = await r('POST', '/v1/encrypt', { keyId: k1, plaintext: b64(plaintext), encryptionContext: ec });
      expect(enc.status, JSON.stringify(enc.body)).toBe(200);
      const dec = await r('POST', '/v1/decrypt', { ciphertext: enc.body.ciphertext, encryptionContext: ec });
      expect(dec.status).toBe(200);
      expect(Buffer.from(dec.body.plaintext, 'base64').toString()).toBe(plaintext);
      if (i === 0) {
        // A failure: the right ciphertext with a wrong (secret) context value.
        const wrong = await r('POST', '/v1/decrypt', { ciphertext: enc.body.ciphertext, encryptionContext: { [Object.keys(ec)[0]!]: secret('wrong encryption-context value', unique('ecwrong')) } });
        expect(wrong.status).toBe(400);
        expect(wrong.body.code).toBe('ERR_INVALID_CIPHERTEXT');
        // ReEncrypt into k2 under a new context, then decrypt there.
        const destinationContext = context('REST ReEncrypt destination');
        const re = await r('POST', '/v1/re-encrypt', { ciphertext: enc.body.ciphertext, sourceEncryptionContext: ec, destinationKeyId: k2, destinationEncryptionContext: destinationContext });
        expect(re.status, JSON.stringify(re.body)).toBe(200);
        const back = await r('POST', '/v1/decrypt', { ciphertext: re.body.ciphertext, encryptionContext: destinationContext });
        expect(Buffer.from(back.body.plaintext, 'base64').toString()).toBe(plaintext);
      }
    }
    const binary = secret('REST Encrypt binary plaintext', randomBytes(48));
    const encBinary = await r('POST', '/v1/encrypt', { keyId: k2, plaintext: b64(binary) });
    expect(Buffer.from((await r('POST', '/v1/decrypt', { ciphertext: encBinary.body.ciphertext })).body.plaintext, 'base64')).toEqual(binary);
    for (const body of [{ keySpec: 'AES_256', encryptionContext: context('REST GenerateDataKey') }, { numberOfBytes: 64 }]) {
      const dk = await r('POST', '/v1/data-keys', { keyId: k1, ...body });
      expect(dk.status, JSON.stringify(dk.body)).toBe(200);
      const plaintext = secret('REST GenerateDataKey plaintext data key', Buffer.from(dk.body.plaintext, 'base64'));
      const opened = await r('POST', '/v1/decrypt', { ciphertext: dk.body.ciphertext, ...('encryptionContext' in body ? { encryptionContext: body.encryptionContext } : {}) });
      expect(Buffer.from(opened.body.plaintext, 'base64')).toEqual(plaintext);
    }
    for (const numberOfBytes of [32, 64]) {
      const random = await r('POST', '/v1/random', { numberOfBytes });
      expect(random.status).toBe(200);
      expect(secret('REST GenerateRandom output', Buffer.from(random.body.random, 'base64'))).toHaveLength(numberOfBytes);
    }
    // An investigator's value to hash: recorded by its length only.
    const hashed = await r('POST', '/v1/audit/hash', { value: secret('value given to ComputeAuditHash', unique('investigated')) });
    expect(hashed.status).toBe(200);

    // Principals, their access keys and tokens (secrets shown once), used through both APIs.
    const engineer = await addPrincipal(admin, `eng-${randomBytes(4).toString('hex')}`, { roles: ['data-engineer'] });
    requestsSent.rest += 3;
    secret('engineer secret access key', engineer.secretAccessKey);
    secret('engineer bearer token', engineer.token);
    const viaEngineer = await r('POST', '/v1/encrypt', { keyId: k2, plaintext: b64(secret('REST Encrypt plaintext (engineer)', unique('pteng'))), encryptionContext: context('REST engineer') }, engineer);
    expect(viaEngineer.status).toBe(200);
    const engineerName = engineer.principalArn.split('/').pop()!;
    const extra = await r('POST', `/v1/principals/${engineerName}/tokens`, { ttlSeconds: 600 });
    expect(extra.status).toBe(201);
    const revokedToken = secret('revoked bearer token', extra.body.token.token as string);
    expect((await r('DELETE', `/v1/tokens/${extra.body.token.accessor}`)).status).toBe(204);
    const secondKey = await r('POST', `/v1/principals/${engineerName}/access-keys`, {});
    expect(secondKey.status).toBe(201);
    secret('second engineer secret access key', secondKey.body.accessKey.secretAccessKey as string);
    const plaintextForRejected = secret('plaintext sent with a rejected token', unique('ptrejected'));
    for (const token of [revokedToken, secret('bogus bearer token', `ddt_${randomBytes(32).toString('base64url')}`)]) {
      const refused = await restClient(admin, { token })('POST', '/v1/encrypt', { keyId: k1, plaintext: b64(plaintextForRejected), encryptionContext: context('rejected token', false) });
      requestsSent.rest++;
      expect(refused.status).toBe(401);
    }
    // A principal the policy refuses: denials carry the request, never its secrets.
    const developer = await addPrincipal(admin, `dev-${randomBytes(4).toString('hex')}`, { roles: ['developer'] });
    requestsSent.rest += 3;
    secret('developer secret access key', developer.secretAccessKey);
    secret('developer bearer token', developer.token);
    const denied = await r('POST', '/v1/encrypt', { keyId: k1, plaintext: b64(secret('REST plaintext of a denied Encrypt', unique('ptdenied'))), encryptionContext: context('REST denied') }, developer);
    expect(denied.status).toBe(403);
    const missing = await r('POST', '/v1/encrypt', { keyId: '00000000-0000-4000-8000-000000000000', plaintext: b64(secret('REST plaintext for a missing key', unique('ptmissing'))), encryptionContext: context('REST missing key') });
    expect(missing.status).toBe(404);
    // Malformed requests whose error messages could echo what was sent.
    const malformed = [
      `{"keyId":"${k1}","plaintext":"${b64(secret('REST plaintext in malformed JSON', unique('ptbadjson')))}", x}`,
      { keyId: k1, plaintext: `!${secret('REST plaintext that is not base64', unique('ptnotb64'))}!` },
      { keyId: k1, plaintext: b64('x'), comment: secret('REST value of an unknown property', unique('unknownprop')) },
    ];
    for (const body of malformed) {
      const refused = await r('POST', '/v1/encrypt', body);
      expect(refused.status, JSON.stringify(refused.body)).toBe(400);
      expect(refused.body.code).toBe('ERR_VALIDATION');
    }
    // A secret access key sent as a bearer token by mistake, and one sent where the access key id goes.
    const mixedUp = await restClient(admin, { token: engineer.secretAccessKey })('POST', '/v1/encrypt', { keyId: k1, plaintext: b64('x') });
    requestsSent.rest++;
    expect(mixedUp.status).toBe(401);
    const swapped = await rawAwsRequest(admin, { target: 'TrentService.Encrypt', body: JSON.stringify({ KeyId: k1, Plaintext: b64('x') }), accessKeyId: engineer.secretAccessKey, secretAccessKey: engineer.accessKeyId });
    const badJson = await rawAwsRequest(admin, { target: 'TrentService.Encrypt', body: `{"KeyId":"${k1}","Plaintext":${secret('AWS plaintext in malformed JSON', unique('ptbadjsonaws'))}}` });
    const notBase64 = await rawAwsRequest(admin, { target: 'TrentService.Encrypt', body: JSON.stringify({ KeyId: k1, Plaintext: `${secret('AWS plaintext that is not base64', unique('ptnotb64aws'))}!` }) });
    requestsSent.aws += 3;
    expect([swapped.status, swapped.body.__type]).toEqual([400, 'UnrecognizedClientException']);
    expect([badJson.status, badJson.body.__type]).toEqual([400, 'ValidationException']);
    expect([notBase64.status, notBase64.body.__type]).toEqual([400, 'ValidationException']);

    // ---- AWS API (SigV4, @aws-sdk/client-kms) -------------------------------------------------------------------
    const kms = kmsClient(admin);
    const kmsEngineer = kmsClient(engineer);
    const kmsDeveloper = kmsClient(developer);
    const kmsSecond = kmsClient(engineer, { accessKeyId: secondKey.body.accessKey.accessKeyId, secretAccessKey: secondKey.body.accessKey.secretAccessKey });
    // Every request an SDK client sends is counted (each must have its event).
    for (const client of [kms, kmsEngineer, kmsDeveloper, kmsSecond]) {
      client.middlewareStack.add((next) => (args) => {
        requestsSent.aws++;
        return next(args);
      }, { step: 'initialize', name: 'countRequests' });
    }
    try {
      const create = async (KeySpec: KeySpec = 'SYMMETRIC_DEFAULT', KeyUsage?: KeyUsageType, Origin?: 'EXTERNAL') => {
        const md = (await kms.send(new CreateKeyCommand({ KeySpec, ...(KeyUsage ? { KeyUsage } : {}), ...(Origin ? { Origin } : {}) }))).KeyMetadata!;
        keyIds.add(md.KeyId!);
        return md.KeyId!;
      };
      const sym = await create();
      for (const [i, client] of [kms, kmsEngineer, kmsSecond].entries()) {
        for (const plaintext of [Buffer.from(secret('AWS Encrypt plaintext', unique(`ptaws${i}`))), secret('AWS Encrypt binary plaintext', randomBytes(40))]) {
          const ec = context('AWS Encrypt');
          const enc = await client.send(new EncryptCommand({ KeyId: sym, Plaintext: plaintext, EncryptionContext: ec }));
          const dec = await client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec }));
          expect(Buffer.from(dec.Plaintext!)).toEqual(plaintext);
        }
      }
      // Failures and denials on the AWS side.
      const reEncryptPlaintext = secret('AWS ReEncrypt plaintext', unique('ptreenc'));
      const sourceContext = context('AWS ReEncrypt source');
      const enc = await kmsEngineer.send(new EncryptCommand({ KeyId: sym, Plaintext: Buffer.from(reEncryptPlaintext), EncryptionContext: sourceContext }));
      const wrongContext = { [Object.keys(sourceContext)[0]!]: secret('AWS wrong encryption-context value', unique('ecwrongaws')) };
      expect((await awsError(kmsEngineer.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: wrongContext })))).name).toBe('InvalidCiphertextException');
      expect((await awsError(kmsDeveloper.send(new EncryptCommand({ KeyId: sym, Plaintext: Buffer.from(secret('AWS plaintext of a denied Encrypt', unique('ptdeniedaws'))), EncryptionContext: context('AWS denied') }))))).toMatchObject({ name: 'AccessDeniedException', status: 400 });
      const destinationContext = context('AWS ReEncrypt destination');
      const re = await kmsEngineer.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: sourceContext, DestinationKeyId: k1, DestinationEncryptionContext: destinationContext }));
      expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: re.CiphertextBlob, EncryptionContext: destinationContext }))).Plaintext!).toString()).toBe(reEncryptPlaintext);

      // Data keys and data key pairs.
      for (const input of [{ KeySpec: 'AES_256' as const, EncryptionContext: context('AWS GenerateDataKey') }, { NumberOfBytes: 64 }]) {
        const dk = await kmsEngineer.send(new GenerateDataKeyCommand({ KeyId: sym, ...input }));
        secret('AWS GenerateDataKey plaintext data key', dk.Plaintext!);
        const opened = await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, ...('EncryptionContext' in input ? { EncryptionContext: input.EncryptionContext } : {}) }));
        expect(Buffer.from(opened.Plaintext!)).toEqual(Buffer.from(dk.Plaintext!));
      }
      await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: sym, KeySpec: 'AES_256', EncryptionContext: context('AWS GenerateDataKeyWithoutPlaintext') }));
      for (const KeyPairSpec of ['ECC_NIST_P256', 'RSA_2048', 'ECC_NIST_EDWARDS25519'] as const) {
        const ec = context(`AWS GenerateDataKeyPair ${KeyPairSpec}`);
        const pair = await kms.send(new GenerateDataKeyPairCommand({ KeyId: sym, KeyPairSpec, EncryptionContext: ec }));
        privateKeySecrets(`AWS GenerateDataKeyPair ${KeyPairSpec} private key`, pair.PrivateKeyPlaintext!);
        const opened = await kms.send(new DecryptCommand({ CiphertextBlob: pair.PrivateKeyCiphertextBlob, EncryptionContext: ec }));
        expect(Buffer.from(opened.Plaintext!)).toEqual(Buffer.from(pair.PrivateKeyPlaintext!));
      }
      for (const NumberOfBytes of [32, 64]) {
        secret('AWS GenerateRandom output', (await kmsEngineer.send(new GenerateRandomCommand({ NumberOfBytes }))).Plaintext!);
      }

      // MACs and signatures: the messages are secret (the MAC and the signature are not).
      const hmacKey = await create('HMAC_256', 'GENERATE_VERIFY_MAC');
      const macMessage = secret('AWS GenerateMac message', randomBytes(64));
      const mac = await kms.send(new GenerateMacCommand({ KeyId: hmacKey, Message: macMessage, MacAlgorithm: 'HMAC_SHA_256' }));
      expect((await kms.send(new VerifyMacCommand({ KeyId: hmacKey, Message: macMessage, Mac: mac.Mac, MacAlgorithm: 'HMAC_SHA_256' }))).MacValid).toBe(true);
      const signingKey = await create('ECC_NIST_P256', 'SIGN_VERIFY');
      const signMessage = secret('AWS Sign message', Buffer.from(unique('sign-message')));
      const signature = (await kms.send(new SignCommand({ KeyId: signingKey, Message: signMessage, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }))).Signature;
      expect((await kms.send(new VerifyCommand({ KeyId: signingKey, Message: signMessage, MessageType: 'RAW', Signature: signature, SigningAlgorithm: 'ECDSA_SHA_256' }))).SignatureValid).toBe(true);
      const signingPublic = createPublicKey({ key: Buffer.from((await kms.send(new GetPublicKeyCommand({ KeyId: signingKey }))).PublicKey!), format: 'der', type: 'spki' });
      expect(nodeVerify('sha256', signMessage, signingPublic, Buffer.from(signature!))).toBe(true);

      // ECDH: the shared secret the server derives equals node's, and is secret.
      const agreementKey = await create('ECC_NIST_P256', 'KEY_AGREEMENT');
      const peer = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const derived = await kms.send(new DeriveSharedSecretCommand({ KeyId: agreementKey, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer.publicKey.export({ type: 'spki', format: 'der' }) }));
      const agreementPublic = createPublicKey({ key: Buffer.from((await kms.send(new GetPublicKeyCommand({ KeyId: agreementKey }))).PublicKey!), format: 'der', type: 'spki' });
      expect(Buffer.from(derived.SharedSecret!)).toEqual(diffieHellman({ privateKey: peer.privateKey, publicKey: agreementPublic }));
      secret('AWS DeriveSharedSecret shared secret', derived.SharedSecret!);

      // Imported key material, wrapped offline with the server's public wrapping key as AWS documents.
      const importInto = async (keyId: string, material: Buffer, algorithm: 'RSAES_OAEP_SHA_256' | 'RSA_AES_KEY_WRAP_SHA_256') => {
        const params = await kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: algorithm, WrappingKeySpec: 'RSA_2048' }));
        const publicKey = createPublicKey({ key: Buffer.from(params.PublicKey!), format: 'der', type: 'spki' });
        const oaep = (data: Buffer) => publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, data);
        let encrypted: Buffer;
        if (algorithm === 'RSAES_OAEP_SHA_256') encrypted = oaep(material);
        else {
          const aesKey = secret('ephemeral AES key that wrapped imported material', randomBytes(32));
          const kwp = createCipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('A65959A6', 'hex'));
          encrypted = Buffer.concat([oaep(aesKey), kwp.update(material), kwp.final()]);
        }
        await kms.send(new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: encrypted, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
      };
      const imported = await create('SYMMETRIC_DEFAULT', undefined, 'EXTERNAL');
      await importInto(imported, secret('imported symmetric key material', randomBytes(32)), 'RSAES_OAEP_SHA_256');
      const importedContext = context('AWS Encrypt under imported material');
      const importedPlaintext = Buffer.from(secret('AWS Encrypt plaintext under imported material', unique('ptimported')));
      const encImported = await kms.send(new EncryptCommand({ KeyId: imported, Plaintext: importedPlaintext, EncryptionContext: importedContext }));
      expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: encImported.CiphertextBlob, EncryptionContext: importedContext }))).Plaintext!)).toEqual(importedPlaintext);
      const importedHmac = await create('HMAC_256', 'GENERATE_VERIFY_MAC', 'EXTERNAL');
      const hmacMaterial = secret('imported HMAC key material', randomBytes(48));
      await importInto(importedHmac, hmacMaterial, 'RSA_AES_KEY_WRAP_SHA_256');
      const importedMacMessage = secret('AWS GenerateMac message (imported key)', randomBytes(40));
      const importedMac = await kms.send(new GenerateMacCommand({ KeyId: importedHmac, Message: importedMacMessage, MacAlgorithm: 'HMAC_SHA_256' }));
      expect(Buffer.from(importedMac.Mac!)).toEqual(createHmac('sha256', hmacMaterial).update(importedMacMessage).digest());

      // Some concurrency, as an application would make.
      const parallel = await Promise.all(
        Array.from({ length: 24 }, (_, i) => {
          const ec = context('AWS parallel Encrypt');
          return (i % 2 ? kms : kmsEngineer).send(new EncryptCommand({ KeyId: sym, Plaintext: Buffer.from(secret('AWS parallel Encrypt plaintext', unique(`ptpar${i}`))), EncryptionContext: ec }));
        }),
      );
      expect(parallel.every((p) => p.CiphertextBlob!.length > 0)).toBe(true);
    } finally {
      for (const c of [kms, kmsEngineer, kmsDeveloper, kmsSecond]) c.destroy();
    }

    // The keyed hash of one context value: the redacted form the trail must hold in its place.
    const tracked = Object.values(context('tracked by its keyed hash', false))[0]!;
    const trackedEnc = await r('POST', '/v1/encrypt', { keyId: k1, plaintext: b64(secret('REST Encrypt plaintext (tracked)', unique('pttracked'))), encryptionContext: { tracked: tracked } });
    expect(trackedEnc.status).toBe(200);
    contextKeys.set('tracked', 'tracked by its keyed hash');
    const trackedHashes = (await r('POST', '/v1/audit/hash', { value: tracked })).body.hashes as { hash: string }[];
    expect(trackedHashes).toHaveLength(1);
    keyedHashes.add(trackedHashes[0]!.hash);
    expect(secrets.length).toBeGreaterThan(80);
  });

  it('collects the trail: every event through the search route, the export, the database files, the stream and the output', { timeout: 30_000 }, async () => {
    const rest = restClient(admin);
    const events: unknown[] = [];
    for (let after = 0; ; ) {
      const page = await rest('GET', `/v1/audit/events?after=${after}&limit=1000`);
      expect(page.status).toBe(200);
      events.push(...page.body.events);
      if (page.body.nextAfter === undefined) break;
      after = page.body.nextAfter;
    }
    // Every request sent was audited (at least one event each), across both APIs and every operation used.
    expect(events.length).toBeGreaterThanOrEqual(requestsSent.rest + requestsSent.aws);
    const names = new Set(events.map((e) => (e as { eventName: string }).eventName));
    for (const name of ['Encrypt', 'Decrypt', 'ReEncrypt', 'GenerateDataKey', 'GenerateDataKeyPair', 'GenerateRandom', 'GenerateMac', 'VerifyMac', 'Sign', 'Verify', 'DeriveSharedSecret', 'GetParametersForImport', 'ImportKeyMaterial', 'CreateAccessKey', 'CreateToken', 'RevokeToken', 'ComputeAuditHash']) {
      expect(names, name).toContain(name);
    }
    const sources = new Set(events.map((e) => (e as { record?: { eventSource: string } }).record?.eventSource));
    expect(sources).toContain('datadefender.rest');
    expect(sources).toContain('kms.amazonaws.com');
    const outcomes = new Set(events.map((e) => (e as { outcome: string }).outcome));
    for (const outcome of ['success', 'failure', 'denied']) expect(outcomes).toContain(outcome);
    haystacks.set('search results', Buffer.from(JSON.stringify(events)));

    const exported = await runCli(['--credentials', credsFile, 'audit', 'export', '--output', join(dir, 'export.jsonl')]);
    expect(exported.code, exported.stderr).toBe(0);
    haystacks.set('audit export', await readFile(join(dir, 'export.jsonl')));

    const dbFiles = ['datadefender.db', 'datadefender.db-wal', 'datadefender.db-shm'];
    for (const f of dbFiles) {
      const exists = await stat(join(dir, f)).then(() => true, () => false);
      if (f !== 'datadefender.db-shm') expect(exists, f).toBe(true);
      if (exists) haystacks.set(`${f} (serving)`, await readFile(join(dir, f)));
    }
    expect(haystacks.get('datadefender.db-wal (serving)')!.length).toBeGreaterThan(0);

    // Stopping flushes the stream and checkpoints the WAL into the database file.
    expect(await server.stop()).toBe(0);
    haystacks.set('audit stream (JSON lines)', await readFile(join(dir, 'stream.jsonl')));
    for (const f of dbFiles) {
      const content = await readFile(join(dir, f)).catch(() => undefined);
      if (content) haystacks.set(`${f} (stopped)`, content);
    }
    haystacks.set('server stdout and stderr', Buffer.from(server.stdout() + server.stderr()));

    const streamed = haystacks.get('audit stream (JSON lines)')!.toString('utf8').trim().split('\n');
    const exportedEvents = haystacks.get('audit export')!.toString('utf8').trim().split('\n').filter((l) => l.includes('"type":"event"'));
    // The stream and the export hold every event the search returned (later ones: the search and export themselves).
    expect(streamed.length).toBeGreaterThanOrEqual(events.length);
    expect(exportedEvents.length).toBeGreaterThanOrEqual(events.length);
  });

  it('the scan can find things: every encoded form, and the key ids, context keys and keyed hashes in every part of the trail', async () => {
    // The matcher finds each form of a secret embedded in text (so a clean result means absence, not a blind scan).
    const probe: Secret = { label: 'probe', bytes: randomBytes(37) };
    const forms = needlesOf(probe);
    expect(forms.length).toBeGreaterThanOrEqual(11);
    for (const prefix of [Buffer.alloc(0), Buffer.from([1]), Buffer.from([1, 2])]) {
      const embedded = Buffer.concat([prefix, probe.bytes, Buffer.from([9, 9, 9])]);
      for (const text of [embedded.toString('base64'), embedded.toString('base64url'), embedded.toString('hex')]) {
        expect(scan(forms, new Map([['probe', Buffer.from(`{"x":"${text}"}`)]])).length, text).toBeGreaterThan(0);
      }
    }
    expect(scan(forms, new Map([['probe', Buffer.from(`..${probe.bytes.subarray(5, 30).toString('hex')}..`)]]))).toEqual(['probe (16-byte piece hex) in probe']);
    expect(scan(forms, new Map([['clean', randomBytes(100_000)]]))).toEqual([]);
    // The dev credentials file holds two of the collected secrets: the scan finds them there.
    const credentialsNeedles = secrets.filter((s) => s.label.startsWith('dev bootstrap')).flatMap(needlesOf);
    const found = scan(credentialsNeedles, new Map([['dev-credentials.json', await readFile(credsFile)]]));
    expect(found).toContain('dev bootstrap bearer token (raw) in dev-credentials.json');
    expect(found).toContain('dev bootstrap secret access key (raw) in dev-credentials.json');

    // Non-secret parts of the requests are in every copy of the trail: the scan reads the events it should.
    const mustAppear = new Map<string, string>([...[...keyIds].map((k): [string, string] => [k, 'key id']), ...[...contextKeys].map(([k, label]): [string, string] => [k, `context key (${label})`]), ...[...keyedHashes].map((h): [string, string] => [h, 'keyed hash'])]);
    expect(keyIds.size).toBe(8);
    expect(contextKeys.size).toBeGreaterThanOrEqual(40);
    expect([...keyedHashes][0]).toMatch(/^hmac-sha256:audit-hmac-1:[0-9a-f]{64}$/);
    const database = (phase: string) => Buffer.concat([...haystacks].filter(([where]) => where.endsWith(`(${phase})`)).map(([, hay]) => hay));
    const copies = new Map([
      ['search results', haystacks.get('search results')!],
      ['audit export', haystacks.get('audit export')!],
      ['audit stream (JSON lines)', haystacks.get('audit stream (JSON lines)')!],
      ['database files (serving)', database('serving')],
      ['database files (stopped)', database('stopped')],
    ]);
    for (const [where, hay] of copies) {
      expect(hay.length, where).toBeGreaterThan(10_000);
      for (const [value, what] of mustAppear) expect(hay.includes(value), `${what} ${value} in ${where}`).toBe(true);
    }
  });

  it('no secret appears in the database files, the audit export, the stream, the search results or the output', () => {
    expect(haystacks.size).toBeGreaterThanOrEqual(6);
    const needles = secrets.flatMap(needlesOf);
    expect(needles.length).toBeGreaterThan(secrets.length * 10);
    const found = scan(needles, haystacks);
    expect(found).toEqual([]);
  });
});

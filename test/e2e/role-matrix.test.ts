// The role matrix: every built-in role × every operation of both APIs, with real credentials (SigV4 through the
// official @aws-sdk/client-kms, one KMSClient per role; bearer tokens over HTTPS), asserted exactly. The same matrix
// is in the README.
// A call counts as allowed when it is not refused as access denied: every call is made with valid input so that
// authorization is what decides (a call that passed authorization may still fail on key state, and that is fine).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants, createPublicKey, generateKeyPairSync, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as kms from '@aws-sdk/client-kms';
import type { KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_OPERATIONS, NOT_OFFERED } from '../../src/protocols/aws-kms/operations/index.js';
import { kmsClient } from '../helpers/aws-clients.js';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';
import { addPrincipal } from '../helpers/principals.js';
import { restClient, type DevCredentialsFile } from '../helpers/rest-client.js';

const ROLES = ['developer', 'compliance-officer', 'security-analyst', 'application', 'data-engineer', 'administrator'] as const;
type Role = (typeof ROLES)[number];

const ADMIN: Role[] = ['administrator'];
const META: Role[] = ['administrator', 'data-engineer', 'security-analyst', 'developer', 'compliance-officer'];
const DATA: Role[] = ['data-engineer', 'developer', 'application'];
const ENGINEER: Role[] = ['data-engineer'];
const ANALYST: Role[] = ['administrator', 'security-analyst'];
const CREATORS: Role[] = ['administrator', 'data-engineer'];
const EVERYONE: Role[] = [...ROLES];

/** Expected AWS KMS API matrix: operation -> roles allowed. */
const AWS_MATRIX: Record<string, Role[]> = {
  CreateKey: CREATORS,
  DescribeKey: [...META, 'application'],
  ListKeys: META,
  UpdateKeyDescription: ADMIN,
  EnableKey: ADMIN,
  Encrypt: DATA,
  Decrypt: DATA,
  ReEncrypt: DATA,
  GenerateDataKey: DATA,
  GenerateDataKeyWithoutPlaintext: DATA,
  GenerateDataKeyPair: ENGINEER,
  GenerateDataKeyPairWithoutPlaintext: ENGINEER,
  GenerateRandom: CREATORS,
  GenerateMac: ENGINEER,
  VerifyMac: ENGINEER,
  Sign: ENGINEER,
  Verify: ENGINEER,
  DeriveSharedSecret: ENGINEER,
  GetPublicKey: ['administrator', 'data-engineer', 'security-analyst'],
  CreateAlias: ADMIN,
  UpdateAlias: ADMIN,
  ListAliases: META,
  EnableKeyRotation: CREATORS,
  DisableKeyRotation: CREATORS,
  RotateKeyOnDemand: CREATORS,
  GetKeyRotationStatus: META,
  ListKeyRotations: META,
  TagResource: ADMIN,
  UntagResource: ADMIN,
  ListResourceTags: META,
  CreateGrant: ADMIN,
  ListGrants: ANALYST,
  ListRetirableGrants: ANALYST,
  RetireGrant: ADMIN,
  RevokeGrant: ADMIN,
  GetKeyPolicy: ANALYST,
  ListKeyPolicies: ANALYST,
  PutKeyPolicy: ADMIN,
  GetParametersForImport: ADMIN,
  ImportKeyMaterial: ADMIN,
  DeleteImportedKeyMaterial: ADMIN,
  DeleteAlias: ADMIN,
  DisableKey: ADMIN,
  ScheduleKeyDeletion: ADMIN,
  CancelKeyDeletion: ADMIN,
  CreateCustomKeyStore: ADMIN,
  DescribeCustomKeyStores: ADMIN,
  UpdateCustomKeyStore: ADMIN,
  ConnectCustomKeyStore: ADMIN,
  DisconnectCustomKeyStore: ADMIN,
  DeleteCustomKeyStore: ADMIN,
};

/** Expected native REST API matrix: operation -> roles allowed. */
const REST_MATRIX: Record<string, Role[]> = {
  GetCallerIdentity: EVERYONE,
  GetStatus: EVERYONE,
  GetMetrics: ANALYST,
  GetSealStatus: EVERYONE,
  UnsealRoot: EVERYONE,
  SealRoot: ADMIN,
  RekeyRoot: ADMIN,
  RotateRoot: ADMIN,
  MigrateRoot: ADMIN,
  GetRootMigration: EVERYONE,
  CreateKey: CREATORS,
  ListKeys: META,
  DescribeKey: [...META, 'application'],
  UpdateKeyDescription: ADMIN,
  EnableKey: ADMIN,
  RotateKeyOnDemand: CREATORS,
  EnableKeyRotation: CREATORS,
  ListKeyRotations: META,
  TagResource: ADMIN,
  UntagResource: ADMIN,
  Encrypt: DATA,
  Decrypt: DATA,
  ReEncrypt: DATA,
  GenerateDataKey: DATA,
  GenerateRandom: CREATORS,
  CreateAlias: ADMIN,
  UpdateAlias: ADMIN,
  ListAliases: META,
  LookupEvents: ['administrator', 'security-analyst', 'compliance-officer'],
  VerifyAuditTrail: ['administrator', 'security-analyst', 'compliance-officer'],
  ComputeAuditHash: ['administrator', 'security-analyst', 'compliance-officer'],
  ArchiveAuditTrail: ['administrator', 'compliance-officer'],
  ListPrincipals: ANALYST,
  GetPrincipal: ANALYST,
  ListAccessKeys: ANALYST,
  ListTokens: ANALYST,
  ListClientCertificates: ANALYST,
  InitCertificateAuthority: ADMIN,
  IssueCertificate: ADMIN,
  RevokeCertificate: ADMIN,
  ListCertificates: ADMIN,
  GetPkiStatus: ADMIN,
  ListPolicies: ANALYST,
  GetPolicy: ANALYST,
  ListRoles: ANALYST,
  GetRole: ANALYST,
  ListApprovals: ANALYST,
  GetApproval: ANALYST,
  ApproveRequest: ADMIN,
  RejectRequest: ADMIN,
  CreatePrincipal: ADMIN,
  UpdatePrincipal: ADMIN,
  DisablePrincipal: ADMIN,
  EnablePrincipal: ADMIN,
  AddPrincipalRole: ADMIN,
  RemovePrincipalRole: ADMIN,
  AttachPrincipalPolicy: ADMIN,
  DetachPrincipalPolicy: ADMIN,
  CreatePolicy: ADMIN,
  UpdatePolicy: ADMIN,
  CreateAccessKey: ADMIN,
  UpdateAccessKey: ADMIN,
  CreateToken: ADMIN,
  MapClientCertificate: ADMIN,
  DeleteAlias: ADMIN,
  DisableKey: ADMIN,
  ScheduleKeyDeletion: ADMIN,
  CancelKeyDeletion: ADMIN,
  DeleteAccessKey: ADMIN,
  RevokeToken: ADMIN,
  UnmapClientCertificate: ADMIN,
  DeletePolicy: ADMIN,
  DeletePrincipal: ADMIN,
};

/** Blobs are as the SDK takes and returns them (Uint8Array); the REST API takes base64 (`ciphertextBase64`). */
interface Fixture {
  key: string;
  keyArn: string;
  untagged: string;
  hmac: string;
  signing: string;
  agreement: string;
  external: string;
  importToken: Uint8Array;
  encryptedMaterial: Uint8Array;
  ciphertext: Uint8Array;
  ciphertextBase64: string;
  mac: Uint8Array;
  signature: Uint8Array;
  peerPublicKey: Uint8Array;
  appArn: string;
  certificatePem: string;
  defaultPolicy: string;
}

let dir: string;
let server: DevServer;
let admin: DevCredentialsFile;
let fx: Fixture;
const creds = {} as Record<Role, DevCredentialsFile>;
/** One SDK client per role (and one for the server's administrator), each signing with its own access key. */
const clients = {} as Record<Role, KMSClient>;
let adminKms: KMSClient;

const b64 = (s: string) => Buffer.from(s).toString('base64');
const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

type CommandClass = new (input: object) => Parameters<KMSClient['send']>[0];

/** The SDK's `<operation>Command` class; throws when the SDK has none (a typo in the matrix fails loudly). */
function commandClass(operation: string): CommandClass {
  const Command = (kms as Record<string, unknown>)[`${operation}Command`];
  if (typeof Command !== 'function') throw new Error(`@aws-sdk/client-kms has no ${operation}Command`);
  return Command as CommandClass;
}

/** The SigV4 failures the server answers for a request it could not authenticate (none may happen here). */
const AUTHENTICATION_FAILURES = ['MissingAuthenticationTokenException', 'IncompleteSignatureException', 'UnrecognizedClientException', 'InvalidSignatureException'];

type AwsOutcome = { ok: true; output: Record<string, any> } | { ok: false; name: string; message: string; status: number };

/**
 * Sends `operation` through the SDK. A rejection counts only when it is the server's answer (it has an HTTP status):
 * anything the SDK raises before or without a response (serialization, TLS, signing) is rethrown so that it can never
 * pass for "allowed".
 */
async function aws(client: KMSClient, operation: string, input: object): Promise<AwsOutcome> {
  try {
    return { ok: true, output: (await client.send(new (commandClass(operation))(input))) as Record<string, any> };
  } catch (err) {
    const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    if (status === undefined || typeof e.name !== 'string') throw err;
    return { ok: false, name: e.name, message: e.message ?? '', status };
  }
}

async function awsOk(operation: string, input: object): Promise<Record<string, any>> {
  const r = await aws(adminKms, operation, input);
  if (!r.ok) expect.fail(`${operation}: ${r.status} ${r.name}: ${r.message}`);
  return r.output;
}

/** A self-signed client certificate (mapping is by exact fingerprint). */
function selfSignedCertificate(name: string): string {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${name}`], {
    stdio: 'ignore',
  });
  return readFileSync(certFile, 'utf8');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dd-matrix-'));
  server = await startDevServer(dir);
  admin = server.credentials;
  adminKms = kmsClient(admin);
  const rest = restClient(admin);
  for (const role of ROLES) {
    creds[role] = await addPrincipal(admin, `matrix-${role}`, { roles: [role] });
    clients[role] = kmsClient(creds[role]);
  }

  const key = (await awsOk('CreateKey', { Tags: [{ TagKey: 'environment', TagValue: 'test' }] })).KeyMetadata;
  const untagged = (await awsOk('CreateKey', {})).KeyMetadata.KeyId;
  const hmac = (await awsOk('CreateKey', { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' })).KeyMetadata.KeyId;
  const signing = (await awsOk('CreateKey', { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' })).KeyMetadata.KeyId;
  const agreement = (await awsOk('CreateKey', { KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' })).KeyMetadata.KeyId;
  const external = (await awsOk('CreateKey', { Origin: 'EXTERNAL' })).KeyMetadata.KeyId;
  const params = await awsOk('GetParametersForImport', { KeyId: external, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
  const wrapped = publicEncrypt(
    { key: createPublicKey({ key: Buffer.from(params.PublicKey), format: 'der', type: 'spki' }), oaepHash: 'sha256', padding: constants.RSA_PKCS1_OAEP_PADDING },
    randomBytes(32),
  );
  await awsOk('CreateAlias', { AliasName: 'alias/matrix', TargetKeyId: key.KeyId });
  const appArn = creds.application.principalArn;
  await awsOk('CreateGrant', {
    KeyId: key.KeyId,
    GranteePrincipal: appArn,
    Operations: ['Encrypt', 'Decrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo', 'DescribeKey'],
  });
  const peer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ciphertext: Uint8Array = (await awsOk('Encrypt', { KeyId: key.KeyId, Plaintext: utf8('matrix') })).CiphertextBlob;
  fx = {
    key: key.KeyId,
    keyArn: key.Arn,
    untagged,
    hmac,
    signing,
    agreement,
    external,
    importToken: params.ImportToken,
    encryptedMaterial: new Uint8Array(wrapped),
    ciphertext,
    ciphertextBase64: Buffer.from(ciphertext).toString('base64'),
    mac: (await awsOk('GenerateMac', { KeyId: hmac, Message: utf8('m'), MacAlgorithm: 'HMAC_SHA_256' })).Mac,
    signature: (await awsOk('Sign', { KeyId: signing, Message: utf8('m'), SigningAlgorithm: 'ECDSA_SHA_256' })).Signature,
    peerPublicKey: new Uint8Array(peer.publicKey.export({ format: 'der', type: 'spki' })),
    appArn,
    certificatePem: '',
    defaultPolicy: (await awsOk('GetKeyPolicy', { KeyId: key.KeyId, PolicyName: 'default' })).Policy,
  };
  fx.certificatePem = selfSignedCertificate('matrix-client');
  const readPolicy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:DescribeKey', Resource: '*' }] });
  expect((await rest('POST', '/v1/policies', { name: 'matrix-read', document: readPolicy })).status).toBe(201);
}, 120_000);

afterAll(async () => {
  adminKms?.destroy();
  for (const client of Object.values(clients)) client.destroy();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Per role: a grant to revoke and one to retire (neither names the role's principal as retiring principal). */
async function awsCalls(role: Role): Promise<Array<[string, object]>> {
  const grant = async () =>
    (await awsOk('CreateGrant', { KeyId: fx.key, GranteePrincipal: `arn:aws:iam::${admin.accountId}:user/nobody-${role}`, Operations: ['Decrypt'] })).GrantId;
  const revokeId = await grant();
  const retireId = await grant();
  const alias = `alias/matrix-${role}`;
  const k = fx.key;
  return [
    ['CreateKey', {}],
    ['DescribeKey', { KeyId: k }],
    ['ListKeys', {}],
    ['UpdateKeyDescription', { KeyId: k, Description: `by ${role}` }],
    ['EnableKey', { KeyId: k }],
    ['Encrypt', { KeyId: k, Plaintext: utf8('x') }],
    ['Decrypt', { CiphertextBlob: fx.ciphertext }],
    ['ReEncrypt', { CiphertextBlob: fx.ciphertext, DestinationKeyId: k }],
    ['GenerateDataKey', { KeyId: k, KeySpec: 'AES_256' }],
    ['GenerateDataKeyWithoutPlaintext', { KeyId: k, KeySpec: 'AES_256' }],
    ['GenerateDataKeyPair', { KeyId: k, KeyPairSpec: 'ECC_NIST_P256' }],
    ['GenerateDataKeyPairWithoutPlaintext', { KeyId: k, KeyPairSpec: 'ECC_NIST_P256' }],
    ['GenerateRandom', { NumberOfBytes: 8 }],
    ['GenerateMac', { KeyId: fx.hmac, Message: utf8('m'), MacAlgorithm: 'HMAC_SHA_256' }],
    ['VerifyMac', { KeyId: fx.hmac, Message: utf8('m'), MacAlgorithm: 'HMAC_SHA_256', Mac: fx.mac }],
    ['Sign', { KeyId: fx.signing, Message: utf8('m'), SigningAlgorithm: 'ECDSA_SHA_256' }],
    ['Verify', { KeyId: fx.signing, Message: utf8('m'), SigningAlgorithm: 'ECDSA_SHA_256', Signature: fx.signature }],
    ['DeriveSharedSecret', { KeyId: fx.agreement, KeyAgreementAlgorithm: 'ECDH', PublicKey: fx.peerPublicKey }],
    ['GetPublicKey', { KeyId: fx.signing }],
    ['CreateAlias', { AliasName: alias, TargetKeyId: k }],
    ['UpdateAlias', { AliasName: 'alias/matrix', TargetKeyId: k }],
    ['ListAliases', {}],
    ['EnableKeyRotation', { KeyId: k }],
    ['DisableKeyRotation', { KeyId: k }],
    ['RotateKeyOnDemand', { KeyId: k }],
    ['GetKeyRotationStatus', { KeyId: k }],
    ['ListKeyRotations', { KeyId: k }],
    ['TagResource', { KeyId: k, Tags: [{ TagKey: 'matrix', TagValue: role }] }],
    ['UntagResource', { KeyId: k, TagKeys: ['matrix'] }],
    ['ListResourceTags', { KeyId: k }],
    ['CreateGrant', { KeyId: k, GranteePrincipal: fx.appArn, Operations: ['Encrypt'] }],
    ['ListGrants', { KeyId: k }],
    ['ListRetirableGrants', { RetiringPrincipal: fx.appArn }],
    ['RetireGrant', { KeyId: k, GrantId: retireId }],
    ['RevokeGrant', { KeyId: k, GrantId: revokeId }],
    ['GetKeyPolicy', { KeyId: k, PolicyName: 'default' }],
    ['ListKeyPolicies', { KeyId: k }],
    ['PutKeyPolicy', { KeyId: k, PolicyName: 'default', Policy: fx.defaultPolicy }],
    ['GetParametersForImport', { KeyId: fx.external, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }],
    ['ImportKeyMaterial', { KeyId: fx.external, ImportToken: fx.importToken, EncryptedKeyMaterial: fx.encryptedMaterial, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }],
    ['DeleteImportedKeyMaterial', { KeyId: fx.external }],
    ['DeleteAlias', { AliasName: alias }],
    ['DisableKey', { KeyId: fx.untagged }],
    ['ScheduleKeyDeletion', { KeyId: fx.untagged, PendingWindowInDays: 7 }],
    ['CancelKeyDeletion', { KeyId: fx.untagged }],
    // No PKCS#11 module in this server: past authorization these fail (not found, unsupported), never AccessDenied.
    ['CreateCustomKeyStore', { CustomKeyStoreName: `matrix-${role}`, CloudHsmClusterId: 'cluster-matrix', TrustAnchorCertificate: 'x', KeyStorePassword: 'password' }],
    ['DescribeCustomKeyStores', {}],
    ['UpdateCustomKeyStore', { CustomKeyStoreId: 'cks-00000000000000000', NewCustomKeyStoreName: 'n' }],
    ['ConnectCustomKeyStore', { CustomKeyStoreId: 'cks-00000000000000000' }],
    ['DisconnectCustomKeyStore', { CustomKeyStoreId: 'cks-00000000000000000' }],
    ['DeleteCustomKeyStore', { CustomKeyStoreId: 'cks-00000000000000000' }],
  ];
}

type RestCall = [name: string, method: string, path: string, body?: unknown];

/** Per role: a victim principal with a key, a token and a certificate, and an approval-free id to decide. */
async function restCalls(role: Role): Promise<RestCall[]> {
  const victim = `victim-${role}`;
  const rest = restClient(admin);
  expect((await rest('POST', '/v1/principals', { name: victim })).status).toBe(201);
  const accessKeyId = (await rest('POST', `/v1/principals/${victim}/access-keys`, {})).body.accessKey.accessKeyId;
  const accessor = (await rest('POST', `/v1/principals/${victim}/tokens`, {})).body.token.accessor;
  const pem = selfSignedCertificate(`victim-${role}`);
  const fingerprint = (await rest('POST', `/v1/principals/${victim}/certificates`, { certificatePem: pem })).body.certificate.fingerprint;
  const policy = `matrix-${role}`;
  const document = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:ListKeys', Resource: '*' }] });
  expect((await rest('POST', '/v1/policies', { name: policy, document })).status).toBe(201);
  const missingApproval = '00000000-0000-4000-8000-000000000000';
  const k = fx.key;
  return [
    ['GetCallerIdentity', 'GET', '/v1/whoami'],
    ['GetStatus', 'GET', '/v1/status'],
    ['GetMetrics', 'GET', '/v1/metrics'],
    // The dev server's local root cannot be sealed: allowed calls answer UnsupportedOperation, refused ones 403.
    ['GetSealStatus', 'GET', '/v1/operator/status'],
    ['UnsealRoot', 'POST', '/v1/operator/unseal', { share: 'dds1.x' }],
    ['SealRoot', 'POST', '/v1/operator/seal'],
    ['RekeyRoot', 'POST', '/v1/operator/rekey', { shares: ['dds1.x'], newShares: 3, newThreshold: 2 }],
    // Allowed: the dev root is already local (a ValidationError after authorization, nothing moves).
    ['MigrateRoot', 'POST', '/v1/operator/migrate-root', { to: 'local' }],
    // Allowed for the administrator: a real rotation of the dev root, re-wrapping in the background while the matrix runs.
    ['RotateRoot', 'POST', '/v1/operator/rotate-root', {}],
    ['GetRootMigration', 'GET', '/v1/operator/root-migration'],
    ['CreateKey', 'POST', '/v1/keys', {}],
    ['ListKeys', 'GET', '/v1/keys'],
    ['DescribeKey', 'GET', `/v1/keys/${k}`],
    ['UpdateKeyDescription', 'PATCH', `/v1/keys/${k}`, { description: role }],
    ['EnableKey', 'POST', `/v1/keys/${k}/enable`],
    ['RotateKeyOnDemand', 'POST', `/v1/keys/${k}/rotate`],
    ['EnableKeyRotation', 'PUT', `/v1/keys/${k}/rotation`, { enabled: true }],
    ['ListKeyRotations', 'GET', `/v1/keys/${k}/rotations`],
    ['TagResource', 'POST', `/v1/keys/${k}/tags`, { tags: { matrix: role } }],
    ['UntagResource', 'POST', `/v1/keys/${k}/untag`, { tagKeys: ['matrix'] }],
    ['Encrypt', 'POST', '/v1/encrypt', { keyId: k, plaintext: b64('x') }],
    ['Decrypt', 'POST', '/v1/decrypt', { ciphertext: fx.ciphertextBase64 }],
    ['ReEncrypt', 'POST', '/v1/re-encrypt', { ciphertext: fx.ciphertextBase64, destinationKeyId: k }],
    ['GenerateDataKey', 'POST', '/v1/data-keys', { keyId: k }],
    ['GenerateRandom', 'POST', '/v1/random', { numberOfBytes: 8 }],
    ['CreateAlias', 'POST', '/v1/aliases', { aliasName: `alias/rest-${role}`, keyId: k }],
    ['UpdateAlias', 'PUT', '/v1/aliases/alias/matrix', { keyId: k }],
    ['ListAliases', 'GET', '/v1/aliases'],
    ['LookupEvents', 'GET', '/v1/audit/events?limit=1'],
    ['VerifyAuditTrail', 'GET', '/v1/audit/chains'],
    ['ComputeAuditHash', 'POST', '/v1/audit/hash', { value: 'x' }],
    ['ArchiveAuditTrail', 'POST', '/v1/audit/archive', { dryRun: true }],
    ['ListPrincipals', 'GET', '/v1/principals'],
    ['GetPrincipal', 'GET', `/v1/principals/${victim}`],
    ['ListAccessKeys', 'GET', `/v1/principals/${victim}/access-keys`],
    ['ListTokens', 'GET', `/v1/principals/${victim}/tokens`],
    ['ListClientCertificates', 'GET', `/v1/principals/${victim}/certificates`],
    ['GetPkiStatus', 'GET', '/v1/pki/status'],
    ['ListCertificates', 'GET', '/v1/pki/certificates'],
    ['IssueCertificate', 'POST', '/v1/pki/certificates', { profile: 'server', hosts: [`matrix-${role}.example`] }],
    ['RevokeCertificate', 'POST', '/v1/pki/certificates/ffff/revoke', {}],
    ['InitCertificateAuthority', 'POST', '/v1/pki/ca', { kind: 'intermediate', commonName: `matrix-${role}` }],
    ['ListPolicies', 'GET', '/v1/policies'],
    ['GetPolicy', 'GET', `/v1/policies/${policy}`],
    ['ListRoles', 'GET', '/v1/roles'],
    ['GetRole', 'GET', '/v1/roles/developer'],
    ['ListApprovals', 'GET', '/v1/approvals'],
    ['GetApproval', 'GET', `/v1/approvals/${missingApproval}`],
    ['ApproveRequest', 'POST', `/v1/approvals/${missingApproval}/approve`],
    ['RejectRequest', 'POST', `/v1/approvals/${missingApproval}/reject`],
    ['CreatePrincipal', 'POST', '/v1/principals', { name: `created-by-${role}` }],
    ['UpdatePrincipal', 'POST', `/v1/principals/${victim}/tags`, { tags: { team: 'matrix' } }],
    ['DisablePrincipal', 'POST', `/v1/principals/${victim}/disable`],
    ['EnablePrincipal', 'POST', `/v1/principals/${victim}/enable`],
    ['AddPrincipalRole', 'PUT', `/v1/principals/${victim}/roles/compliance-officer`],
    ['RemovePrincipalRole', 'DELETE', `/v1/principals/${victim}/roles/compliance-officer`],
    ['AttachPrincipalPolicy', 'PUT', `/v1/principals/${victim}/policies/matrix-read`],
    ['DetachPrincipalPolicy', 'DELETE', `/v1/principals/${victim}/policies/matrix-read`],
    ['CreatePolicy', 'POST', '/v1/policies', { name: `new-${role}`, document }],
    ['UpdatePolicy', 'PUT', `/v1/policies/${policy}`, { document }],
    ['CreateAccessKey', 'POST', `/v1/principals/${victim}/access-keys`, {}],
    ['UpdateAccessKey', 'PATCH', `/v1/access-keys/${accessKeyId}`, { status: 'Inactive' }],
    ['CreateToken', 'POST', `/v1/principals/${victim}/tokens`, {}],
    ['MapClientCertificate', 'POST', `/v1/principals/${victim}/certificates`, { certificatePem: fx.certificatePem }],
    ['DeleteAlias', 'DELETE', `/v1/aliases/alias/rest-${role}`],
    ['DisableKey', 'POST', `/v1/keys/${fx.untagged}/disable`],
    ['ScheduleKeyDeletion', 'POST', `/v1/keys/${fx.untagged}/schedule-deletion`, { pendingWindowInDays: 7 }],
    ['CancelKeyDeletion', 'POST', `/v1/keys/${fx.untagged}/cancel-deletion`],
    ['DeleteAccessKey', 'DELETE', `/v1/access-keys/${accessKeyId}`],
    ['RevokeToken', 'DELETE', `/v1/tokens/${accessor}`],
    ['UnmapClientCertificate', 'DELETE', `/v1/certificates/${fingerprint}`],
    ['DeletePolicy', 'DELETE', `/v1/policies/${policy}`],
    ['DeletePrincipal', 'DELETE', `/v1/principals/${victim}`],
  ];
}

/** Differences between what a role could do and what the matrix says (both empty when they agree). */
function against(matrix: Record<string, Role[]>, role: Role, allowed: string[]) {
  const expected = Object.keys(matrix).filter((op) => matrix[op]!.includes(role));
  return { unexpectedlyAllowed: allowed.filter((op) => !expected.includes(op)), unexpectedlyDenied: expected.filter((op) => !allowed.includes(op)) };
}

describe('role matrix', () => {
  it('covers every operation of both APIs', async () => {
    const offered = Object.keys(AWS_OPERATIONS).filter((name) => !Object.hasOwn(NOT_OFFERED, name));
    expect(Object.keys(AWS_MATRIX).sort()).toEqual(offered.sort());
    const routes = join(process.cwd(), 'src/protocols/rest/routes');
    const sources = await Promise.all((await readdir(routes)).map((f) => readFile(join(routes, f), 'utf8')));
    const restOperations = new Set(sources.flatMap((source) => [...source.matchAll(/(?:operation|action|open)\([^)]*?'([A-Z]\w+)'/g)].map((m) => m[1]!)));
    expect(Object.keys(REST_MATRIX).sort()).toEqual([...restOperations].sort());
    // Every AWS operation of the matrix is sent as the SDK's own command, and every command of the SDK is either
    // offered or declined on purpose (a new AWS operation shows up here).
    expect(Object.keys(AWS_MATRIX).filter((operation) => typeof (kms as Record<string, unknown>)[`${operation}Command`] !== 'function')).toEqual([]);
    const sdkOperations = Object.keys(kms).filter((name) => /^[A-Z]\w+Command$/.test(name) && name !== 'Command').map((name) => name.slice(0, -'Command'.length));
    expect(sdkOperations.filter((operation) => !Object.hasOwn(AWS_OPERATIONS, operation))).toEqual([]);
  });

  for (const role of ROLES) {
    it(`AWS KMS API as ${role}`, async () => {
      const allowed: string[] = [];
      const calls = await awsCalls(role);
      expect(calls.map(([operation]) => operation).sort()).toEqual(Object.keys(AWS_MATRIX).sort());
      for (const [operation, input] of calls) {
        const r = await aws(clients[role], operation, input);
        if (r.ok || r.name !== 'AccessDeniedException') {
          if (!r.ok) expect(AUTHENTICATION_FAILURES, `${operation}: ${r.name}: ${r.message}`).not.toContain(r.name);
          allowed.push(operation);
        } else expect(r.message, operation).toMatch(/is not authorized to perform/);
      }
      expect(against(AWS_MATRIX, role, allowed)).toEqual({ unexpectedlyAllowed: [], unexpectedlyDenied: [] });
    }, 60_000);

    it(`native REST API as ${role}`, async () => {
      const call = restClient(creds[role]);
      const allowed: string[] = [];
      for (const [operation, method, path, body] of await restCalls(role)) {
        const r = await call(method, path, body);
        if (r.status === 403 && r.body?.code === 'ERR_ACCESS_DENIED') continue;
        expect(r.status, `${operation}: ${JSON.stringify(r.body)}`).not.toBe(401);
        allowed.push(operation);
      }
      expect(against(REST_MATRIX, role, allowed)).toEqual({ unexpectedlyAllowed: [], unexpectedlyDenied: [] });
    }, 60_000);
  }

  it('lets a developer use only keys tagged environment=test', async () => {
    const denied = await aws(clients.developer, 'Encrypt', { KeyId: fx.untagged, Plaintext: utf8('x') });
    expect(denied.ok ? 'OK' : denied.name).toBe('AccessDeniedException');
    const allowed = await aws(clients.developer, 'Encrypt', { KeyId: fx.key, Plaintext: utf8('x') });
    expect(allowed.ok ? 'OK' : allowed.name).toBe('OK');
  });

  it('lets an application use only the keys it was given', async () => {
    const other = await aws(clients.application, 'Encrypt', { KeyId: fx.untagged, Plaintext: utf8('x') });
    expect(other.ok ? 'OK' : other.name).toBe('AccessDeniedException');
    const own = await aws(clients.application, 'GenerateDataKey', { KeyId: fx.key, KeySpec: 'AES_256' });
    expect(own.ok ? 'OK' : own.name).toBe('OK');
  });
});

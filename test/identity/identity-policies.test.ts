// Managed identity policies through a real dev server: validation, attachment, and what an attached policy lets a
// principal do on keys through the AWS SDK (keys keep AWS's default key policy, which delegates to identity
// policies): conditions on encryption context and principal tags, explicit Deny over a role, updates taking
// effect within the cache window, delete only when detached, and built-in role documents copied into policies.
import { CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsError, kmsClient } from '../helpers/aws-clients.js';
import { addPrincipal } from '../helpers/principals.js';
import { eventually, expectProblem, startIdentityServer, unique, type IdentityServer, outcome } from './identity-helpers.js';

let s: IdentityServer;
let adminKms: KMSClient;
let key1: string; // ARN
let key2: string; // ARN
const clients: KMSClient[] = [];
const data = Buffer.from('account 42');

beforeAll(async () => {
  s = await startIdentityServer('dd-idpolicies-');
  adminKms = kmsClient(s.admin);
  key1 = (await adminKms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  key2 = (await adminKms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
});
afterAll(async () => {
  for (const c of [adminKms, ...clients]) c?.destroy();
  await s?.stop();
});

const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

async function createPolicy(document: string, name = unique('pol')): Promise<string> {
  const res = await s.call('POST', '/v1/policies', { name, document });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return name;
}

/** A new principal (no roles unless given) with the policies attached, and an SDK client for its access key. */
async function principalWith(options: { roles?: string[]; policies?: string[]; tags?: Record<string, string> }) {
  const name = unique('user');
  const creds = await addPrincipal(s.admin, name, options);
  const kms = kmsClient(creds);
  clients.push(kms);
  return { name, arn: creds.principalArn, kms };
}


const encrypt = (kms: KMSClient, KeyId: string, EncryptionContext?: Record<string, string>) =>
  outcome(kms.send(new EncryptCommand({ KeyId, Plaintext: data, ...(EncryptionContext ? { EncryptionContext } : {}) })));

describe('validation', () => {
  it('stores a valid document and shows it; lists it', async () => {
    const document = doc({ Sid: 'Read', Effect: 'Allow', Action: 'kms:DescribeKey', Resource: '*' });
    const name = unique('valid');
    const res = await s.call('POST', '/v1/policies', { name, document, description: 'reads keys' });
    expect(res.status).toBe(201);
    expect(res.body.policy).toMatchObject({ name, arn: `arn:aws:iam::${s.admin.accountId}:policy/${name}`, description: 'reads keys', document });
    expect((await s.call('GET', `/v1/policies/${name}`)).body.policy).toEqual(res.body.policy);
    expect((await s.call('GET', '/v1/policies')).body.policies.map((p: { name: string }) => p.name)).toContain(name);
    expectProblem(await s.call('POST', '/v1/policies', { name, document }), 409, 'ERR_ALREADY_EXISTS');
    expectProblem(await s.call('GET', `/v1/policies/${unique('none')}`), 404, 'ERR_NOT_FOUND');
  });

  it('refuses malformed JSON, a Principal element, > 32 KB and bad statements with ERR_MALFORMED_POLICY and a reason', async () => {
    const big = doc(
      ...Array.from({ length: 300 }, (_, i) => ({ Sid: `S${i}`, Effect: 'Allow', Action: 'kms:DescribeKey', Resource: `arn:aws:kms:us-east-1:111122223333:key/${'0'.repeat(36)}` })),
    );
    expect(Buffer.byteLength(big)).toBeGreaterThan(32 * 1024);
    expect(Buffer.byteLength(JSON.stringify({ name: 'x', document: big }))).toBeLessThan(60_000);
    const cases: [string, string][] = [
      ['{"Version": "2012-10-17", "Statement": [', 'malformed JSON'],
      [doc({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:Encrypt', Resource: '*' }), 'Principal'],
      [doc({ Effect: 'Allow', NotPrincipal: { AWS: '*' }, Action: 'kms:Encrypt', Resource: '*' }), 'NotPrincipal'],
      [big, 'over 32 KB'],
      [doc({ Effect: 'Maybe', Action: 'kms:Encrypt', Resource: '*' }), 'bad Effect'],
      [doc({ Effect: 'Allow', Action: 'kms:Encrypt' }), 'no Resource'],
      [doc({ Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*', Condition: { NoSuchOperator: { 'kms:KeySpec': 'x' } } }), 'unknown operator'],
      [JSON.stringify({ Version: '2012-10-17' }), 'no Statement'],
    ];
    for (const [document, what] of cases) {
      const name = unique('bad');
      const res = await s.call('POST', '/v1/policies', { name, document });
      expectProblem(res, 400, 'ERR_MALFORMED_POLICY');
      expect(typeof res.body.detail, what).toBe('string');
      expect(res.body.detail.length, what).toBeGreaterThan(10);
      expectProblem(await s.call('GET', `/v1/policies/${name}`), 404, 'ERR_NOT_FOUND');
    }
    expect((await s.call('POST', '/v1/policies', { name: unique('bad'), document: cases[1]![0] })).body.detail).toMatch(/principal/i);
    expect((await s.call('POST', '/v1/policies', { name: unique('bad'), document: big })).body.detail).toMatch(/maximum size of 32768 bytes/);
    expectProblem(await s.call('POST', '/v1/policies', { name: unique('bad'), document: doc({ Effect: 'Allow', Action: '*', Resource: '*' }), extra: 1 }), 400, 'ERR_VALIDATION');
    expectProblem(await s.call('POST', '/v1/policies', { name: 'bad name', document: doc({ Effect: 'Allow', Action: '*', Resource: '*' }) }), 400, 'ERR_VALIDATION');
    expectProblem(await s.call('POST', '/v1/policies', { name: unique('bad'), document: { Version: '2012-10-17' } }), 400, 'ERR_VALIDATION');
  });
});

describe('attached policies decide what a principal may do on keys', () => {
  it('Allow Encrypt/Decrypt on one key under an encryption-context condition: exactly that, nothing more', async () => {
    const policy = await createPolicy(
      doc({ Effect: 'Allow', Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: key1, Condition: { StringEquals: { 'kms:EncryptionContext:tenant': 't1' } } }),
    );
    const p = await principalWith({ policies: [policy] });
    expect(await encrypt(p.kms, key1, { tenant: 't1' })).toBe('ok');
    expect(await encrypt(p.kms, key1, { tenant: 't1', extra: 'x' })).toBe('ok');
    expect(await encrypt(p.kms, key1, { tenant: 't2' })).toBe('AccessDeniedException');
    expect(await encrypt(p.kms, key1)).toBe('AccessDeniedException');
    expect(await encrypt(p.kms, key2, { tenant: 't1' })).toBe('AccessDeniedException');
    const denied = await awsError(p.kms.send(new EncryptCommand({ KeyId: key2, Plaintext: data, EncryptionContext: { tenant: 't1' } })));
    expect(denied.message).toBe(`User: ${p.arn} is not authorized to perform: kms:Encrypt on resource: ${key2}`);

    const blob = (await p.kms.send(new EncryptCommand({ KeyId: key1, Plaintext: data, EncryptionContext: { tenant: 't1' } }))).CiphertextBlob!;
    const plain = await p.kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { tenant: 't1' } }));
    expect(Buffer.from(plain.Plaintext!).toString()).toBe('account 42');
    // Not allowed: another action, and Decrypt under another context (for a blob made by the admin).
    expect(await outcome(p.kms.send(new GenerateDataKeyCommand({ KeyId: key1, KeySpec: 'AES_256', EncryptionContext: { tenant: 't1' } })))).toBe('AccessDeniedException');
    expect(await outcome(p.kms.send(new DescribeKeyCommand({ KeyId: key1 })))).toBe('AccessDeniedException');
    const t2 = (await adminKms.send(new EncryptCommand({ KeyId: key1, Plaintext: data, EncryptionContext: { tenant: 't2' } }))).CiphertextBlob!;
    expect(await outcome(p.kms.send(new DecryptCommand({ CiphertextBlob: t2, EncryptionContext: { tenant: 't2' } })))).toBe('AccessDeniedException');
  });

  it('an explicit Deny in an attached policy beats the data-engineer role', async () => {
    const policy = await createPolicy(doc({ Sid: 'NoDecryptKey1', Effect: 'Deny', Action: 'kms:Decrypt', Resource: key1 }));
    const engineer = await principalWith({ roles: ['data-engineer'] });
    const denied = await principalWith({ roles: ['data-engineer'], policies: [policy] });
    const blob1 = (await adminKms.send(new EncryptCommand({ KeyId: key1, Plaintext: data }))).CiphertextBlob!;
    const blob2 = (await adminKms.send(new EncryptCommand({ KeyId: key2, Plaintext: data }))).CiphertextBlob!;
    expect(await outcome(engineer.kms.send(new DecryptCommand({ CiphertextBlob: blob1 })))).toBe('ok');
    expect(await outcome(denied.kms.send(new DecryptCommand({ CiphertextBlob: blob1 })))).toBe('AccessDeniedException');
    expect(await outcome(denied.kms.send(new DecryptCommand({ CiphertextBlob: blob2 })))).toBe('ok');
    expect(await encrypt(denied.kms, key1)).toBe('ok');
    // The audit trail names the deciding statement.
    const events = (await s.call('GET', '/v1/audit/events?limit=1000')).body.events as { principal: string; eventName: string; outcome: string; details: { authorization?: { by?: string } } }[];
    const refusal = events.find((e) => e.principal === denied.arn && e.eventName === 'Decrypt' && e.outcome === 'denied');
    expect(refusal?.details.authorization?.by).toBe(`policy:${policy}:NoDecryptKey1`);
  });

  it('a condition on aws:PrincipalTag/team follows the principal\'s tags (within the cache window)', async () => {
    const policy = await createPolicy(
      doc({ Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/team': 'payments' } } }),
    );
    const payments = await principalWith({ policies: [policy], tags: { team: 'payments' } });
    const risk = await principalWith({ policies: [policy], tags: { team: 'risk' } });
    const untagged = await principalWith({ policies: [policy] });
    expect(await encrypt(payments.kms, key1)).toBe('ok');
    expect(await encrypt(payments.kms, key2)).toBe('ok');
    expect(await encrypt(risk.kms, key1)).toBe('AccessDeniedException');
    expect(await encrypt(untagged.kms, key1)).toBe('AccessDeniedException');

    expect((await s.call('POST', `/v1/principals/${risk.name}/tags`, { tags: { team: 'payments' } })).status).toBe(200);
    await eventually('retagged principal allowed', async () => (await encrypt(risk.kms, key1)) === 'ok');
    expect((await s.call('POST', `/v1/principals/${payments.name}/untag`, { tagKeys: ['team'] })).status).toBe(200);
    await eventually('untagged principal denied', async () => (await encrypt(payments.kms, key1)) === 'AccessDeniedException');
  });

  it('updating an attached policy takes effect within the cache window', async () => {
    const name = await createPolicy(
      doc({ Effect: 'Allow', Action: 'kms:Encrypt', Resource: key1, Condition: { StringEquals: { 'kms:EncryptionContext:tenant': 't1' } } }),
    );
    const p = await principalWith({ policies: [name] });
    expect(await encrypt(p.kms, key1, { tenant: 't1' })).toBe('ok');
    expect(await encrypt(p.kms, key1, { tenant: 't2' })).toBe('AccessDeniedException');

    const updated = doc({ Effect: 'Allow', Action: 'kms:Encrypt', Resource: key1, Condition: { StringEquals: { 'kms:EncryptionContext:tenant': 't2' } } });
    const res = await s.call('PUT', `/v1/policies/${name}`, { document: updated });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.policy.document).toBe(updated);
    await eventually('update takes effect', async () => (await encrypt(p.kms, key1, { tenant: 't2' })) === 'ok');
    expect(await encrypt(p.kms, key1, { tenant: 't1' })).toBe('AccessDeniedException');

    // An invalid update is refused and leaves the policy as it was.
    expectProblem(await s.call('PUT', `/v1/policies/${name}`, { document: '{' }), 400, 'ERR_MALFORMED_POLICY');
    expect((await s.call('GET', `/v1/policies/${name}`)).body.policy.document).toBe(updated);
    expectProblem(await s.call('PUT', `/v1/policies/${unique('none')}`, { document: updated }), 404, 'ERR_NOT_FOUND');
  });

  it('an attached policy cannot be deleted (409 ERR_CONFLICT); detached, it can (204), and the principal loses it', async () => {
    const name = await createPolicy(doc({ Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*' }));
    const p = await principalWith({ policies: [name] });
    expect(await encrypt(p.kms, key1)).toBe('ok');
    expectProblem(await s.call('DELETE', `/v1/policies/${name}`), 409, 'ERR_CONFLICT');
    expect((await s.call('GET', `/v1/policies/${name}`)).status).toBe(200);
    expect(await encrypt(p.kms, key1)).toBe('ok');

    expect((await s.call('DELETE', `/v1/principals/${p.name}/policies/${name}`)).status).toBe(200);
    expect((await s.call('DELETE', `/v1/policies/${name}`)).status).toBe(204);
    expectProblem(await s.call('GET', `/v1/policies/${name}`), 404, 'ERR_NOT_FOUND');
    expectProblem(await s.call('DELETE', `/v1/policies/${name}`), 404, 'ERR_NOT_FOUND');
    await eventually('detached policy no longer applies', async () => (await encrypt(p.kms, key1)) === 'AccessDeniedException');
    expect((await s.call('GET', `/v1/principals/${p.name}`)).body.principal.policies).toEqual([]);
  });
});

describe('built-in roles as documents', () => {
  it('lists the assignable roles (not system) with their documents', async () => {
    const res = await s.call('GET', '/v1/roles');
    expect(res.status).toBe(200);
    const names = res.body.roles.map((r: { name: string }) => r.name);
    expect(names.sort()).toEqual(['administrator', 'application', 'compliance-officer', 'data-engineer', 'developer', 'security-analyst']);
    for (const role of res.body.roles) expect(JSON.parse(role.document).Statement.length).toBeGreaterThan(0);
    expectProblem(await s.call('GET', '/v1/roles/system'), 404, 'ERR_NOT_FOUND');
    expectProblem(await s.call('GET', '/v1/roles/nope'), 404, 'ERR_NOT_FOUND');
  });

  it('the developer document copied into a managed policy behaves like the role (environment=test keys only)', async () => {
    const role = await s.call('GET', '/v1/roles/developer');
    expect(role.status).toBe(200);
    expect(role.body.role.name).toBe('developer');
    const policy = await createPolicy(role.body.role.document, unique('developer-copy'));
    const tagged = (await adminKms.send(new CreateKeyCommand({ Tags: [{ TagKey: 'environment', TagValue: 'test' }] }))).KeyMetadata!.Arn!;
    const prod = (await adminKms.send(new CreateKeyCommand({ Tags: [{ TagKey: 'environment', TagValue: 'prod' }] }))).KeyMetadata!.Arn!;

    const copy = await principalWith({ policies: [policy] });
    const viaRole = await principalWith({ roles: ['developer'] });
    for (const p of [copy, viaRole]) {
      expect(await encrypt(p.kms, tagged)).toBe('ok');
      expect(await encrypt(p.kms, key1)).toBe('AccessDeniedException');
      expect(await encrypt(p.kms, prod)).toBe('AccessDeniedException');
      expect(await outcome(p.kms.send(new DescribeKeyCommand({ KeyId: key1 })))).toBe('ok');
      expect(await outcome(p.kms.send(new CreateKeyCommand({})))).toBe('AccessDeniedException');
      const blob = (await p.kms.send(new EncryptCommand({ KeyId: tagged, Plaintext: data }))).CiphertextBlob!;
      expect(await outcome(p.kms.send(new DecryptCommand({ CiphertextBlob: blob })))).toBe('ok');
    }
  });
});

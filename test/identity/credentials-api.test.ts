// Credentials of principals through a real dev server: access keys (SigV4, through the official AWS SDK), bearer
// tokens, client certificates (mutual TLS), and what disabling a principal does to all of them.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { CreateKeyCommand, DisableKeyCommand, ListKeysCommand, type KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCertificateIssuer, type CertificateIssuer } from '../../src/pki/certificate-issuer.js';
import { createRootCa } from '../../src/pki/create-root-ca.js';
import { EXTENDED_KEY_USAGE, issueCertificate } from '../../src/pki/issue-certificate.js';
import { exportPrivateKeyPem, generateEcdsaKeyPair } from '../../src/pki/key-pair.js';
import { awsError, kmsClient } from '../helpers/aws-clients.js';
import { addPrincipal } from '../helpers/principals.js';
import { restClient, type DevCredentialsFile, type RestResponse } from '../helpers/rest-client.js';
import { eventually, expectProblem, startIdentityServer, unique, type IdentityServer, outcome } from './identity-helpers.js';

let s: IdentityServer;
const DAY = 86_400_000;

beforeAll(async () => {
  s = await startIdentityServer('dd-credentials-');
});
afterAll(() => s?.stop());

const iam = (resource: string) => `arn:aws:iam::${s.admin.accountId}:${resource}`;

async function newPrincipal(options: { roles?: string[]; policies?: string[]; tags?: Record<string, string> } = {}): Promise<string> {
  const name = unique('p');
  const res = await s.call('POST', '/v1/principals', { name, ...options });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return name;
}


const kmsWith = (accessKeyId: string, secretAccessKey: string): KMSClient => kmsClient(s.admin, { accessKeyId, secretAccessKey });

describe('access keys', () => {
  it('returns the secret only from create; lists show id, status and expiry but never the secret', async () => {
    const name = await newPrincipal();
    const created = await s.call('POST', `/v1/principals/${name}/access-keys`, {});
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const key = created.body.accessKey;
    expect(key).toMatchObject({ principal: name, status: 'Active', expiresAt: null });
    expect(key.accessKeyId).toMatch(/^DDAK[A-Z2-7]{16}$/);
    expect(key.secretAccessKey).toMatch(/^[A-Za-z0-9]{40}$/);

    const expiring = await s.call('POST', `/v1/principals/${name}/access-keys`, { expiresInDays: 7 });
    expect(expiring.status).toBe(201);
    const created2 = Date.parse(expiring.body.accessKey.createdAt);
    expect(Date.parse(expiring.body.accessKey.expiresAt) - created2).toBe(7 * DAY);

    const listed = await s.call('GET', `/v1/principals/${name}/access-keys`);
    expect(listed.status).toBe(200);
    expect(listed.body.accessKeys).toHaveLength(2);
    const text = JSON.stringify(listed.body);
    expect(text).not.toContain(key.secretAccessKey);
    expect(text).not.toContain(expiring.body.accessKey.secretAccessKey);
    expect(text).not.toMatch(/secret/i);
    expect(listed.body.accessKeys.map((k: { accessKeyId: string }) => k.accessKeyId).sort()).toEqual([key.accessKeyId, expiring.body.accessKey.accessKeyId].sort());

    for (const expiresInDays of [0, -1, 3651, 1.5]) {
      expectProblem(await s.call('POST', `/v1/principals/${(await newPrincipal())}/access-keys`, { expiresInDays }), 400, 'ERR_VALIDATION');
    }
    expectProblem(await s.call('POST', `/v1/principals/${name}/access-keys`, { secret: 'mine' }), 400, 'ERR_VALIDATION');
    expectProblem(await s.call('POST', `/v1/principals/${unique('ghost')}/access-keys`, {}), 404, 'ERR_NOT_FOUND');
  });

  it('allows at most two Active keys per principal (third: 429 ERR_LIMIT_EXCEEDED), counting only Active ones', async () => {
    const name = await newPrincipal();
    const create = () => s.call('POST', `/v1/principals/${name}/access-keys`, {});
    const first = (await create()).body.accessKey.accessKeyId as string;
    expect((await create()).status).toBe(201);
    const third = await create();
    // problem.ts maps ERR_LIMIT_EXCEEDED to 429.
    expectProblem(third, 429, 'ERR_LIMIT_EXCEEDED');
    expect(third.body.detail).toMatch(/at most 2 active access keys/);
    expect((await s.call('GET', `/v1/principals/${name}/access-keys`)).body.accessKeys).toHaveLength(2);

    expect((await s.call('PATCH', `/v1/access-keys/${first}`, { status: 'Inactive' })).body.accessKey).toMatchObject({ accessKeyId: first, status: 'Inactive' });
    expect((await create()).status).toBe(201); // two Active + one Inactive
    expectProblem(await s.call('PATCH', `/v1/access-keys/${first}`, { status: 'Active' }), 429, 'ERR_LIMIT_EXCEEDED');
    const statuses = (await s.call('GET', `/v1/principals/${name}/access-keys`)).body.accessKeys.map((k: { status: string }) => k.status).sort();
    expect(statuses).toEqual(['Active', 'Active', 'Inactive']);

    expectProblem(await s.call('PATCH', `/v1/access-keys/${first}`, { status: 'Disabled' }), 400, 'ERR_VALIDATION');
    expectProblem(await s.call('PATCH', '/v1/access-keys/DDAKAAAAAAAAAAAAAAAA', { status: 'Inactive' }), 404, 'ERR_NOT_FOUND');
    expectProblem(await s.call('DELETE', '/v1/access-keys/not-a-key-id'), 404, 'ERR_NOT_FOUND');
  });

  it('authenticates AWS SDK calls as its principal; deactivate, reactivate and delete take effect within the cache window', async () => {
    const name = await newPrincipal(); // no roles: every KMS call is denied, naming the caller
    const created = (await s.call('POST', `/v1/principals/${name}/access-keys`, {})).body.accessKey;
    const kms = kmsWith(created.accessKeyId, created.secretAccessKey);
    try {
      const denied = await awsError(kms.send(new ListKeysCommand({})));
      expect(denied.name).toBe('AccessDeniedException');
      expect(denied.message).toContain(`User: ${iam(`user/${name}`)} is not authorized to perform: kms:ListKeys`);

      // The audit trail names the principal and the access key as the credential.
      const events = (await s.call('GET', '/v1/audit/events?limit=1000')).body.events as { eventName: string; principal: string; credential: string; outcome: string }[];
      const mine = events.filter((e) => e.principal === iam(`user/${name}`) && e.eventName === 'ListKeys');
      expect(mine).toEqual([expect.objectContaining({ credential: `access-key:${created.accessKeyId}`, outcome: 'denied' })]);

      // Give it a role; the same key now succeeds.
      await s.call('PUT', `/v1/principals/${name}/roles/developer`);
      await eventually('role takes effect', async () => (await outcome(kms.send(new ListKeysCommand({})))) === 'ok');

      expect((await s.call('PATCH', `/v1/access-keys/${created.accessKeyId}`, { status: 'Inactive' })).status).toBe(200);
      await eventually('inactive key refused', async () => (await outcome(kms.send(new ListKeysCommand({})))) === 'UnrecognizedClientException');
      const refused = await awsError(kms.send(new ListKeysCommand({})));
      expect(refused).toMatchObject({ name: 'UnrecognizedClientException', status: 400 });

      expect((await s.call('PATCH', `/v1/access-keys/${created.accessKeyId}`, { status: 'Active' })).body.accessKey.status).toBe('Active');
      await eventually('reactivated key works', async () => (await outcome(kms.send(new ListKeysCommand({})))) === 'ok');

      expect((await s.call('DELETE', `/v1/access-keys/${created.accessKeyId}`)).status).toBe(204);
      expect((await s.call('GET', `/v1/principals/${name}/access-keys`)).body.accessKeys).toEqual([]);
      await eventually('deleted key refused', async () => (await outcome(kms.send(new ListKeysCommand({})))) === 'UnrecognizedClientException');
      expectProblem(await s.call('DELETE', `/v1/access-keys/${created.accessKeyId}`), 404, 'ERR_NOT_FOUND');
    } finally {
      kms.destroy();
    }
  });

  it('a wrong secret for a valid key id is a signature error, not an authentication as anyone', async () => {
    const name = await newPrincipal({ roles: ['developer'] });
    const created = (await s.call('POST', `/v1/principals/${name}/access-keys`, {})).body.accessKey;
    const wrong = kmsWith(created.accessKeyId, s.admin.secretAccessKey);
    try {
      expect((await awsError(wrong.send(new ListKeysCommand({})))).name).toBe('InvalidSignatureException');
    } finally {
      wrong.destroy();
    }
  });
});

describe('tokens', () => {
  it('creates tokens with a TTL (60 s to one year, default one day) and lists them by accessor without the token', async () => {
    const name = await newPrincipal();
    const res = await s.call('POST', `/v1/principals/${name}/tokens`, { ttlSeconds: 120 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const token = res.body.token;
    expect(token.token).toMatch(/^ddt_[A-Za-z0-9_-]{43}$/);
    expect(token.accessor).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(Date.parse(token.expiresAt) - Date.parse(token.createdAt)).toBe(120_000);
    const byDefault = (await s.call('POST', `/v1/principals/${name}/tokens`, {})).body.token;
    expect(Date.parse(byDefault.expiresAt) - Date.parse(byDefault.createdAt)).toBe(DAY);
    const longest = await s.call('POST', `/v1/principals/${name}/tokens`, { ttlSeconds: 365 * 86_400 });
    expect(longest.status).toBe(201);

    for (const ttlSeconds of [59, 0, -60, 365 * 86_400 + 1]) {
      expectProblem(await s.call('POST', `/v1/principals/${name}/tokens`, { ttlSeconds }), 400, 'ERR_VALIDATION');
    }
    expectProblem(await s.call('POST', `/v1/principals/${name}/tokens`, { ttlSeconds: '120' }), 400, 'ERR_VALIDATION');

    const listed = await s.call('GET', `/v1/principals/${name}/tokens`);
    expect(listed.status).toBe(200);
    expect(listed.body.tokens).toHaveLength(3);
    expect(listed.body.tokens.map((t: { accessor: string }) => t.accessor)).toContain(token.accessor);
    expect(listed.body.tokens.find((t: { accessor: string }) => t.accessor === token.accessor)).toEqual({
      accessor: token.accessor,
      principal: name,
      createdAt: token.createdAt,
      expiresAt: token.expiresAt,
    });
    expect(JSON.stringify(listed.body)).not.toContain('ddt_');
  });

  it('authenticates as its principal, and a revoked token is refused (401) within the cache window', async () => {
    const name = await newPrincipal({ roles: ['developer'] });
    const token = (await s.call('POST', `/v1/principals/${name}/tokens`, { ttlSeconds: 600 })).body.token;
    const other = (await s.call('POST', `/v1/principals/${name}/tokens`, { ttlSeconds: 600 })).body.token;
    const rest = restClient(s.admin, { token: token.token });
    const who = await rest('GET', '/v1/whoami');
    expect(who.status).toBe(200);
    expect(who.body.principal).toMatchObject({ arn: iam(`user/${name}`), roles: ['developer'], credential: `token:${token.accessor}` });

    expect((await s.call('DELETE', `/v1/tokens/${token.accessor}`)).status).toBe(204);
    await eventually('revoked token refused', async () => (await rest('GET', '/v1/whoami')).status === 401);
    const refused = await rest('GET', '/v1/whoami');
    expectProblem(refused, 401, 'ERR_UNAUTHENTICATED');
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expectProblem(await s.call('DELETE', `/v1/tokens/${token.accessor}`), 404, 'ERR_NOT_FOUND');
    expect((await s.call('GET', `/v1/principals/${name}/tokens`)).body.tokens.map((t: { accessor: string }) => t.accessor)).toEqual([other.accessor]);
    // The other token of the same principal is untouched.
    expect((await restClient(s.admin, { token: other.token })('GET', '/v1/whoami')).status).toBe(200);
  });
});

describe('disabled principals', () => {
  it("a disabled principal's token and access key stop authenticating; enabling restores both", async () => {
    const name = unique('switch');
    const creds = await addPrincipal(s.admin, name, { roles: ['developer'] });
    const rest = restClient(creds);
    const kms = kmsClient(creds);
    try {
      expect((await rest('GET', '/v1/whoami')).status).toBe(200);
      expect(await outcome(kms.send(new ListKeysCommand({})))).toBe('ok');

      const disabled = await s.call('POST', `/v1/principals/${name}/disable`);
      expect(disabled.status).toBe(200);
      expect(disabled.body.principal.disabled).toBe(true);
      await eventually('token refused while disabled', async () => (await rest('GET', '/v1/whoami')).status === 401);
      await eventually('access key refused while disabled', async () => (await outcome(kms.send(new ListKeysCommand({})))) === 'UnrecognizedClientException');
      expectProblem(await rest('GET', '/v1/whoami'), 401, 'ERR_UNAUTHENTICATED');
      // The credentials still exist: disabling is reversible.
      expect((await s.call('GET', `/v1/principals/${name}/access-keys`)).body.accessKeys).toEqual([expect.objectContaining({ status: 'Active' })]);

      expect((await s.call('POST', `/v1/principals/${name}/enable`)).body.principal.disabled).toBe(false);
      await eventually('token works again', async () => (await rest('GET', '/v1/whoami')).status === 200);
      await eventually('access key works again', async () => (await outcome(kms.send(new ListKeysCommand({})))) === 'ok');
    } finally {
      kms.destroy();
    }
  });
});

describe('client certificates (mutual TLS)', () => {
  let issuer: CertificateIssuer;
  const ca = () => readFileSync(s.admin.caCertFile);

  beforeAll(async () => {
    const now = new Date();
    const root = await createRootCa({ commonName: 'Identity Test Client CA', notBefore: new Date(now.getTime() - 30 * DAY), notAfter: new Date(now.getTime() + 30 * DAY), pathLength: 0 });
    issuer = await loadCertificateIssuer(root.certPem, root.keyPem);
  });

  async function clientCertificate(commonName: string, validity: { from: number; to: number } = { from: -DAY, to: DAY }) {
    const keys = await generateEcdsaKeyPair();
    const now = Date.now();
    const cert = await issueCertificate({
      issuer,
      subjectPublicKey: keys.publicKey,
      commonName,
      extendedKeyUsages: [EXTENDED_KEY_USAGE.clientAuth],
      notBefore: new Date(now + validity.from),
      notAfter: new Date(now + validity.to),
    });
    return { cert, key: await exportPrivateKeyPem(keys.privateKey), fingerprint: new X509Certificate(cert).fingerprint256.replace(/:/g, '').toLowerCase() };
  }

  /** A native-API request over a fresh TLS connection presenting `client` (and no Authorization unless given). */
  function mtls(client: { cert: string; key: string } | null, method: string, path: string, headers: Record<string, string> = {}): Promise<RestResponse> {
    return new Promise((resolve, reject) => {
      const req = request(
        new URL(path, s.admin.endpoint),
        { method, ca: ca(), agent: false, headers, ...(client ? { cert: client.cert, key: client.key } : {}) },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('maps a certificate; a request presenting it without Authorization authenticates as the principal; unmap refuses it within the window', async () => {
    const name = await newPrincipal({ roles: ['developer'], tags: { team: 'payments' } });
    const client = await clientCertificate(`${name}-client`);
    expectProblem(await mtls(client, 'GET', '/v1/whoami'), 401, 'ERR_UNAUTHENTICATED'); // not mapped yet

    const mapped = await s.call('POST', `/v1/principals/${name}/certificates`, { certificatePem: client.cert });
    expect(mapped.status, JSON.stringify(mapped.body)).toBe(201);
    expect(mapped.body.certificate).toMatchObject({ fingerprint: client.fingerprint, principal: name, subject: `CN=${name}-client` });
    expect(Date.parse(mapped.body.certificate.notAfter)).toBe(new Date(new X509Certificate(client.cert).validTo).getTime());
    const listed = await s.call('GET', `/v1/principals/${name}/certificates`);
    expect(listed.body.certificates).toEqual([mapped.body.certificate]);

    const who = await eventually('certificate authenticates', async () => (await mtls(client, 'GET', '/v1/whoami')).status === 200);
    expect(who).toBeLessThan(3000);
    const me = await mtls(client, 'GET', '/v1/whoami');
    expect(me.body.principal).toEqual({ arn: iam(`user/${name}`), roles: ['developer'], policies: [], tags: { team: 'payments' }, credential: `certificate:${client.fingerprint}` });
    // The certificate's principal is a developer: it may not manage principals.
    expectProblem(await mtls(client, 'GET', '/v1/principals'), 403, 'ERR_ACCESS_DENIED');
    // A bearer token, when present, decides (here: the administrator's).
    expect((await mtls(client, 'GET', '/v1/whoami', { authorization: `Bearer ${s.admin.token}` })).body.principal.arn).toBe(s.admin.principalArn);
    expectProblem(await mtls(client, 'GET', '/v1/whoami', { authorization: 'Bearer nonsense' }), 401, 'ERR_UNAUTHENTICATED');
    // No certificate and no token.
    expectProblem(await mtls(null, 'GET', '/v1/whoami'), 401, 'ERR_UNAUTHENTICATED');

    // Fingerprints are accepted with colons and upper case too.
    const colons = client.fingerprint.toUpperCase().match(/../g)!.join(':');
    expect((await s.call('DELETE', `/v1/certificates/${colons}`)).status).toBe(204);
    await eventually('unmapped certificate refused', async () => (await mtls(client, 'GET', '/v1/whoami')).status === 401);
    expectProblem(await s.call('DELETE', `/v1/certificates/${client.fingerprint}`), 404, 'ERR_NOT_FOUND');
    expect((await s.call('GET', `/v1/principals/${name}/certificates`)).body.certificates).toEqual([]);
  });

  it('an unmapped certificate is refused (401); a certificate maps to one principal only (409)', async () => {
    const stranger = await clientCertificate('stranger');
    expectProblem(await mtls(stranger, 'GET', '/v1/whoami'), 401, 'ERR_UNAUTHENTICATED');
    const a = await newPrincipal();
    const b = await newPrincipal();
    const shared = await clientCertificate('shared');
    expect((await s.call('POST', `/v1/principals/${a}/certificates`, { certificatePem: shared.cert })).status).toBe(201);
    expectProblem(await s.call('POST', `/v1/principals/${b}/certificates`, { certificatePem: shared.cert }), 409, 'ERR_ALREADY_EXISTS');
    expectProblem(await s.call('POST', `/v1/principals/${a}/certificates`, { certificatePem: shared.cert }), 409, 'ERR_ALREADY_EXISTS');
    expect((await s.call('GET', `/v1/principals/${b}/certificates`)).body.certificates).toEqual([]);
  });

  it('refuses expired certificates, garbage, private keys and unknown fields (400)', async () => {
    const name = await newPrincipal();
    const expired = await clientCertificate('expired', { from: -10 * DAY, to: -DAY });
    const res = await s.call('POST', `/v1/principals/${name}/certificates`, { certificatePem: expired.cert });
    expectProblem(res, 400, 'ERR_VALIDATION');
    expect(res.body.detail).toMatch(/expired/);
    const valid = await clientCertificate('valid');
    const garbage = [
      'not a pem',
      '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n',
      valid.key,
      `${valid.cert.slice(0, 200)}\n-----END CERTIFICATE-----\n`,
    ];
    for (const certificatePem of garbage) {
      expectProblem(await s.call('POST', `/v1/principals/${name}/certificates`, { certificatePem }), 400, 'ERR_VALIDATION');
    }
    expectProblem(await s.call('POST', `/v1/principals/${name}/certificates`, { certificatePem: valid.cert, principal: 'admin' }), 400, 'ERR_VALIDATION');
    expectProblem(await s.call('POST', `/v1/principals/${name}/certificates`, {}), 400, 'ERR_VALIDATION');
    expect((await s.call('GET', `/v1/principals/${name}/certificates`)).body.certificates).toEqual([]);
    // An expired certificate presented in the handshake authenticates nobody even if its principal exists.
    expectProblem(await mtls(expired, 'GET', '/v1/whoami'), 401, 'ERR_UNAUTHENTICATED');
  });

  it("deleting a principal removes its certificate mappings: the certificate stops authenticating and can be mapped again", async () => {
    const name = await newPrincipal({ roles: ['developer'] });
    const client = await clientCertificate('deleted-owner');
    await s.call('POST', `/v1/principals/${name}/certificates`, { certificatePem: client.cert });
    await eventually('certificate authenticates', async () => (await mtls(client, 'GET', '/v1/whoami')).status === 200);
    expect((await s.call('DELETE', `/v1/principals/${name}`)).status).toBe(204);
    await eventually('certificate refused after delete', async () => (await mtls(client, 'GET', '/v1/whoami')).status === 401);
    expectProblem(await s.call('DELETE', `/v1/certificates/${client.fingerprint}`), 404, 'ERR_NOT_FOUND');
    const heir = await newPrincipal();
    expect((await s.call('POST', `/v1/principals/${heir}/certificates`, { certificatePem: client.cert })).status).toBe(201);
    await eventually('certificate authenticates as the new owner', async () => (await mtls(client, 'GET', '/v1/whoami')).body?.principal?.arn === iam(`user/${heir}`));
  });

  it("a disabled principal's certificate does not authenticate", async () => {
    const name = await newPrincipal({ roles: ['security-analyst'] });
    const client = await clientCertificate('to-disable');
    await s.call('POST', `/v1/principals/${name}/certificates`, { certificatePem: client.cert });
    await eventually('certificate authenticates', async () => (await mtls(client, 'GET', '/v1/principals')).status === 200);
    await s.call('POST', `/v1/principals/${name}/disable`);
    await eventually('certificate refused while disabled', async () => (await mtls(client, 'GET', '/v1/whoami')).status === 401);
    await s.call('POST', `/v1/principals/${name}/enable`);
    await eventually('certificate works again', async () => (await mtls(client, 'GET', '/v1/whoami')).status === 200);
  });
});

describe('whoami', () => {
  it('shows the caller: ARN, roles, attached policy names, tags and credential', async () => {
    const policy = unique('whoami-policy');
    const doc = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:CreateKey', Resource: '*' }] });
    expect((await s.call('POST', '/v1/policies', { name: policy, document: doc })).status).toBe(201);
    const name = unique('who');
    const creds: DevCredentialsFile = await addPrincipal(s.admin, name, { kind: 'service', roles: ['developer', 'compliance-officer'], policies: [policy], tags: { team: 'risk', env: 'prod' } });
    const rest = restClient(creds);
    const res = await rest('GET', '/v1/whoami');
    expect(res.status).toBe(200);
    const accessor = (await s.call('GET', `/v1/principals/${name}/tokens`)).body.tokens[0].accessor;
    expect(res.body.principal).toEqual({
      arn: iam(`role/${name}`),
      roles: ['compliance-officer', 'developer'],
      policies: [policy],
      tags: { team: 'risk', env: 'prod' },
      credential: `token:${accessor}`,
    });
    // The attached policy is in force for the access key too: neither role may create keys, the policy does.
    const kms = kmsClient(creds);
    try {
      expect(await outcome(kms.send(new CreateKeyCommand({})))).toBe('ok');
      expect(await outcome(kms.send(new DisableKeyCommand({ KeyId: '00000000-0000-4000-8000-000000000000' })))).toBe('AccessDeniedException');
    } finally {
      kms.destroy();
    }
  });
});

// Principals through the native REST API of a real dev server: create, list, show, tags, roles, policies, delete,
// the self-lockout guards, input validation, and who may do what (administrators change, security analysts read,
// everyone else is refused without learning whether a principal exists).
import { ListKeysCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsError, kmsClient } from '../helpers/aws-clients.js';
import { addPrincipal } from '../helpers/principals.js';
import { restClient, type DevCredentialsFile } from '../helpers/rest-client.js';
import { eventually, expectProblem, startIdentityServer, unique, type IdentityServer } from './identity-helpers.js';

let s: IdentityServer;
let account: string;
const POLICY = 'principals-test-read-keys';
const READ_KEYS = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:DescribeKey', Resource: '*' }] });

beforeAll(async () => {
  s = await startIdentityServer('dd-principals-');
  account = s.admin.accountId;
  expect((await s.call('POST', '/v1/policies', { name: POLICY, document: READ_KEYS })).status).toBe(201);
});
afterAll(() => s?.stop());

const iam = (resource: string) => `arn:aws:iam::${account}:${resource}`;

describe('create, show, list', () => {
  it('creates users (ARN user/<name>) and service accounts (ARN role/<name>) and shows them', async () => {
    const user = unique('alice');
    const created = await s.call('POST', '/v1/principals', { name: user, roles: ['developer', 'data-engineer'], tags: { team: 'payments' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.principal).toMatchObject({
      name: user,
      kind: 'user',
      arn: iam(`user/${user}`),
      roles: ['data-engineer', 'developer'],
      policies: [],
      tags: { team: 'payments' },
      disabled: false,
    });
    expect(created.body.principal).not.toHaveProperty('id');

    const service = unique('billing-svc');
    const svc = await s.call('POST', '/v1/principals', { name: service, kind: 'service', policies: [POLICY] });
    expect(svc.status, JSON.stringify(svc.body)).toBe(201);
    expect(svc.body.principal).toMatchObject({ name: service, kind: 'service', arn: iam(`role/${service}`), roles: [], policies: [POLICY] });

    const shown = await s.call('GET', `/v1/principals/${service}`);
    expect(shown.status).toBe(200);
    expect(shown.body.principal).toEqual(svc.body.principal);
    expectProblem(await s.call('GET', `/v1/principals/${unique('nobody')}`), 404, 'ERR_NOT_FOUND');
  });

  it('lists every principal in name order, in pages of `limit` chained by `marker`', async () => {
    const prefix = unique('page');
    const names = [3, 1, 4, 0, 2].map((i) => `${prefix}-${i}`);
    for (const name of names) expect((await s.call('POST', '/v1/principals', { name })).status).toBe(201);

    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const res = await s.call('GET', `/v1/principals?limit=2${marker ? `&marker=${encodeURIComponent(marker)}` : ''}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.principals.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.principals.map((p: { name: string }) => p.name));
      marker = res.body.nextMarker;
      pages++;
    } while (marker && pages < 100);
    expect(marker).toBeUndefined();
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort());
    expect(seen.filter((n) => n.startsWith(prefix))).toEqual([...names].sort());
    expect(seen).toContain('admin');

    const all = await s.call('GET', '/v1/principals');
    expect(all.body.principals.map((p: { name: string }) => p.name)).toEqual(seen);
    expect(all.body).not.toHaveProperty('nextMarker');
    expectProblem(await s.call('GET', '/v1/principals?limit=0'), 400, 'ERR_VALIDATION');
    expectProblem(await s.call('GET', '/v1/principals?limit=abc'), 400, 'ERR_VALIDATION');
    expectProblem(await s.call('GET', '/v1/principals?marker=not-a-marker'), 400, 'ERR_INVALID_MARKER');
  });

  it('refuses a duplicate name (409), bad names, bad kinds and unknown fields (400) without creating anything', async () => {
    const name = unique('dup');
    expect((await s.call('POST', '/v1/principals', { name })).status).toBe(201);
    expectProblem(await s.call('POST', '/v1/principals', { name }), 409, 'ERR_ALREADY_EXISTS');
    expectProblem(await s.call('POST', '/v1/principals', { name, kind: 'service' }), 409, 'ERR_ALREADY_EXISTS');

    const bad = ['', 'has space', 'slash/name', 'colon:name', 'emoji-\u{1F600}', 'x'.repeat(65), 'x'.repeat(129)];
    for (const badName of bad) expectProblem(await s.call('POST', '/v1/principals', { name: badName }), 400, 'ERR_VALIDATION');
    const ok = unique('valid');
    expectProblem(await s.call('POST', '/v1/principals', { name: ok, kind: 'robot' }), 400, 'ERR_VALIDATION');
    expectProblem(await s.call('POST', '/v1/principals', { name: ok, admin: true }), 400, 'ERR_VALIDATION');
    expectProblem(await s.call('POST', '/v1/principals', { name: ok, roles: 'developer' }), 400, 'ERR_VALIDATION');
    expectProblem(await s.call('POST', '/v1/principals', { name: ok, tags: { 'aws:team': 'x' } }), 400, 'ERR_INVALID_TAG');
    expectProblem(await s.call('POST', '/v1/principals', {}), 400, 'ERR_VALIDATION');
    expectProblem(await s.call('GET', `/v1/principals/${ok}`), 404, 'ERR_NOT_FOUND');
    // 64 characters is the longest name.
    expect((await s.call('POST', '/v1/principals', { name: `a${'b'.repeat(63)}` })).status).toBe(201);
  });
});

describe('tags, roles, policies', () => {
  it('sets (merging), replaces and removes tags; refuses reserved keys and unknown fields', async () => {
    const name = unique('tagged');
    await s.call('POST', '/v1/principals', { name, tags: { team: 'a' } });
    let res = await s.call('POST', `/v1/principals/${name}/tags`, { tags: { env: 'dev', cost: '42' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.principal.tags).toEqual({ team: 'a', env: 'dev', cost: '42' });
    res = await s.call('POST', `/v1/principals/${name}/tags`, { tags: { team: 'b' } });
    expect(res.body.principal.tags).toEqual({ team: 'b', env: 'dev', cost: '42' });
    res = await s.call('POST', `/v1/principals/${name}/untag`, { tagKeys: ['env', 'cost', 'absent'] });
    expect(res.status).toBe(200);
    expect(res.body.principal.tags).toEqual({ team: 'b' });
    expectProblem(await s.call('POST', `/v1/principals/${name}/tags`, { tags: { 'AWS:x': 'y' } }), 400, 'ERR_INVALID_TAG');
    expectProblem(await s.call('POST', `/v1/principals/${name}/tags`, { tags: { a: 'b' }, extra: 1 }), 400, 'ERR_VALIDATION');
    expectProblem(await s.call('POST', `/v1/principals/${name}/untag`, { keys: ['team'] }), 400, 'ERR_VALIDATION');
    expect((await s.call('GET', `/v1/principals/${name}`)).body.principal.tags).toEqual({ team: 'b' });
  });

  it('adds and removes built-in roles; an unknown role or `system` is refused (400), a role not held is 404', async () => {
    const name = unique('roles');
    await s.call('POST', '/v1/principals', { name });
    let res = await s.call('PUT', `/v1/principals/${name}/roles/developer`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.principal.roles).toEqual(['developer']);
    res = await s.call('PUT', `/v1/principals/${name}/roles/compliance-officer`);
    expect(res.body.principal.roles).toEqual(['compliance-officer', 'developer']);
    res = await s.call('PUT', `/v1/principals/${name}/roles/developer`); // idempotent
    expect(res.body.principal.roles).toEqual(['compliance-officer', 'developer']);
    res = await s.call('DELETE', `/v1/principals/${name}/roles/developer`);
    expect(res.status).toBe(200);
    expect(res.body.principal.roles).toEqual(['compliance-officer']);
    expectProblem(await s.call('DELETE', `/v1/principals/${name}/roles/developer`), 404, 'ERR_NOT_FOUND');

    expectProblem(await s.call('PUT', `/v1/principals/${name}/roles/superuser`), 400, 'ERR_VALIDATION');
    expectProblem(await s.call('PUT', `/v1/principals/${name}/roles/system`), 400, 'ERR_VALIDATION');
    expectProblem(await s.call('PUT', `/v1/principals/${name}/roles/Administrator`), 400, 'ERR_VALIDATION');
    expectProblem(await s.call('POST', '/v1/principals', { name: unique('sys'), roles: ['system'] }), 400, 'ERR_VALIDATION');
    expect((await s.call('GET', `/v1/principals/${name}`)).body.principal.roles).toEqual(['compliance-officer']);
  });

  it('attaches and detaches managed policies; an unknown policy is 404 and changes nothing', async () => {
    const name = unique('attached');
    await s.call('POST', '/v1/principals', { name });
    let res = await s.call('PUT', `/v1/principals/${name}/policies/${POLICY}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.principal.policies).toEqual([POLICY]);
    expectProblem(await s.call('PUT', `/v1/principals/${name}/policies/no-such-policy`), 404, 'ERR_NOT_FOUND');
    expectProblem(await s.call('POST', '/v1/principals', { name: unique('p'), policies: ['no-such-policy'] }), 404, 'ERR_NOT_FOUND');
    expect((await s.call('GET', `/v1/principals/${name}`)).body.principal.policies).toEqual([POLICY]);
    res = await s.call('DELETE', `/v1/principals/${name}/policies/${POLICY}`);
    expect(res.status).toBe(200);
    expect(res.body.principal.policies).toEqual([]);
    expectProblem(await s.call('DELETE', `/v1/principals/${name}/policies/${POLICY}`), 404, 'ERR_NOT_FOUND');
  });
});

describe('delete and the self-lockout guards', () => {
  it('deletes a principal; its token and access key stop working within the cache window', async () => {
    const name = unique('doomed');
    const creds = await addPrincipal(s.admin, name, { roles: ['developer'] });
    const rest = restClient(creds);
    const kms = kmsClient(creds);
    try {
      expect((await rest('GET', '/v1/whoami')).body.principal.arn).toBe(iam(`user/${name}`));
      expect((await kms.send(new ListKeysCommand({}))).Keys).toBeDefined();

      expect((await s.call('DELETE', `/v1/principals/${name}`)).status).toBe(204);
      expectProblem(await s.call('GET', `/v1/principals/${name}`), 404, 'ERR_NOT_FOUND');
      expectProblem(await s.call('DELETE', `/v1/principals/${name}`), 404, 'ERR_NOT_FOUND');
      await eventually('token refused after delete', async () => (await rest('GET', '/v1/whoami')).status === 401);
      expectProblem(await rest('GET', '/v1/whoami'), 401, 'ERR_UNAUTHENTICATED');
      await eventually('access key refused after delete', async () => {
        try {
          await kms.send(new ListKeysCommand({}));
          return false;
        } catch (err) {
          expect((err as Error).name).toBe('UnrecognizedClientException');
          return true;
        }
      });
      // The name is free again, and the new principal has none of the old one's credentials.
      expect((await s.call('POST', '/v1/principals', { name })).status).toBe(201);
      expect((await s.call('GET', `/v1/principals/${name}/access-keys`)).body.accessKeys).toEqual([]);
      expect((await s.call('GET', `/v1/principals/${name}/tokens`)).body.tokens).toEqual([]);
      expect((await awsError(kms.send(new ListKeysCommand({})))).name).toBe('UnrecognizedClientException');
      expect((await rest('GET', '/v1/whoami')).status).toBe(401);
    } finally {
      kms.destroy();
    }
  });

  it('refuses to let a principal delete or disable itself (400), and it keeps working', async () => {
    expectProblem(await s.call('DELETE', '/v1/principals/admin'), 400, 'ERR_VALIDATION');
    expectProblem(await s.call('POST', '/v1/principals/admin/disable'), 400, 'ERR_VALIDATION');
    const me = await s.call('GET', '/v1/principals/admin');
    expect(me.body.principal.disabled).toBe(false);
    expect((await s.call('GET', '/v1/whoami')).status).toBe(200);
    // Another administrator may disable it (and enable it again).
    const other = await addPrincipal(s.admin, unique('admin2'), { roles: ['administrator'] });
    const call2 = restClient(other);
    expect((await call2('POST', '/v1/principals/admin/disable')).body.principal.disabled).toBe(true);
    expect((await call2('POST', '/v1/principals/admin/enable')).body.principal.disabled).toBe(false);
    await eventually('admin works again', async () => (await s.call('GET', '/v1/whoami')).status === 200);
  });
});

describe('who may manage principals', () => {
  let developer: DevCredentialsFile;
  let analyst: DevCredentialsFile;
  let target: string;
  let service: string;
  let keyId: string;
  let accessor: string;

  beforeAll(async () => {
    developer = await addPrincipal(s.admin, unique('dev'), { roles: ['developer', 'data-engineer'] });
    analyst = await addPrincipal(s.admin, unique('analyst'), { roles: ['security-analyst'] });
    target = unique('target');
    const t = await addPrincipal(s.admin, target, { tags: { team: 'x' } });
    keyId = t.accessKeyId;
    accessor = (await s.call('GET', `/v1/principals/${target}/tokens`)).body.tokens[0].accessor;
    service = unique('svc');
    expect((await s.call('POST', '/v1/principals', { name: service, kind: 'service' })).status).toBe(201);
  });

  /** Every management route on principal `n` (policy routes on POLICY). */
  const routes = (n: string): [string, string, unknown?][] => [
    ['POST', '/v1/principals', { name: n }],
    ['GET', '/v1/principals'],
    ['GET', `/v1/principals/${n}`],
    ['DELETE', `/v1/principals/${n}`],
    ['POST', `/v1/principals/${n}/enable`],
    ['POST', `/v1/principals/${n}/disable`],
    ['POST', `/v1/principals/${n}/tags`, { tags: { team: 'y' } }],
    ['POST', `/v1/principals/${n}/untag`, { tagKeys: ['team'] }],
    ['PUT', `/v1/principals/${n}/roles/administrator`],
    ['DELETE', `/v1/principals/${n}/roles/developer`],
    ['PUT', `/v1/principals/${n}/policies/${POLICY}`],
    ['DELETE', `/v1/principals/${n}/policies/${POLICY}`],
    ['POST', `/v1/principals/${n}/access-keys`, {}],
    ['GET', `/v1/principals/${n}/access-keys`],
    ['POST', `/v1/principals/${n}/tokens`, {}],
    ['GET', `/v1/principals/${n}/tokens`],
    ['POST', `/v1/principals/${n}/certificates`, { certificatePem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }],
    ['GET', `/v1/principals/${n}/certificates`],
  ];
  const policyRoutes: [string, string, unknown?][] = [
    ['POST', '/v1/policies', { name: 'by-developer', document: READ_KEYS }],
    ['GET', '/v1/policies'],
    ['GET', `/v1/policies/${POLICY}`],
    ['PUT', `/v1/policies/${POLICY}`, { document: READ_KEYS }],
    ['DELETE', `/v1/policies/${POLICY}`],
    ['GET', '/v1/roles'],
    ['GET', '/v1/roles/developer'],
  ];

  it('a non-administrator gets 403 ERR_ACCESS_DENIED on every management route, and nothing changes', async () => {
    const call = restClient(developer);
    const credentialRoutes: [string, string, unknown?][] = [
      ['PATCH', `/v1/access-keys/${keyId}`, { status: 'Inactive' }],
      ['DELETE', `/v1/access-keys/${keyId}`],
      ['DELETE', `/v1/tokens/${accessor}`],
    ];
    for (const [method, path, body] of [...routes(target), ...policyRoutes, ...credentialRoutes]) {
      const res = await call(method, path, body);
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(403);
      expect(res.body.code).toBe('ERR_ACCESS_DENIED');
      expect(res.body.detail).toMatch(new RegExp(`^User: ${developer.principalArn} is not authorized to perform: datadefender:`));
    }
    const after = await s.call('GET', `/v1/principals/${target}`);
    expect(after.body.principal).toMatchObject({ roles: [], policies: [], tags: { team: 'x' }, disabled: false });
    expect((await s.call('GET', `/v1/principals/${target}/access-keys`)).body.accessKeys).toEqual([
      expect.objectContaining({ accessKeyId: keyId, status: 'Active' }),
    ]);
    expect((await s.call('GET', `/v1/principals/${target}/tokens`)).body.tokens).toHaveLength(1);
    expect((await s.call('GET', '/v1/policies/by-developer')).status).toBe(404);
  });

  it('a non-administrator gets the same 403 for a user that does not exist as for one that does', async () => {
    const call = restClient(developer);
    const missing = unique('ghost');
    const existing = routes(target);
    const absent = routes(missing);
    for (let i = 0; i < existing.length; i++) {
      const [method, path, body] = existing[i]!;
      const a = await call(method, path, body);
      const [, path2, body2] = absent[i]!;
      const b = await call(method, path2, body2);
      expect(b.status, `${method} ${path2}: ${JSON.stringify(b.body)}`).toBe(a.status);
      expect(b.body.code).toBe('ERR_ACCESS_DENIED');
      expect(b.body.detail.replaceAll(missing, '<name>')).toBe(a.body.detail.replaceAll(target, '<name>'));
    }
  });

  it('does not tell a non-administrator whether a name is a service account, a user or nobody', async () => {
    const call = restClient(developer);
    const missing = unique('ghost-svc');
    const a = await call('GET', `/v1/principals/${service}`);
    const b = await call('GET', `/v1/principals/${missing}`);
    expect(a.status).toBe(403);
    expect(b.status).toBe(403);
    expect(a.body.detail.replaceAll(service, '<name>')).toBe(b.body.detail.replaceAll(missing, '<name>'));
  });

  it('answers a non-administrator 403 for an unknown role or a reserved tag, whether the principal exists or not', async () => {
    const call = restClient(developer);
    const ghost = unique('ghost');
    expect((await call('PUT', `/v1/principals/${ghost}/roles/superuser`)).status).toBe(403);
    expect((await call('POST', `/v1/principals/${ghost}/tags`, { tags: { 'aws:x': 'y' } })).status).toBe(403);
    expect((await call('PUT', `/v1/principals/${target}/roles/superuser`)).status).toBe(403);
    expect((await call('POST', `/v1/principals/${target}/tags`, { tags: { 'aws:x': 'y' } })).status).toBe(403);
  });

  it('answers a non-administrator 403 for missing and existing access key ids, token accessors and certificate fingerprints alike', async () => {
    const call = restClient(developer);
    expect((await call('PATCH', `/v1/access-keys/${keyId}`, { status: 'Inactive' })).status).toBe(403);
    expect((await call('DELETE', `/v1/tokens/${accessor}`)).status).toBe(403);
    expect((await call('PATCH', '/v1/access-keys/DDAKAAAAAAAAAAAAAAAA', { status: 'Inactive' })).status).toBe(403);
    expect((await call('DELETE', '/v1/tokens/AAAAAAAAAAAAAAAA')).status).toBe(403);
    expect((await call('DELETE', `/v1/certificates/${'a'.repeat(64)}`)).status).toBe(403);
  });

  it('a security analyst reads principals, credentials lists, policies and roles, and changes nothing', async () => {
    const call = restClient(analyst);
    const reads = [
      '/v1/principals',
      `/v1/principals/${target}`,
      `/v1/principals/${target}/access-keys`,
      `/v1/principals/${target}/tokens`,
      `/v1/principals/${target}/certificates`,
      '/v1/policies',
      `/v1/policies/${POLICY}`,
      '/v1/roles',
      '/v1/roles/developer',
    ];
    for (const path of reads) expect((await call('GET', path)).status, path).toBe(200);
    expect((await call('GET', `/v1/principals/${target}`)).body.principal).toMatchObject({ name: target, tags: { team: 'x' } });
    expect((await call('GET', `/v1/principals/${target}/access-keys`)).body.accessKeys[0]).not.toHaveProperty('secretAccessKey');
    expect((await call('GET', '/v1/policies')).body.policies.map((p: { name: string }) => p.name)).toContain(POLICY);
    // The analyst may see that a principal does not exist (it may list them all anyway).
    expectProblem(await call('GET', `/v1/principals/${unique('ghost')}`), 404, 'ERR_NOT_FOUND');

    const writes = routes(target).filter(([method]) => method !== 'GET');
    const policyWrites = policyRoutes.filter(([method]) => method !== 'GET');
    for (const [method, path, body] of [...writes, ...policyWrites]) {
      const res = await call(method, path, body);
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(403);
      expect(res.body.code).toBe('ERR_ACCESS_DENIED');
    }
    expect((await s.call('GET', `/v1/principals/${target}`)).body.principal).toMatchObject({ roles: [], policies: [], tags: { team: 'x' }, disabled: false });
  });
});

/**
 * The identity commands (`principal`, `access-key`, `token`, `certificate`) against the recording HTTPS server:
 * the exact request each one sends, its human and --json output, refusals that send nothing, secrets printed once,
 * and the dual-control (ERR_APPROVAL_REQUIRED) message.
 */
import { describe, expect, it } from 'vitest';
import { principalView, runCli, useRecordingServer } from './cli-harness.js';

const TOKEN = 'ddt_test-token-123';
const fx = useRecordingServer(TOKEN);
const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
const occurrences = (text: string, needle: string) => text.split(needle).length - 1;

const ALICE_BLOCK = [
  'Name:     alice',
  'Kind:     user',
  'ARN:      arn:aws:iam::111122223333:user/alice',
  'Roles:    developer',
  'Policies: -',
  'Tags:     -',
  'Disabled: no',
  'Created:  2025-01-02T03:04:05.000Z',
  'Updated:  2025-01-02T03:04:05.000Z',
  '',
].join('\n');

describe('principal create', () => {
  it('POSTs /v1/principals with kind, roles, policies and tags, and prints the principal', async () => {
    const answer = { principal: principalView({ kind: 'service', roles: ['developer', 'auditor'], policies: ['p1'], tags: { team: 'pay', env: 'prod' } }) };
    fx.server.handle(() => ({ status: 201, body: answer }));
    const run = await runCli([
      ...fx.conn, 'principal', 'create', 'alice', '--kind', 'service', '--role', 'developer', '--role', 'auditor',
      '--policy', 'p1', '--tag', 'team=pay', '--tag', 'env=prod',
    ]);
    expect(run).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        'Name:     alice',
        'Kind:     service',
        'ARN:      arn:aws:iam::111122223333:user/alice',
        'Roles:    developer, auditor',
        'Policies: p1',
        'Tags:     env=prod, team=pay',
        'Disabled: no',
        'Created:  2025-01-02T03:04:05.000Z',
        'Updated:  2025-01-02T03:04:05.000Z',
        '',
      ].join('\n'),
    });
    const req = fx.only();
    expect(req).toMatchObject({ method: 'POST', url: '/v1/principals' });
    expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req.body).toEqual({ name: 'alice', kind: 'service', roles: ['developer', 'auditor'], policies: ['p1'], tags: { team: 'pay', env: 'prod' } });

    const asJson = await runCli([...fx.conn, '--json', 'principal', 'create', 'alice']);
    expect(asJson).toEqual({ code: 0, stdout: json(answer), stderr: '' });
    expect(fx.server.requests[1]!.body).toEqual({ name: 'alice' });
  });

  it.each([
    [['principal', 'create', 'bad name'], "argument 'name'. Expected 1 to 128 characters of letters, digits and +=,.@_-."],
    [['principal', 'create', 'a/b'], 'Expected 1 to 128 characters'],
    [['principal', 'create', 'x'.repeat(129)], 'Expected 1 to 128 characters'],
    [['principal', 'create', ''], 'Expected 1 to 128 characters'],
    [['principal', 'create', 'a', '--kind', 'robot'], 'Allowed choices are user, service.'],
    [['principal', 'create', 'a', '--role', 'developer', '--role', 'developer'], '"developer" is given twice.'],
    [['principal', 'create', 'a', '--role', 'dev ops'], "option '--role <role>' argument 'dev ops' is invalid."],
    [['principal', 'create', 'a', '--policy', 'p/1'], "option '--policy <policy>' argument 'p/1' is invalid."],
    [['principal', 'create', 'a', '--tag', 'novalue'], 'key=value'],
    [['principal', 'create'], "missing required argument 'name'"],
    [['principal', 'list', '--limit', '0'], 'Expected an integer from 1 to 1000.'],
    [['principal', 'show', 'a b'], 'Expected 1 to 128 characters'],
    [['principal', 'tag', 'alice'], "required option '--tag <k=v>' not specified"],
    [['principal', 'untag', 'alice'], "required option '--tag-key <key>' not specified"],
    [['principal', 'untag', 'alice', '--tag-key', ''], 'Expected a tag key of 1 to 128 characters.'],
    [['principal', 'untag', 'alice', '--tag-key', 'a', '--tag-key', 'a'], 'The tag key "a" is given twice.'],
    [['principal', 'add-role', 'alice'], "missing required argument 'role'"],
    [['principal', 'attach-policy', 'alice', 'bad policy'], "argument 'policy'. Expected 1 to 128 characters"],
    [['access-key', 'create', 'alice', '--expires-in-days', '0'], 'Expected an integer from 1 to 3650.'],
    [['access-key', 'create', 'alice', '--expires-in-days', '3651'], 'Expected an integer from 1 to 3650.'],
    [['access-key', 'activate', 'short'], 'Expected an access key id: 16 to 128 letters and digits'],
    [['access-key', 'delete', 'DDAK/AAAAAAAAAAAAAAAA'], 'Expected an access key id'],
    [['token', 'create', 'alice', '--ttl', '59'], 'Expected an integer from 60 to 31536000.'],
    [['token', 'create', 'alice', '--ttl', '31536001'], 'Expected an integer from 60 to 31536000.'],
    [['token', 'revoke', 'abc'], 'Expected a token accessor'],
    [['certificate', 'unmap', 'abcd'], 'Expected a SHA-256 fingerprint: 64 hex digits, with or without colons.'],
    [['certificate', 'map', 'alice'], "required option '--cert <file>' not specified"],
  ])('%j is refused before any request', async (args, message) => {
    const run = await runCli([...fx.conn, ...args]);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(message);
    expect(fx.server.requests).toHaveLength(0);
  });
});

describe('principal list, show, delete', () => {
  it('GETs /v1/principals with limit and marker, prints a table and points at the next page', async () => {
    const answer = {
      principals: [principalView(), principalView({ name: 'payments-app', kind: 'service', roles: ['application', 'auditor'], disabled: true, arn: 'arn:aws:iam::111122223333:user/payments-app' })],
      nextMarker: 'm2',
    };
    fx.server.handle(() => ({ status: 200, body: answer }));
    const run = await runCli([...fx.conn, 'principal', 'list', '--limit', '2', '--marker', 'm1']);
    expect(fx.only()).toMatchObject({ method: 'GET', url: '/v1/principals?limit=2&marker=m1', text: '' });
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')).toEqual([
      'NAME          KIND     ROLES                 DISABLED  ARN',
      'alice         user     developer             no        arn:aws:iam::111122223333:user/alice',
      'payments-app  service  application, auditor  yes       arn:aws:iam::111122223333:user/payments-app',
      '',
    ]);
    expect(run.stderr).toBe('More principals: pass --all, or --marker m2\n');

    const asJson = await runCli([...fx.conn, 'principal', 'list', '--json']);
    expect(asJson).toEqual({ code: 0, stdout: json(answer), stderr: '' });
    expect(fx.server.requests[1]!.url).toBe('/v1/principals');
  });

  it('follows every page with --all', async () => {
    fx.server.handle((req) =>
      req.url.includes('marker=m1')
        ? { status: 200, body: { principals: [principalView({ name: 'bob' })] } }
        : { status: 200, body: { principals: [principalView()], nextMarker: 'm1' } },
    );
    const run = await runCli([...fx.conn, '--json', 'principal', 'list', '--all']);
    expect(fx.server.requests.map((r) => r.url)).toEqual(['/v1/principals', '/v1/principals?marker=m1']);
    expect(JSON.parse(run.stdout).principals.map((p: { name: string }) => p.name)).toEqual(['alice', 'bob']);
  });

  it('says so when there are none', async () => {
    fx.server.handle(() => ({ status: 200, body: { principals: [] } }));
    expect(await runCli([...fx.conn, 'principal', 'list'])).toEqual({ code: 0, stdout: 'No principals.\n', stderr: '' });
  });

  it('show GETs the URL-encoded name', async () => {
    const answer = { principal: principalView() };
    fx.server.handle(() => ({ status: 200, body: answer }));
    const run = await runCli([...fx.conn, 'principal', 'show', 'a+b=c,d.e@f_g-h']);
    expect(fx.only()).toMatchObject({ method: 'GET', url: '/v1/principals/a%2Bb%3Dc%2Cd.e%40f_g-h', text: '' });
    expect(run).toEqual({ code: 0, stdout: ALICE_BLOCK, stderr: '' });
    expect((await runCli([...fx.conn, 'principal', 'show', 'alice', '--json'])).stdout).toBe(json(answer));
  });

  it('delete sends DELETE and says what it did; --json prints nothing for the empty answer', async () => {
    fx.server.handle(() => ({ status: 204 }));
    const run = await runCli([...fx.conn, 'principal', 'delete', 'alice']);
    expect(run).toEqual({ code: 0, stdout: 'Deleted principal alice.\n', stderr: '' });
    expect(fx.only()).toMatchObject({ method: 'DELETE', url: '/v1/principals/alice', text: '' });
    expect(await runCli([...fx.conn, '--json', 'principal', 'delete', 'alice'])).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('reports a missing principal as the API problem', async () => {
    fx.server.handle(() => ({ status: 404, body: { type: 'urn:datadefender:error:ERR_NOT_FOUND', title: 'not found', status: 404, detail: "Principal 'zoe' does not exist.", code: 'ERR_NOT_FOUND', requestId: 'r9' } }));
    const run = await runCli([...fx.conn, 'principal', 'show', 'zoe']);
    expect(run).toEqual({ code: 1, stdout: '', stderr: "datadefender: ERR_NOT_FOUND: Principal 'zoe' does not exist. (request r9)\n" });
  });
});

describe('principal changes', () => {
  it.each([
    [['enable', 'alice'], 'POST', '/v1/principals/alice/enable', undefined],
    [['disable', 'alice'], 'POST', '/v1/principals/alice/disable', undefined],
    [['tag', 'alice', '--tag', 'team=pay', '--tag', 'q=a=b'], 'POST', '/v1/principals/alice/tags', { tags: { team: 'pay', q: 'a=b' } }],
    [['untag', 'alice', '--tag-key', 'team', '--tag-key', 'q'], 'POST', '/v1/principals/alice/untag', { tagKeys: ['team', 'q'] }],
    [['add-role', 'alice', 'key-administrator'], 'PUT', '/v1/principals/alice/roles/key-administrator', undefined],
    [['remove-role', 'alice', 'developer'], 'DELETE', '/v1/principals/alice/roles/developer', undefined],
    [['attach-policy', 'alice', 'read+only'], 'PUT', '/v1/principals/alice/policies/read%2Bonly', undefined],
    [['detach-policy', 'alice', 'read+only'], 'DELETE', '/v1/principals/alice/policies/read%2Bonly', undefined],
  ])('principal %j sends %s %s', async (args, method, url, body) => {
    const answer = { principal: principalView() };
    fx.server.handle(() => ({ status: 200, body: answer }));
    const run = await runCli([...fx.conn, 'principal', ...args]);
    expect(run).toEqual({ code: 0, stdout: ALICE_BLOCK, stderr: '' });
    const req = fx.only();
    expect(req).toMatchObject({ method, url });
    expect(req.body).toEqual(body);
    expect(await runCli([...fx.conn, 'principal', ...args, '--json'])).toEqual({ code: 0, stdout: json(answer), stderr: '' });
  });

  it('refuses an answer without the principal', async () => {
    fx.server.handle(() => ({ status: 200, body: { something: 'else' } }));
    const run = await runCli([...fx.conn, 'principal', 'enable', 'alice']);
    expect(run).toEqual({ code: 1, stdout: '', stderr: `datadefender: Unexpected answer from ${fx.server.endpoint}: no "principal".\n` });
  });
});

describe('dual control', () => {
  const APPROVAL_ID = '0b6c1f9e-2a3d-4e5f-8a9b-0c1d2e3f4a5b';
  const problem = (extra: Record<string, unknown>) => ({
    type: 'urn:datadefender:error:ERR_APPROVAL_REQUIRED',
    title: 'approval required',
    status: 403,
    detail: `datadefender:AddPrincipalRole requires the approval of a second principal (dual control). Approval request ${APPROVAL_ID} is pending.`,
    code: 'ERR_APPROVAL_REQUIRED',
    requestId: 'r-dc',
    ...extra,
  });

  it('says the operation awaits a second principal, names the request, how to approve it, and to repeat the command', async () => {
    fx.server.handle(() => ({ status: 403, body: problem({ approvalRequestId: APPROVAL_ID }) }));
    const run = await runCli([...fx.conn, 'principal', 'add-role', 'alice', 'key-administrator']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `datadefender: ERR_APPROVAL_REQUIRED: datadefender:AddPrincipalRole requires the approval of a second principal (dual control). Approval request ${APPROVAL_ID} is pending. (request r-dc)\n` +
        `This operation awaits the approval of a second principal (dual control): approval request ${APPROVAL_ID}. ` +
        `Another principal must approve it with \`datadefender approval approve ${APPROVAL_ID}\`; then repeat this same command to carry it out.\n`,
    );
    expect(fx.only()).toMatchObject({ method: 'PUT', url: '/v1/principals/alice/roles/key-administrator' });
  });

  it('leaves out the hint when the id is missing or not a plain id', async () => {
    fx.server.handle(() => ({ status: 403, body: problem({ approvalRequestId: '$(rm -rf ~)' }) }));
    const odd = await runCli([...fx.conn, 'principal', 'add-role', 'alice', 'key-administrator']);
    expect(odd.stderr).not.toContain('approval approve');
    expect(odd.stderr).not.toContain('rm -rf');
    fx.server.handle(() => ({ status: 403, body: problem({}) }));
    expect((await runCli([...fx.conn, 'principal', 'add-role', 'alice', 'key-administrator'])).stderr).not.toContain('approval approve');
    fx.server.handle(() => ({ status: 403, body: { code: 'ERR_ACCESS_DENIED', detail: 'no', requestId: 'r', approvalRequestId: APPROVAL_ID } }));
    expect((await runCli([...fx.conn, 'principal', 'show', 'alice'])).stderr).toBe('datadefender: ERR_ACCESS_DENIED: no (request r)\n');
  });
});

describe('access-key', () => {
  const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY';
  const created = {
    accessKey: {
      accessKeyId: 'DDAKABCDEFGHIJKLMNOP',
      principal: 'alice',
      status: 'Active',
      createdAt: '2025-01-02T03:04:05.000Z',
      expiresAt: '2025-04-02T03:04:05.000Z',
      secretAccessKey: SECRET,
    },
  };

  it('create POSTs expiresInDays and prints the secret once, with a warning that it will not be shown again', async () => {
    fx.server.handle(() => ({ status: 201, body: created }));
    const run = await runCli([...fx.conn, 'access-key', 'create', 'alice', '--expires-in-days', '90']);
    expect(fx.only()).toMatchObject({ method: 'POST', url: '/v1/principals/alice/access-keys', body: { expiresInDays: 90 } });
    expect(run).toEqual({
      code: 0,
      stdout: [
        'Access key ID:     DDAKABCDEFGHIJKLMNOP',
        'Principal:         alice',
        'Status:            Active',
        'Created:           2025-01-02T03:04:05.000Z',
        'Expires:           2025-04-02T03:04:05.000Z',
        `Secret access key: ${SECRET}`,
        '',
      ].join('\n'),
      stderr: 'Warning: save the secret now; it is not stored in clear and will not be shown again.\n',
    });
    expect(occurrences(run.stdout + run.stderr, SECRET)).toBe(1);
  });

  it('create sends {} by default; --json prints the answer (the secret once) and still warns on stderr', async () => {
    fx.server.handle(() => ({ status: 201, body: created }));
    const run = await runCli([...fx.conn, '--json', 'access-key', 'create', 'alice']);
    expect(fx.only().body).toEqual({});
    expect(run.stdout).toBe(json(created));
    expect(run.stderr).toContain('will not be shown again');
    expect(occurrences(run.stdout + run.stderr, SECRET)).toBe(1);
  });

  it('create fails rather than print a block without the secret', async () => {
    fx.server.handle(() => ({ status: 201, body: { accessKey: { ...created.accessKey, secretAccessKey: undefined } } }));
    const run = await runCli([...fx.conn, 'access-key', 'create', 'alice']);
    expect(run).toEqual({ code: 1, stdout: '', stderr: `datadefender: Unexpected answer from ${fx.server.endpoint}: no "secretAccessKey".\n` });
  });

  it('list GETs the keys and prints them without secrets', async () => {
    const answer = {
      accessKeys: [
        { accessKeyId: 'DDAKABCDEFGHIJKLMNOP', principal: 'alice', status: 'Active', createdAt: '2025-01-02T03:04:05.000Z', expiresAt: null },
        { accessKeyId: 'DDAKQRSTUVWXYZ234567', principal: 'alice', status: 'Inactive', createdAt: '2025-01-03T03:04:05.000Z', expiresAt: '2026-01-03T03:04:05.000Z' },
      ],
    };
    fx.server.handle(() => ({ status: 200, body: answer }));
    const run = await runCli([...fx.conn, 'access-key', 'list', 'alice']);
    expect(fx.only()).toMatchObject({ method: 'GET', url: '/v1/principals/alice/access-keys', text: '' });
    expect(run.stdout.split('\n')).toEqual([
      'ACCESS KEY ID         STATUS    CREATED                   EXPIRES',
      'DDAKABCDEFGHIJKLMNOP  Active    2025-01-02T03:04:05.000Z  never',
      'DDAKQRSTUVWXYZ234567  Inactive  2025-01-03T03:04:05.000Z  2026-01-03T03:04:05.000Z',
      '',
    ]);
    expect((await runCli([...fx.conn, 'access-key', 'list', 'alice', '--json'])).stdout).toBe(json(answer));
    fx.server.handle(() => ({ status: 200, body: { accessKeys: [] } }));
    expect((await runCli([...fx.conn, 'access-key', 'list', 'alice'])).stdout).toBe('No access keys.\n');
  });

  it.each([
    ['activate', 'Active'],
    ['deactivate', 'Inactive'],
  ])('%s PATCHes the status', async (verb, status) => {
    const answer = { accessKey: { accessKeyId: 'DDAKABCDEFGHIJKLMNOP', principal: 'alice', status, createdAt: '2025-01-02T03:04:05.000Z', expiresAt: null } };
    fx.server.handle(() => ({ status: 200, body: answer }));
    const run = await runCli([...fx.conn, 'access-key', verb, 'DDAKABCDEFGHIJKLMNOP']);
    expect(fx.only()).toMatchObject({ method: 'PATCH', url: '/v1/access-keys/DDAKABCDEFGHIJKLMNOP', body: { status } });
    expect(run.stdout).toBe(
      [
        'Access key ID: DDAKABCDEFGHIJKLMNOP',
        'Principal:     alice',
        `Status:        ${status}`,
        'Created:       2025-01-02T03:04:05.000Z',
        'Expires:       never',
        '',
      ].join('\n'),
    );
    expect((await runCli([...fx.conn, '--json', 'access-key', verb, 'DDAKABCDEFGHIJKLMNOP'])).stdout).toBe(json(answer));
  });

  it('delete sends DELETE', async () => {
    fx.server.handle(() => ({ status: 204 }));
    const run = await runCli([...fx.conn, 'access-key', 'delete', 'DDAKABCDEFGHIJKLMNOP']);
    expect(run).toEqual({ code: 0, stdout: 'Deleted access key DDAKABCDEFGHIJKLMNOP.\n', stderr: '' });
    expect(fx.only()).toMatchObject({ method: 'DELETE', url: '/v1/access-keys/DDAKABCDEFGHIJKLMNOP', text: '' });
  });
});

describe('token', () => {
  const SECRET = `ddt_${'Z'.repeat(43)}`;
  const created = { token: { accessor: 'AbCdEfGhIjKlMnOp', principal: 'svc', createdAt: '2025-01-02T03:04:05.000Z', expiresAt: '2025-01-02T04:04:05.000Z', token: SECRET } };

  it('create POSTs ttlSeconds and prints the token once, with the warning', async () => {
    fx.server.handle(() => ({ status: 201, body: created }));
    const run = await runCli([...fx.conn, 'token', 'create', 'svc', '--ttl', '3600']);
    expect(fx.only()).toMatchObject({ method: 'POST', url: '/v1/principals/svc/tokens', body: { ttlSeconds: 3600 } });
    expect(run).toEqual({
      code: 0,
      stdout: [
        'Accessor:  AbCdEfGhIjKlMnOp',
        'Principal: svc',
        'Created:   2025-01-02T03:04:05.000Z',
        'Expires:   2025-01-02T04:04:05.000Z',
        `Token:     ${SECRET}`,
        '',
      ].join('\n'),
      stderr: 'Warning: save the secret now; it is not stored in clear and will not be shown again.\n',
    });
    expect(occurrences(run.stdout + run.stderr, SECRET)).toBe(1);

    const asJson = await runCli([...fx.conn, 'token', 'create', 'svc', '--json']);
    expect(fx.server.requests[1]!.body).toEqual({});
    expect(asJson.stdout).toBe(json(created));
    expect(occurrences(asJson.stdout + asJson.stderr, SECRET)).toBe(1);
  });

  it('list prints accessors, never tokens', async () => {
    const answer = { tokens: [{ accessor: 'AbCdEfGhIjKlMnOp', principal: 'svc', createdAt: '2025-01-02T03:04:05.000Z', expiresAt: '2025-01-03T03:04:05.000Z' }] };
    fx.server.handle(() => ({ status: 200, body: answer }));
    const run = await runCli([...fx.conn, 'token', 'list', 'svc']);
    expect(fx.only()).toMatchObject({ method: 'GET', url: '/v1/principals/svc/tokens' });
    expect(run.stdout).toBe('ACCESSOR          CREATED                   EXPIRES\nAbCdEfGhIjKlMnOp  2025-01-02T03:04:05.000Z  2025-01-03T03:04:05.000Z\n');
    expect((await runCli([...fx.conn, '--json', 'token', 'list', 'svc'])).stdout).toBe(json(answer));
    fx.server.handle(() => ({ status: 200, body: { tokens: [] } }));
    expect((await runCli([...fx.conn, 'token', 'list', 'svc'])).stdout).toBe('No tokens.\n');
  });

  it('revoke DELETEs by accessor', async () => {
    fx.server.handle(() => ({ status: 204 }));
    const run = await runCli([...fx.conn, 'token', 'revoke', 'AbCdEfGhIjKl-_Op']);
    expect(run).toEqual({ code: 0, stdout: 'Revoked token AbCdEfGhIjKl-_Op.\n', stderr: '' });
    expect(fx.only()).toMatchObject({ method: 'DELETE', url: '/v1/tokens/AbCdEfGhIjKl-_Op', text: '' });
  });

  it('revoke refuses the token itself without sending or repeating it', async () => {
    const run = await runCli([...fx.conn, 'token', 'revoke', SECRET]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('This is a bearer token, not its accessor; nothing was sent.');
    expect(run.stdout + run.stderr).not.toContain(SECRET);
    expect(fx.server.requests).toHaveLength(0);
  });
});

describe('certificate', () => {
  const PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUX\n-----END CERTIFICATE-----\n';
  const FP = 'ab'.repeat(32);
  const mapped = { certificate: { fingerprint: FP, principal: 'svc', subject: 'CN=svc, O=Example', notAfter: '2026-01-02T03:04:05.000Z', createdAt: '2025-01-02T03:04:05.000Z' } };

  it('map POSTs the PEM file and prints the mapping', async () => {
    fx.server.handle(() => ({ status: 201, body: mapped }));
    const run = await runCli([...fx.conn, 'certificate', 'map', 'svc', '--cert', 'client.pem'], { cwd: '/certs', files: { '/certs/client.pem': PEM } });
    expect(fx.only()).toMatchObject({ method: 'POST', url: '/v1/principals/svc/certificates', body: { certificatePem: PEM } });
    expect(run).toEqual({
      code: 0,
      stdout: [
        `Fingerprint: ${FP}`,
        'Principal:   svc',
        'Subject:     CN=svc, O=Example',
        'Not after:   2026-01-02T03:04:05.000Z',
        'Mapped:      2025-01-02T03:04:05.000Z',
        '',
      ].join('\n'),
      stderr: '',
    });
    const asJson = await runCli([...fx.conn, '--json', 'certificate', 'map', 'svc', '--cert', '/certs/client.pem'], { files: { '/certs/client.pem': PEM } });
    expect(asJson.stdout).toBe(json(mapped));
  });

  it.each([
    ['a private key', `${PEM}-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n`, 'contains a private key'],
    ['an EC private key', '-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n', 'contains a private key'],
    ['no certificate', 'hello\n', 'holds no PEM certificate'],
    ['too much', `${PEM}${'x'.repeat(16_384)}`, 'larger than 16384 characters'],
  ])('map refuses a file with %s before any request', async (_what, content, message) => {
    const run = await runCli([...fx.conn, 'certificate', 'map', 'svc', '--cert', '/c.pem'], { files: { '/c.pem': content } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(message);
    expect(fx.server.requests).toHaveLength(0);
  });

  it('map names a file it cannot read', async () => {
    const run = await runCli([...fx.conn, 'certificate', 'map', 'svc', '--cert', 'missing.pem'], { cwd: '/nonexistent-dir' });
    expect(run).toMatchObject({ code: 1, stderr: 'datadefender: Cannot read the certificate file /nonexistent-dir/missing.pem: ENOENT.\n' });
    expect(fx.server.requests).toHaveLength(0);
  });

  it('list prints fingerprint, subject and expiry', async () => {
    const answer = { certificates: [mapped.certificate] };
    fx.server.handle(() => ({ status: 200, body: answer }));
    const run = await runCli([...fx.conn, 'certificate', 'list', 'svc']);
    expect(fx.only()).toMatchObject({ method: 'GET', url: '/v1/principals/svc/certificates' });
    expect(run.stdout.split('\n')).toEqual([
      `FINGERPRINT (SHA-256)${' '.repeat(45)}SUBJECT            NOT AFTER`,
      `${FP}  CN=svc, O=Example  2026-01-02T03:04:05.000Z`,
      '',
    ]);
    expect((await runCli([...fx.conn, '--json', 'certificate', 'list', 'svc'])).stdout).toBe(json(answer));
    fx.server.handle(() => ({ status: 200, body: { certificates: [] } }));
    expect((await runCli([...fx.conn, 'certificate', 'list', 'svc'])).stdout).toBe('No certificates.\n');
  });

  it('unmap accepts openssl-style fingerprints and DELETEs the normalised one', async () => {
    fx.server.handle(() => ({ status: 204 }));
    const colons = FP.toUpperCase().match(/../g)!.join(':');
    const run = await runCli([...fx.conn, 'certificate', 'unmap', colons]);
    expect(run).toEqual({ code: 0, stdout: `Unmapped certificate ${FP}.\n`, stderr: '' });
    expect(fx.only()).toMatchObject({ method: 'DELETE', url: `/v1/certificates/${FP}`, text: '' });
  });
});

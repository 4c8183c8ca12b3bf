/**
 * The access-control commands (`policy`, `role`, `approval`, `status`) against the recording HTTPS server: the exact
 * request each one sends, its human and --json output, and refusals that send nothing.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/protocols/rest/routes/system.js';
import { approvalView, runCli, useRecordingServer } from './cli-harness.js';

const fx = useRecordingServer('ddt_test-token-123');
const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

const DOCUMENT = '{\n  "Version": "2012-10-17",\n  "Statement": [\n    { "Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*" }\n  ]\n}\n';
const policyView = (overrides: Record<string, unknown> = {}) => ({
  name: 'encrypt-only',
  arn: 'arn:aws:iam::111122223333:policy/encrypt-only',
  description: 'may encrypt',
  document: DOCUMENT,
  createdAt: '2025-01-02T03:04:05.000Z',
  updatedAt: '2025-01-03T03:04:05.000Z',
  ...overrides,
});
const POLICY_BLOCK = [
  'Name:        encrypt-only',
  'ARN:         arn:aws:iam::111122223333:policy/encrypt-only',
  'Description: may encrypt',
  'Created:     2025-01-02T03:04:05.000Z',
  'Updated:     2025-01-03T03:04:05.000Z',
  '',
  DOCUMENT,
].join('\n');

describe('policy create and update', () => {
  it('create POSTs name, the file text as document, and description', async () => {
    const answer = { policy: policyView() };
    fx.server.handle(() => ({ status: 201, body: answer }));
    const run = await runCli([...fx.conn, 'policy', 'create', 'encrypt-only', '--document', 'p.json', '--description', 'may encrypt'], {
      cwd: '/work',
      files: { '/work/p.json': DOCUMENT },
    });
    expect(run).toEqual({ code: 0, stdout: POLICY_BLOCK, stderr: '' });
    expect(fx.only()).toMatchObject({ method: 'POST', url: '/v1/policies', body: { name: 'encrypt-only', document: DOCUMENT, description: 'may encrypt' } });

    const asJson = await runCli([...fx.conn, '--json', 'policy', 'create', 'encrypt-only', '--document', '/p.json'], { files: { '/p.json': `\uFEFF${DOCUMENT}` } });
    expect(asJson).toEqual({ code: 0, stdout: json(answer), stderr: '' });
    expect(fx.server.requests[1]!.body).toEqual({ name: 'encrypt-only', document: DOCUMENT });
  });

  it('update PUTs the document and description', async () => {
    const answer = { policy: policyView() };
    fx.server.handle(() => ({ status: 200, body: answer }));
    const run = await runCli([...fx.conn, 'policy', 'update', 'encrypt-only', '--document', '/p.json', '--description', 'may encrypt'], { files: { '/p.json': DOCUMENT } });
    expect(run).toEqual({ code: 0, stdout: POLICY_BLOCK, stderr: '' });
    expect(fx.only()).toMatchObject({ method: 'PUT', url: '/v1/policies/encrypt-only', body: { document: DOCUMENT, description: 'may encrypt' } });
    expect((await runCli([...fx.conn, 'policy', 'update', 'encrypt-only', '--document', '/p.json', '--json'], { files: { '/p.json': DOCUMENT } })).stdout).toBe(json(answer));
    expect(fx.server.requests[1]!.body).toEqual({ document: DOCUMENT });
  });

  it.each([
    ['not JSON', '{"Version": ', 'is not valid JSON'],
    ['a JSON array', '[]', 'is not a JSON object'],
    ['empty', ' \n', 'is empty'],
    ['too long', `{"a":"${'x'.repeat(65_536)}"}`, 'is longer than 65536 characters'],
  ])('refuses a document that is %s before any request', async (_what, content, message) => {
    for (const verb of ['create', 'update']) {
      const run = await runCli([...fx.conn, 'policy', verb, 'p', '--document', '/p.json'], { files: { '/p.json': content } });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`datadefender: The policy document /p.json ${message}`);
    }
    expect(fx.server.requests).toHaveLength(0);
  });

  it.each([
    [['policy', 'create', 'p'], "required option '--document <file>' not specified"],
    [['policy', 'create', 'bad name', '--document', '/p.json'], "argument 'name'. Expected 1 to 128 characters"],
    [['policy', 'create', 'p', '--document', '/p.json', '--description', 'x'.repeat(8193)], 'Expected at most 8192 characters.'],
    [['policy', 'update', 'p'], "required option '--document <file>' not specified"],
    [['policy', 'show', 'a/b'], 'Expected 1 to 128 characters'],
    [['policy', 'delete', 'a?b'], 'Expected 1 to 128 characters'],
    [['policy', 'list', '--limit', '1001'], 'Expected an integer from 1 to 1000.'],
    [['role', 'show', '../x'], 'Expected 1 to 128 characters'],
    [['approval', 'list', '--status', 'Done'], 'Allowed choices are Pending, Approved, Rejected, Consumed.'],
    [['approval', 'list', '--limit', 'ten'], 'Expected an integer from 1 to 1000.'],
    [['approval', 'show', 'nope'], 'Expected an approval request id (a UUID, see approval list).'],
    [['approval', 'approve', '0b6c1f9e-2a3d-4e5f-8a9b'], 'Expected an approval request id'],
    [['approval', 'reject', '../0b6c1f9e-2a3d-4e5f-8a9b-0c1d2e3f4a5b'], 'Expected an approval request id'],
    [['--json', 'role', 'show', 'developer', '--document-only'], '--document-only and --json contradict each other.'],
    [['policy', 'show', 'p', '--document-only', '--json'], '--document-only and --json contradict each other.'],
  ])('%j is refused before any request', async (args, message) => {
    const run = await runCli([...fx.conn, ...args], { files: { '/p.json': DOCUMENT } });
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(message);
    expect(fx.server.requests).toHaveLength(0);
  });
});

describe('policy list, show, delete', () => {
  it('list GETs a page and prints NAME, DESCRIPTION, UPDATED', async () => {
    const answer = { policies: [policyView(), policyView({ name: 'audit', description: '', updatedAt: '2025-02-01T00:00:00.000Z' })], nextMarker: 'n1' };
    fx.server.handle(() => ({ status: 200, body: answer }));
    const run = await runCli([...fx.conn, 'policy', 'list', '--limit', '2']);
    expect(fx.only()).toMatchObject({ method: 'GET', url: '/v1/policies?limit=2' });
    expect(run.stdout.split('\n')).toEqual([
      'NAME          DESCRIPTION  UPDATED',
      'encrypt-only  may encrypt  2025-01-03T03:04:05.000Z',
      'audit         -            2025-02-01T00:00:00.000Z',
      '',
    ]);
    expect(run.stderr).toBe('More policies: pass --all, or --marker n1\n');
    expect(await runCli([...fx.conn, 'policy', 'list', '--json'])).toEqual({ code: 0, stdout: json(answer), stderr: '' });
    fx.server.handle(() => ({ status: 200, body: { policies: [] } }));
    expect((await runCli([...fx.conn, 'policy', 'list'])).stdout).toBe('No policies.\n');
  });

  it('show prints the metadata and the document, or only the document', async () => {
    const answer = { policy: policyView() };
    fx.server.handle(() => ({ status: 200, body: answer }));
    expect(await runCli([...fx.conn, 'policy', 'show', 'encrypt-only'])).toEqual({ code: 0, stdout: POLICY_BLOCK, stderr: '' });
    expect(await runCli([...fx.conn, 'policy', 'show', 'encrypt-only', '--document-only'])).toEqual({ code: 0, stdout: DOCUMENT, stderr: '' });
    expect(await runCli([...fx.conn, 'policy', 'show', 'encrypt-only', '--json'])).toEqual({ code: 0, stdout: json(answer), stderr: '' });
    expect(fx.server.requests.map((r) => `${r.method} ${r.url}`)).toEqual(Array(3).fill('GET /v1/policies/encrypt-only'));
  });

  it('keeps the lines of a document but neutralises other control characters', async () => {
    fx.server.handle(() => ({ status: 200, body: { policy: policyView({ document: '{\r\n "a": "\x1b[2J\rfake"\n}', description: 'x\ny' }) } }));
    const run = await runCli([...fx.conn, 'policy', 'show', 'encrypt-only']);
    expect(run.stdout).not.toMatch(/[\x1b\r]/);
    expect(run.stdout).toContain('Description: x?y\n');
    expect(run.stdout.endsWith('\n\n{\n "a": "?[2J?fake"\n}\n')).toBe(true);
  });

  it('delete sends DELETE', async () => {
    fx.server.handle(() => ({ status: 204 }));
    expect(await runCli([...fx.conn, 'policy', 'delete', 'encrypt-only'])).toEqual({ code: 0, stdout: 'Deleted policy encrypt-only.\n', stderr: '' });
    expect(fx.only()).toMatchObject({ method: 'DELETE', url: '/v1/policies/encrypt-only', text: '' });
  });
});

describe('role', () => {
  const developer = { name: 'developer', description: 'Creates and rotates keys and uses them.', document: DOCUMENT.trimEnd() };

  it('list GETs /v1/roles and prints name and description', async () => {
    const answer = { roles: [{ name: 'administrator', description: 'Manages keys.', document: '{}' }, developer] };
    fx.server.handle(() => ({ status: 200, body: answer }));
    const run = await runCli([...fx.conn, 'role', 'list']);
    expect(fx.only()).toMatchObject({ method: 'GET', url: '/v1/roles', text: '' });
    expect(run.stdout).toBe('NAME           DESCRIPTION\nadministrator  Manages keys.\ndeveloper      Creates and rotates keys and uses them.\n');
    expect((await runCli([...fx.conn, '--json', 'role', 'list'])).stdout).toBe(json(answer));
  });

  it('show prints the description and the document', async () => {
    fx.server.handle(() => ({ status: 200, body: { role: developer } }));
    const run = await runCli([...fx.conn, 'role', 'show', 'developer']);
    expect(fx.only()).toMatchObject({ method: 'GET', url: '/v1/roles/developer' });
    expect(run.stdout).toBe(`Name:        developer\nDescription: Creates and rotates keys and uses them.\n\n${DOCUMENT}`);
    expect((await runCli([...fx.conn, 'role', 'show', 'developer', '--json'])).stdout).toBe(json({ role: developer }));
  });

  it('show --document-only output is a document policy create accepts as is', async () => {
    fx.server.handle((req) =>
      req.method === 'GET' ? { status: 200, body: { role: developer } } : { status: 201, body: { policy: policyView({ name: 'my', document: (req.body as { document: string }).document }) } },
    );
    const shown = await runCli([...fx.conn, 'role', 'show', 'developer', '--document-only']);
    expect(shown).toEqual({ code: 0, stdout: `${developer.document}\n`, stderr: '' });
    const file = join(fx.dir, 'my.json');
    await writeFile(file, shown.stdout);
    const created = await runCli([...fx.conn, 'policy', 'create', 'my', '--document', file]);
    expect(created.code).toBe(0);
    expect(fx.server.requests[1]).toMatchObject({ method: 'POST', url: '/v1/policies', body: { name: 'my', document: await readFile(file, 'utf8') } });
    expect(JSON.parse((fx.server.requests[1]!.body as { document: string }).document)).toEqual(JSON.parse(developer.document));
  });
});

describe('approval', () => {
  const ID = '0b6c1f9e-2a3d-4e5f-8a9b-0c1d2e3f4a5b';

  it('list GETs with status, limit and marker and prints a table', async () => {
    const answer = { approvals: [approvalView(), approvalView({ id: '1b6c1f9e-2a3d-4e5f-8a9b-0c1d2e3f4a5b', operation: 'datadefender:AddPrincipalRole', resource: null, summary: { principal: 'bob', role: 'administrator' } })], nextMarker: 'a2' };
    fx.server.handle(() => ({ status: 200, body: answer }));
    const run = await runCli([...fx.conn, 'approval', 'list', '--status', 'Pending', '--limit', '5', '--marker', 'a1']);
    expect(fx.only()).toMatchObject({ method: 'GET', url: '/v1/approvals?status=Pending&limit=5&marker=a1', text: '' });
    expect(run.stdout.split('\n')).toEqual([
      'ID                                    STATUS   OPERATION                      REQUESTED BY                          EXPIRES                   SUMMARY',
      `${ID}  Pending  ScheduleKeyDeletion            arn:aws:iam::111122223333:user/alice  2025-01-02T04:04:05.000Z  keyId=1234abcd-12ab-34cd-56ef-1234567890ab, pendingWindowIn…`,
      '1b6c1f9e-2a3d-4e5f-8a9b-0c1d2e3f4a5b  Pending  datadefender:AddPrincipalRole  arn:aws:iam::111122223333:user/alice  2025-01-02T04:04:05.000Z  principal=bob, role=administrator',
      '',
    ]);
    expect(run.stderr).toBe('More approval requests: pass --all, or --marker a2\n');
    expect(await runCli([...fx.conn, '--json', 'approval', 'list'])).toEqual({ code: 0, stdout: json(answer), stderr: '' });
    expect(fx.server.requests[1]!.url).toBe('/v1/approvals');
    fx.server.handle(() => ({ status: 200, body: { approvals: [] } }));
    expect((await runCli([...fx.conn, 'approval', 'list'])).stdout).toBe('No approval requests.\n');
  });

  it('show GETs one request (ids are taken case-insensitively)', async () => {
    const answer = { approval: approvalView() };
    fx.server.handle(() => ({ status: 200, body: answer }));
    const run = await runCli([...fx.conn, 'approval', 'show', ID.toUpperCase()]);
    expect(fx.only()).toMatchObject({ method: 'GET', url: `/v1/approvals/${ID}`, text: '' });
    expect(run.stdout).toBe(
      [
        `ID:           ${ID}`,
        'Status:       Pending',
        'Operation:    ScheduleKeyDeletion',
        'Resource:     arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        'Summary:      keyId=1234abcd-12ab-34cd-56ef-1234567890ab, pendingWindowInDays=7',
        'Requested by: arn:aws:iam::111122223333:user/alice',
        'Created:      2025-01-02T03:04:05.000Z',
        'Expires:      2025-01-02T04:04:05.000Z',
        '',
      ].join('\n'),
    );
    expect((await runCli([...fx.conn, 'approval', 'show', ID, '--json'])).stdout).toBe(json(answer));
  });

  it('approve POSTs and tells that the requester repeats the command', async () => {
    const answer = { approval: approvalView({ status: 'Approved', decidedBy: 'arn:aws:iam::111122223333:user/bob', decidedAt: '2025-01-02T03:10:00.000Z' }) };
    fx.server.handle(() => ({ status: 200, body: answer }));
    const run = await runCli([...fx.conn, 'approval', 'approve', ID]);
    expect(fx.only()).toMatchObject({ method: 'POST', url: `/v1/approvals/${ID}/approve`, text: '' });
    expect(run.stdout).toContain('Status:       Approved\n');
    expect(run.stdout).toContain('Decided by:   arn:aws:iam::111122223333:user/bob\nDecided:      2025-01-02T03:10:00.000Z\n');
    expect(run.stdout.endsWith('Approved: the requester can now repeat the same command, once, before it expires.\n')).toBe(true);
    expect(await runCli([...fx.conn, 'approval', 'approve', ID, '--json'])).toEqual({ code: 0, stdout: json(answer), stderr: '' });
  });

  it('reject POSTs and prints the decided request', async () => {
    const answer = { approval: approvalView({ status: 'Rejected', decidedBy: 'arn:aws:iam::111122223333:user/bob', decidedAt: '2025-01-02T03:10:00.000Z' }) };
    fx.server.handle(() => ({ status: 200, body: answer }));
    const run = await runCli([...fx.conn, 'approval', 'reject', ID]);
    expect(fx.only()).toMatchObject({ method: 'POST', url: `/v1/approvals/${ID}/reject`, text: '' });
    expect(run.stdout).toContain('Status:       Rejected\n');
    expect(run.stdout.endsWith('Decided:      2025-01-02T03:10:00.000Z\n')).toBe(true);
    expect((await runCli([...fx.conn, '--json', 'approval', 'reject', ID])).stdout).toBe(json(answer));
  });

  it('reports the server refusing a self-approval', async () => {
    fx.server.handle(() => ({ status: 403, body: { code: 'ERR_ACCESS_DENIED', detail: 'You cannot decide your own approval request.', requestId: 'r5' } }));
    const run = await runCli([...fx.conn, 'approval', 'approve', ID]);
    expect(run).toEqual({ code: 1, stdout: '', stderr: 'datadefender: ERR_ACCESS_DENIED: You cannot decide your own approval request. (request r5)\n' });
  });
});

describe('status', () => {
  // The real body of GET /v1/status (routes/system.ts): `satisfies` fails to compile when the server's shape changes.
  const base = {
    status: 'ok',
    version: '0.9.0',
    storage: 'sqlite',
    rootOfTrust: 'local-sealed',
    root: { kind: 'local-sealed', sealed: false, threshold: 2, shares: 3, progress: 0, nonce: null, available: true },
    audit: 'ok',
    certificate: { source: 'built-in', notAfter: '2026-01-02T03:04:05.000Z', renewAt: '2025-12-03T03:04:05.000Z' },
    jobLeader: true,
    keyCache: { entries: 12, maxEntries: 10000, hits: 1234, misses: 19, hitRate: 1234 / 1253 },
    dualControl: { enabled: false },
  } satisfies StatusReport;

  it('prints one line per field, with the key cache, and dual control on with its operations', async () => {
    const answer = { ...base, dualControl: { enabled: true, operations: ['ScheduleKeyDeletion', 'datadefender:AddPrincipalRole'], approvalTtlSeconds: 3600 } } satisfies StatusReport;
    fx.server.handle(() => ({ status: 200, body: answer }));
    const run = await runCli([...fx.conn, 'status']);
    expect(fx.only()).toMatchObject({ method: 'GET', url: '/v1/status', text: '' });
    expect(run).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        'Status:        ok',
        'Version:       0.9.0',
        'Storage:       sqlite',
        'Root of trust: local-sealed',
        'Audit:         ok',
        'Sealed:        no',
        'Key cache:     12/10000 entries, hit rate 98.5% (1234 hits, 19 misses)',
        'Certificate:   built-in, valid until 2026-01-02T03:04:05.000Z, renewed at 2025-12-03T03:04:05.000Z',
        'Dual control:  on (2 operations: ScheduleKeyDeletion, datadefender:AddPrincipalRole)',
        'Approval TTL:  3600 s',
        '',
      ].join('\n'),
    });
    expect((await runCli([...fx.conn, '--json', 'status'])).stdout).toBe(json(answer));
  });

  it('reads the seal state from root.sealed', async () => {
    const sealed = { ...base, status: 'sealed', root: { ...base.root, sealed: true, progress: 1, nonce: 'n1' } } satisfies StatusReport;
    fx.server.handle(() => ({ status: 200, body: sealed }));
    expect((await runCli([...fx.conn, 'status'])).stdout).toContain('\nSealed:        yes\n');
  });

  it('says when the HSM or upstream KMS does not answer', async () => {
    const down = { ...base, status: 'degraded', rootOfTrust: 'pkcs11', root: { ...base.root, kind: 'pkcs11', available: false } } satisfies StatusReport;
    fx.server.handle(() => ({ status: 200, body: down }));
    expect((await runCli([...fx.conn, 'status'])).stdout).toContain('\nRoot of trust: pkcs11 (unavailable)\n');
  });

  it('shows no hit rate before the first lookup', async () => {
    const empty = { ...base, keyCache: { entries: 0, maxEntries: 100000, hits: 0, misses: 0, hitRate: null } } satisfies StatusReport;
    fx.server.handle(() => ({ status: 200, body: empty }));
    expect((await runCli([...fx.conn, 'status'])).stdout).toContain('\nKey cache:     0/100000 entries, hit rate - (0 hits, 0 misses)\n');
  });

  it('shows dual control off', async () => {
    fx.server.handle(() => ({ status: 200, body: { ...base, status: 'degraded', audit: 'unavailable' } satisfies StatusReport }));
    const run = await runCli([...fx.conn, 'status']);
    expect(run.stdout).toContain('Status:        degraded\n');
    expect(run.stdout).toContain('Audit:         unavailable\n');
    expect(run.stdout.endsWith('Dual control:  off\n')).toBe(true);
  });
});

// Dual control end to end (PCI DSS 3.6.1.2 / 3.7.6), on a server started with DATADEFENDER_DUAL_CONTROL=on:
// the first call creates a pending approval request and is refused naming it (AWS API: AccessDeniedException;
// REST: 403 ERR_APPROVAL_REQUIRED); the requester cannot approve it; another administrator can; the identical
// request then runs once, with both identities in the audit trail. Expiry is covered by the core test beside it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, DescribeKeyCommand, ScheduleKeyDeletionCommand, type KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsError, kmsClient } from '../helpers/aws-clients.js';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';
import { addPrincipal } from '../helpers/principals.js';
import { restClient, type DevCredentialsFile } from '../helpers/rest-client.js';

let dir: string;
let server: DevServer;
let admin: DevCredentialsFile;
let second: DevCredentialsFile;
let analyst: DevCredentialsFile;
let kms: KMSClient;

const APPROVAL_ID = /Approval request ([0-9a-f-]{36}) is pending/;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dd-dual-'));
  server = await startDevServer(dir, { env: { DATADEFENDER_DUAL_CONTROL: 'on' } });
  admin = server.credentials;
  second = await addPrincipal(admin, 'second-admin', { roles: ['administrator'] });
  analyst = await addPrincipal(admin, 'analyst', { roles: ['security-analyst'] });
  kms = kmsClient(admin);
}, 60_000);

afterAll(async () => {
  kms?.destroy();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function newKey(): Promise<string> {
  return (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
}

describe('dual control', () => {
  it('says it is on in the status', async () => {
    const status = await restClient(admin)('GET', '/v1/status');
    expect(status.status).toBe(200);
    expect(status.body.dualControl).toMatchObject({ enabled: true, approvalTtlSeconds: 86_400 });
    expect(status.body.dualControl.operations).toEqual(expect.arrayContaining(['ScheduleKeyDeletion', 'DisableKey', 'PutKeyPolicy', 'AddPrincipalRole']));
  });

  it('runs ScheduleKeyDeletion (AWS API) only after a second administrator approves, exactly once', async () => {
    const keyId = await newKey();
    const request = () => kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    const first = await awsError(request());
    expect(first.name).toBe('AccessDeniedException');
    expect(first.message).toMatch(/requires the approval of a second principal/);
    const id = APPROVAL_ID.exec(first.message)?.[1];
    expect(id).toBeDefined();
    // Repeating while pending names the same request; nothing changed.
    expect(APPROVAL_ID.exec((await awsError(request())).message)?.[1]).toBe(id);
    expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyState).toBe('Enabled');

    const self = await restClient(admin)('POST', `/v1/approvals/${id}/approve`);
    expect(self.status).toBe(403);
    expect(self.body.detail).toBe('You cannot decide your own approval request.');
    const unauthorized = await restClient(analyst)('POST', `/v1/approvals/${id}/approve`);
    expect(unauthorized.status).toBe(403);

    const pending = await restClient(analyst)('GET', '/v1/approvals?status=Pending');
    expect(pending.body.approvals.map((a: { id: string }) => a.id)).toContain(id);
    const listed = pending.body.approvals.find((a: { id: string }) => a.id === id);
    expect(listed).toMatchObject({ operation: 'ScheduleKeyDeletion', requestedBy: admin.principalArn, status: 'Pending' });
    expect(listed.resource).toContain(keyId);

    const approved = await restClient(second)('POST', `/v1/approvals/${id}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.body.approval).toMatchObject({ status: 'Approved', decidedBy: second.principalArn });
    expect((await restClient(second)('POST', `/v1/approvals/${id}/approve`)).body.code).toBe('ERR_INVALID_STATE');

    // A different request (another waiting period) does not ride on the approval.
    const other = await awsError(kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 30 })));
    expect(APPROVAL_ID.exec(other.message)?.[1]).not.toBe(id);

    const done = await request();
    expect(done.KeyState).toBe('PendingDeletion');
    // Consumed: the same request again needs a new approval.
    expect(APPROVAL_ID.exec((await awsError(request())).message)?.[1]).not.toBe(id);
    expect((await restClient(admin)('GET', `/v1/approvals/${id}`)).body.approval.status).toBe('Consumed');

    const events = (await restClient(admin)('GET', '/v1/audit/events?limit=1000')).body.events as Array<Record<string, any>>;
    const executed = events.find((e) => e.eventName === 'ScheduleKeyDeletion' && e.outcome === 'success' && e.resource?.includes(keyId));
    expect(executed?.details.approval).toEqual({ id, requestedBy: admin.principalArn, approvedBy: second.principalArn });
    const refused = events.filter((e) => e.eventName === 'ScheduleKeyDeletion' && e.errorCode === 'ERR_APPROVAL_REQUIRED');
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused[0]!.outcome).toBe('denied');
  }, 30_000);

  it('answers the native API with 403 ERR_APPROVAL_REQUIRED and the id, and a rejected request never runs', async () => {
    const keyId = await newKey();
    const call = restClient(admin);
    const first = await call('POST', `/v1/keys/${keyId}/disable`);
    expect(first.status).toBe(403);
    expect(first.body.code).toBe('ERR_APPROVAL_REQUIRED');
    const id = first.body.approvalRequestId as string;
    expect(first.body.detail).toContain(id);

    expect((await restClient(second)('POST', `/v1/approvals/${id}/reject`)).body.approval.status).toBe('Rejected');
    const again = await call('POST', `/v1/keys/${keyId}/disable`);
    expect(again.body.code).toBe('ERR_APPROVAL_REQUIRED');
    expect(again.body.approvalRequestId).not.toBe(id);
    expect((await call('GET', `/v1/keys/${keyId}`)).body.key.state).toBe('Enabled');

    expect((await restClient(second)('POST', `/v1/approvals/${again.body.approvalRequestId}/approve`)).status).toBe(200);
    const done = await call('POST', `/v1/keys/${keyId}/disable`);
    expect(done.status).toBe(200);
    expect(done.body.key.state).toBe('Disabled');
  });

  it('gates identity changes that grant decryption, and only those', async () => {
    const call = restClient(admin);
    expect((await call('POST', '/v1/principals', { name: 'future-engineer' })).status).toBe(201);
    // Read-only roles do not grant decryption: no approval needed.
    expect((await call('PUT', '/v1/principals/future-engineer/roles/compliance-officer')).status).toBe(200);
    const gated = await call('PUT', '/v1/principals/future-engineer/roles/data-engineer');
    expect(gated.body.code).toBe('ERR_APPROVAL_REQUIRED');
    expect((await call('GET', '/v1/principals/future-engineer')).body.principal.roles).toEqual(['compliance-officer']);
    expect((await restClient(second)('POST', `/v1/approvals/${gated.body.approvalRequestId}/approve`)).status).toBe(200);
    const applied = await call('PUT', '/v1/principals/future-engineer/roles/data-engineer');
    expect(applied.status).toBe(200);
    expect(applied.body.principal.roles).toEqual(['compliance-officer', 'data-engineer']);

    const decrypting = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' }] });
    expect((await call('POST', '/v1/policies', { name: 'decryptors', document: decrypting })).status).toBe(201);
    expect((await call('PUT', '/v1/principals/future-engineer/policies/decryptors')).body.code).toBe('ERR_APPROVAL_REQUIRED');
  });
});

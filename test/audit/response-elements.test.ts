// responseElements, as in CloudTrail: what a successful call created (ids, never secrets); failures and attempts
// carry none. A created key is the event's resource.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createIdentityService } from '../../src/identity/identity-service.js';
import { SCOPE, context, coreFixture } from '../helpers/core-fixture.js';

type Fixture = Awaited<ReturnType<typeof coreFixture>>;
let f: Fixture;
const alice = context(['administrator', 'data-engineer'], 'alice');

beforeEach(async () => {
  f = await coreFixture();
});
afterEach(() => f.close());

const records = async (eventName: string) =>
  (await f.storage.readAudit({ limit: 1000 })).filter((e) => e.eventName === eventName).map((e) => ({ outcome: e.outcome, ...JSON.parse(e.chain!.record) }));

it('CreateKey answers with the key metadata and names the new key as its resource; a failed CreateKey has neither', async () => {
  const key = await f.service.keys.create(alice, { description: 'cards' });
  const arn = `arn:aws:kms:${SCOPE.region}:${SCOPE.accountId}:key/${key.id}`;
  await expect(f.service.keys.create(alice, { keySpec: 'NOPE' })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
  const [attempt, success, failure] = await records('CreateKey');
  expect(success).toMatchObject({
    outcome: 'success',
    resources: [{ ARN: arn, type: 'AWS::KMS::Key' }],
    responseElements: { keyMetadata: { keyId: key.id, arn, keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS', keyState: 'Enabled' } },
  });
  expect(success.requestParameters.keyId).toBeUndefined();
  expect(attempt).toMatchObject({ outcome: 'attempt', resources: [{ ARN: arn }], responseElements: null });
  expect(failure).toMatchObject({ outcome: 'failure', responseElements: null, resources: [] });
});

it('CreateGrant, CreateAccessKey and CreateToken answer with the new id, never the token or secret', async () => {
  const key = await f.service.keys.create(alice, {});
  const { grantId } = await f.service.grants.create(alice, { keyId: key.id, granteePrincipal: `arn:aws:iam::${SCOPE.accountId}:user/app`, operations: ['Encrypt'] });
  expect((await records('CreateGrant')).at(-1)!.responseElements).toEqual({ grantId });

  const now = f.clock.now();
  await f.storage.createPrincipal({ id: 'app', name: 'app', kind: 'user', arn: `arn:aws:iam::${SCOPE.accountId}:user/app`, roles: [], policies: [], tags: {}, disabled: false, createdAt: now, updatedAt: now });
  const identity = createIdentityService({ storage: f.storage, run: f.service.run, clock: f.clock, scope: SCOPE, root: f.root });
  const created = await identity.accessKeys.create(alice, 'app', { expiresInDays: 30 });
  const keyEvent = (await records('CreateAccessKey')).at(-1)!;
  expect(keyEvent.responseElements).toEqual({ accessKey: { accessKeyId: created.accessKeyId, status: 'Active', expiresAt: new Date(now.getTime() + 30 * 86_400_000).toISOString() } });
  expect(JSON.stringify(keyEvent)).not.toContain(created.secretAccessKey);

  const token = await identity.tokens.create(alice, 'app', { ttlSeconds: 600 });
  const tokenEvent = (await records('CreateToken')).at(-1)!;
  expect(tokenEvent.responseElements).toEqual({ token: { accessor: token.accessor, expiresAt: new Date(now.getTime() + 600_000).toISOString() } });
  expect(JSON.stringify(tokenEvent)).not.toContain(token.token);
});

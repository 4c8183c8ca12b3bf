// Grants decide together with identity and key policies: a grant allows what no policy allows, but never what an
// explicit Deny — in an identity policy or in the key policy — refuses.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { SCOPE, context, coreFixture } from '../helpers/core-fixture.js';

type Fixture = Awaited<ReturnType<typeof coreFixture>>;
let f: Fixture;
const owner = context(['administrator', 'data-engineer'], 'owner');
const denyDecrypt = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'NoDecrypt', Effect: 'Deny', Action: 'kms:Decrypt', Resource: '*' }] });
const withPolicy = (name: string, document?: string) => {
  const base = context([], name);
  return document === undefined ? base : { ...base, caller: { ...base.caller, policies: [{ name: 'deny-decrypt', document }] } };
};

beforeEach(async () => {
  f = await coreFixture();
});
afterEach(() => f.close());

async function grantedCiphertext(grantee: string, policy?: string) {
  const key = await f.service.keys.create(owner, policy === undefined ? {} : { policy, bypassPolicyLockoutSafetyCheck: true });
  const { ciphertext } = await f.service.crypto.encrypt(owner, { keyId: key.id, plaintext: Buffer.from('ledger') });
  const { grantId } = await f.service.grants.create(owner, { keyId: key.id, granteePrincipal: `arn:aws:iam::${SCOPE.accountId}:user/${grantee}`, operations: ['Decrypt'] });
  return { key, ciphertext, grantId };
}

it('a grant lets its grantee decrypt with no policy allowing it', async () => {
  const { ciphertext, grantId } = await grantedCiphertext('app');
  await expect(f.service.crypto.decrypt(withPolicy('app'), { ciphertext })).resolves.toMatchObject({ plaintext: Buffer.from('ledger') });
  const events = await f.storage.readAudit({ limit: 100, eventName: 'Decrypt' });
  expect(JSON.parse(events.at(-1)!.chain!.record).authorization).toEqual({ decision: 'allow', by: `grant:${grantId}` });
});

it("an identity policy's explicit Deny wins over the grant", async () => {
  const { ciphertext } = await grantedCiphertext('app');
  await expect(f.service.crypto.decrypt(withPolicy('app', denyDecrypt), { ciphertext })).rejects.toMatchObject({ code: 'ERR_ACCESS_DENIED' });
  const events = await f.storage.readAudit({ limit: 100, eventName: 'Decrypt' });
  expect(JSON.parse(events.at(-1)!.chain!.record).authorization).toEqual({ decision: 'deny', by: expect.stringContaining('NoDecrypt') });
});

it("the key policy's explicit Deny wins over the grant", async () => {
  const keyPolicy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'Account', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${SCOPE.accountId}:root` }, Action: 'kms:*', Resource: '*' },
      { Sid: 'NoApp', Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${SCOPE.accountId}:user/app` }, Action: 'kms:Decrypt', Resource: '*' },
    ],
  });
  const { ciphertext } = await grantedCiphertext('app', keyPolicy);
  await expect(f.service.crypto.decrypt(withPolicy('app'), { ciphertext })).rejects.toMatchObject({ code: 'ERR_ACCESS_DENIED' });
  await expect(f.service.crypto.decrypt(owner, { ciphertext })).resolves.toMatchObject({ plaintext: Buffer.from('ledger') });
});

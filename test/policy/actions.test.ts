// The action catalogue: every AWS KMS operation is a policy action (ReEncrypt as ReEncryptFrom/ReEncryptTo), every
// DataDefender operation a `datadefender:` action, and a policy naming anything else is refused.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATADEFENDER_ACTIONS, KMS_ACTIONS, iamAction } from '../../src/policy/actions.js';
import { parsePolicy } from '../../src/policy/policy-document.js';
import { AWS_OPERATIONS } from '../../src/protocols/aws-kms/operations/index.js';

const identity = (Action: string | string[]) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action, Resource: '*' }] });

describe('action catalogue', () => {
  it('names every AWS KMS operation the API table knows', () => {
    const fromApi = Object.keys(AWS_OPERATIONS).flatMap((op) => (op === 'ReEncrypt' ? ['ReEncryptFrom', 'ReEncryptTo'] : [op]));
    expect(fromApi.map((op) => `kms:${op}`).filter((a) => !KMS_ACTIONS.includes(a))).toEqual([]);
  });

  it('names every action DataDefender authorizes', async () => {
    const dirs = ['src/identity', 'src/core', 'src/protocols/rest/routes'];
    const used = new Set<string>();
    for (const dir of dirs) {
      for (const file of await readdir(join(process.cwd(), dir))) {
        const source = await readFile(join(process.cwd(), dir, file), 'utf8');
        for (const m of source.matchAll(/datadefender:([A-Z]\w+)/g)) used.add(`datadefender:${m[1]}`);
        for (const m of source.matchAll(/ddAction\('(\w+)'\)/g)) used.add(`datadefender:${m[1]}`);
      }
    }
    expect(used.size).toBeGreaterThan(20);
    expect([...used].filter((a) => !DATADEFENDER_ACTIONS.includes(a))).toEqual([]);
    expect(iamAction('Encrypt')).toBe('kms:Encrypt');
    expect(iamAction('datadefender:GetStatus')).toBe('datadefender:GetStatus');
  });

  it('refuses unknown actions, other services and wildcards that match nothing, with the reason', () => {
    for (const bad of ['kms:Encrpyt', 's3:GetObject', 'kms:Foo*', 'datadefender:DeleteEverything', 'iam:*']) {
      expect(() => parsePolicy(identity(bad), { kind: 'identity' }), bad).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED_POLICY', message: expect.stringContaining(`unknown action: ${bad}`) }));
    }
    for (const good of ['*', 'kms:*', 'kms:Get*', 'KMS:encrypt', 'kms:ReEncrypt*', 'datadefender:*', 'kms:ReplicateKey', 'datadefender:Approve?equest']) {
      expect(() => parsePolicy(identity(good), { kind: 'identity' }), good).not.toThrow();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { MalformedPolicyError } from '../../src/errors/index.js';
import { MAX_POLICY_BYTES, parsePolicy, type ParsePolicyOptions } from '../../src/policy/policy-document.js';

const ACCOUNT = '111122223333';
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
const KEY_OPTIONS: ParsePolicyOptions = { kind: 'key', resourceDefaultsToAny: true };
const doc = (...Statement: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const keyStatement = (extra: object = {}) => ({ Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'kms:*', Resource: '*', ...extra });
const identityStatement = (extra: object = {}) => ({ Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*', ...extra });

function reasonOf(text: string, options: ParsePolicyOptions): string {
  try {
    parsePolicy(text, options);
  } catch (err) {
    expect(err).toBeInstanceOf(MalformedPolicyError);
    expect((err as MalformedPolicyError).code).toBe('ERR_MALFORMED_POLICY');
    return (err as Error).message;
  }
  throw new Error('parsed without error');
}

describe('parsePolicy: the model', () => {
  it('parses a key policy into a frozen, compiled model', () => {
    const p = parsePolicy(
      doc(
        { Sid: 'Enable IAM User Permissions', ...keyStatement() },
        {
          Sid: 'Use',
          Effect: 'Deny',
          NotPrincipal: { AWS: [`arn:aws:iam::${ACCOUNT}:user/alice`, ACCOUNT], Service: 's3.amazonaws.com' },
          NotAction: ['kms:Describe*', 'kms:List*'],
          NotResource: 'arn:aws:kms:*:111122223333:key/*',
          Condition: { StringEquals: { 'kms:EncryptionContext:Tenant': ['a', 'b'] }, Bool: { 'aws:SecureTransport': false } },
        },
      ),
      KEY_OPTIONS,
    );
    expect(p.kind).toBe('key');
    expect(p.version).toBe('2012-10-17');
    expect(p).not.toHaveProperty('id');
    expect(p.statements).toHaveLength(2);
    const [first, second] = p.statements;
    expect(first).toMatchObject({ index: 0, sid: 'Enable IAM User Permissions', effect: 'Allow', actions: { negated: false, patterns: ['kms:*'] } });
    expect([...first!.principal!.accounts]).toEqual([`aws:${ACCOUNT}`]);
    expect(second).toMatchObject({ index: 1, sid: 'Use', effect: 'Deny', actions: { negated: true }, resources: { negated: true, patterns: ['arn:aws:kms:*:111122223333:key/*'] } });
    expect(second!.principal).toMatchObject({ negated: true, any: false });
    expect([...second!.principal!.arns]).toEqual([`arn:aws:iam::${ACCOUNT}:user/alice`]);
    expect([...second!.principal!.services]).toEqual(['s3.amazonaws.com']);
    expect(second!.conditions.map((c) => [c.operator, c.key, c.values])).toEqual([
      ['StringEquals', 'kms:encryptioncontext:tenant', ['a', 'b']],
      ['Bool', 'aws:securetransport', [false]],
    ]);
    expect(second!.actions.match('kms:describekey')).toBe(true);
    for (const frozen of [p, p.statements, first, first!.actions, first!.actions.patterns, first!.resources, first!.conditions, p.json, (p.json.Statement as object[])[1]]) {
      expect(Object.isFrozen(frozen)).toBe(true);
    }
  });

  it('accepts a lone statement object, an absent Version (2008-10-17) and an Id', () => {
    const p = parsePolicy(JSON.stringify({ Id: 'my-policy', Statement: identityStatement() }), { kind: 'identity' });
    expect(p.version).toBe('2008-10-17');
    expect(p.id).toBe('my-policy');
    expect(p.statements[0]).not.toHaveProperty('principal');
    expect(p.statements[0]).not.toHaveProperty('sid');
    expect(parsePolicy(JSON.stringify({ Version: '2008-10-17', Statement: [identityStatement()] }), { kind: 'identity' }).version).toBe('2008-10-17');
  });

  it('reads an absent Resource as "*" only when asked to', () => {
    const text = doc({ Effect: 'Allow', Principal: '*', Action: 'kms:Encrypt' });
    expect(parsePolicy(text, KEY_OPTIONS).statements[0]!.resources).toMatchObject({ negated: false, patterns: ['*'] });
    expect(reasonOf(text, { kind: 'key' })).toBe('Policy statement must contain resources.');
    expect(reasonOf(doc({ Effect: 'Allow', Action: 'kms:Encrypt' }), { kind: 'identity' })).toBe('Policy statement must contain resources.');
  });

  it('accepts every principal form AWS documents', () => {
    const principals = [
      '*',
      { AWS: '*' },
      { AWS: ACCOUNT },
      { AWS: [ROOT, `arn:aws:iam::${ACCOUNT}:user/division/team/alice`] },
      { AWS: `arn:aws:iam::${ACCOUNT}:role/path/KeyUsers` },
      { AWS: `arn:aws:sts::${ACCOUNT}:assumed-role/KeyUsers/session-1` },
      { AWS: `arn:aws:sts::${ACCOUNT}:federated-user/bob` },
      { AWS: `arn:aws-cn:iam::${ACCOUNT}:root` },
      { AWS: `arn:aws-us-gov:iam::${ACCOUNT}:user/x+y=z,a.b@c_d-e` },
      { Service: ['s3.amazonaws.com', 'logs.us-east-1.amazonaws.com'] },
    ];
    for (const Principal of principals) expect(() => parsePolicy(doc(keyStatement({ Principal })), KEY_OPTIONS), JSON.stringify(Principal)).not.toThrow();
    expect([...parsePolicy(doc(keyStatement({ Principal: { AWS: ACCOUNT } })), { ...KEY_OPTIONS, partition: 'aws-cn' }).statements[0]!.principal!.accounts]).toEqual([
      `aws-cn:${ACCOUNT}`,
    ]);
    expect(parsePolicy(doc(keyStatement({ Principal: '*' })), { kind: 'grant' }).kind).toBe('grant');
  });

  it('takes exactly 32 KB and no more', () => {
    const base = JSON.stringify({ Id: '', Statement: identityStatement() });
    const exact = JSON.stringify({ Id: 'x'.repeat(MAX_POLICY_BYTES - base.length), Statement: identityStatement() });
    expect(Buffer.byteLength(exact)).toBe(MAX_POLICY_BYTES);
    expect(() => parsePolicy(exact, { kind: 'identity' })).not.toThrow();
    const multibyte = JSON.stringify({ Id: 'é'.repeat((MAX_POLICY_BYTES - base.length) / 2 + 1), Statement: identityStatement() });
    expect(multibyte.length).toBeLessThan(MAX_POLICY_BYTES);
    expect(reasonOf(multibyte, { kind: 'identity' })).toBe('The policy document exceeds the maximum size of 32768 bytes.');
  });
});

describe('parsePolicy: malformed documents, each with its reason', () => {
  const INVALID_PRINCIPALS = 'Policy contains a statement with one or more invalid principals.';
  const VENDOR = 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.';
  const cases: Array<[label: string, text: string, options: ParsePolicyOptions, reason: string]> = [
    ['not JSON', '{"Statement": [', KEY_OPTIONS, 'The policy document is not valid JSON.'],
    ['empty text', '', KEY_OPTIONS, 'The policy document is not valid JSON.'],
    ['an array', '[]', KEY_OPTIONS, 'The policy document must be a JSON object.'],
    ['a string', '"policy"', KEY_OPTIONS, 'The policy document must be a JSON object.'],
    ['null', 'null', KEY_OPTIONS, 'The policy document must be a JSON object.'],
    ['unknown top-level field', JSON.stringify({ Statement: [keyStatement()], Foo: 1 }), KEY_OPTIONS, 'The policy document contains an unknown field: Foo'],
    ['lower-case field name', JSON.stringify({ version: '2012-10-17', Statement: [keyStatement()] }), KEY_OPTIONS, 'The policy document contains an unknown field: version'],
    ['unknown Version', JSON.stringify({ Version: '2020-01-01', Statement: [keyStatement()] }), KEY_OPTIONS, 'The policy Version must be 2012-10-17 or 2008-10-17.'],
    ['numeric Version', JSON.stringify({ Version: 2012, Statement: [keyStatement()] }), KEY_OPTIONS, 'The policy Version must be 2012-10-17 or 2008-10-17.'],
    ['numeric Id', JSON.stringify({ Id: 5, Statement: [keyStatement()] }), KEY_OPTIONS, 'The policy Id must be a string.'],
    ['no Statement', JSON.stringify({ Version: '2012-10-17' }), KEY_OPTIONS, 'The policy document must contain at least one statement.'],
    ['empty Statement', doc(), KEY_OPTIONS, 'The policy document must contain at least one statement.'],
    ['a statement that is a string', doc('Allow'), KEY_OPTIONS, 'Each policy statement must be a JSON object.'],
    ['a null statement', JSON.stringify({ Statement: null }), KEY_OPTIONS, 'Each policy statement must be a JSON object.'],
    ['unknown statement field', doc(keyStatement({ Actions: 'kms:*' })), KEY_OPTIONS, 'Policy statement contains an unknown field: Actions'],
    ['numeric Sid', doc(keyStatement({ Sid: 5 })), KEY_OPTIONS, 'Policy statement Sid must be a string.'],
    ['lower-case Effect', doc(keyStatement({ Effect: 'allow' })), KEY_OPTIONS, 'Policy statement Effect must be Allow or Deny.'],
    ['no Effect', doc({ Principal: '*', Action: 'kms:*' }), KEY_OPTIONS, 'Policy statement Effect must be Allow or Deny.'],
    ['no Action', doc({ Effect: 'Allow', Principal: '*', Resource: '*' }), KEY_OPTIONS, 'Policy statement must contain actions.'],
    ['empty Action list', doc(keyStatement({ Action: [] })), KEY_OPTIONS, 'Policy statement must contain actions.'],
    ['empty action name', doc(keyStatement({ Action: [''] })), KEY_OPTIONS, 'Policy statement must contain actions.'],
    ['numeric Action', doc(keyStatement({ Action: 5 })), KEY_OPTIONS, 'Policy statement must contain actions.'],
    ['Action and NotAction', doc(keyStatement({ NotAction: 'kms:Decrypt' })), KEY_OPTIONS, 'Policy statement must contain only one of Action and NotAction.'],
    ['action without vendor', doc(keyStatement({ Action: 'Encrypt' })), KEY_OPTIONS, VENDOR],
    ['action with empty name', doc(keyStatement({ Action: ['kms:Encrypt', 'kms:'] })), KEY_OPTIONS, VENDOR],
    ['action with a space', doc(keyStatement({ NotAction: 'kms:Re Encrypt', Action: undefined })), KEY_OPTIONS, VENDOR],
    ['Resource and NotResource', doc(keyStatement({ NotResource: '*' })), KEY_OPTIONS, 'Policy statement must contain only one of Resource and NotResource.'],
    ['resource that is not an ARN', doc(keyStatement({ Resource: 'key/1234' })), KEY_OPTIONS, 'Resource key/1234 must be in ARN format or "*".'],
    ['empty Resource list', doc(keyStatement({ Resource: [] })), KEY_OPTIONS, 'Policy statement must contain resources.'],
    ['key policy without principal', doc({ Effect: 'Allow', Action: 'kms:*', Resource: '*' }), KEY_OPTIONS, 'Policy contains a statement with no principal.'],
    ['grant without principal', doc({ Effect: 'Allow', Action: 'kms:*', Resource: '*' }), { kind: 'grant' }, 'Policy contains a statement with no principal.'],
    ['Principal and NotPrincipal', doc(keyStatement({ NotPrincipal: '*' })), KEY_OPTIONS, 'Policy statement must contain only one of Principal and NotPrincipal.'],
    ['identity policy with Principal', doc(identityStatement({ Principal: '*' })), { kind: 'identity' }, 'Policy document should not specify a principal.'],
    ['identity policy with NotPrincipal', doc(identityStatement({ NotPrincipal: { AWS: ROOT } })), { kind: 'identity' }, 'Policy document should not specify a principal.'],
    ['Condition that is a string', doc(keyStatement({ Condition: 'x' })), KEY_OPTIONS, 'Policy statement Condition must be a JSON object.'],
    ['Condition operator mapped to a string', doc(keyStatement({ Condition: { StringEquals: 'x' } })), KEY_OPTIONS, 'Condition operator StringEquals must map condition keys to values.'],
    ['Condition value that is an object', doc(keyStatement({ Condition: { StringEquals: { 'kms:k': { a: 1 } } } })), KEY_OPTIONS, 'Condition values for key kms:k must be strings, numbers or booleans.'],
    ['Condition value null', doc(keyStatement({ Condition: { StringEquals: { 'kms:k': [null] } } })), KEY_OPTIONS, 'Condition values for key kms:k must be strings, numbers or booleans.'],
    ['unknown condition operator', doc(keyStatement({ Condition: { StringEqualz: { 'kms:k': 'x' } } })), KEY_OPTIONS, 'Unknown condition operator: StringEqualz'],
    ['empty condition values', doc(keyStatement({ Condition: { StringEquals: { 'kms:k': [] } } })), KEY_OPTIONS, 'Condition operator StringEquals has no values for key kms:k.'],
  ];
  it.each(cases)('%s', (_label, text, options, reason) => expect(reasonOf(text, options)).toBe(reason));

  const badPrincipals: unknown[] = [
    'arn:aws:iam::111122223333:root',
    ['*'],
    {},
    { AWS: [] },
    { AWS: 5 },
    { AWS: [ROOT, 7] },
    { AWS: 'arn:aws:iam::111122223333:user/*' },
    { AWS: 'arn:aws:iam::*:root' },
    { AWS: 'arn:aws:iam::11112222333:root' },
    { AWS: 'arn:aws:iam::111122223333:group/admins' },
    { AWS: 'arn:aws:iam:us-east-1:111122223333:root' },
    { AWS: 'arn:foo:iam::111122223333:root' },
    { AWS: 'arn:aws:s3:::bucket' },
    { AWS: 'arn:aws:ec2::111122223333:root' },
    { AWS: 'arn:aws:sts::111122223333:assumed-role/R' },
    { AWS: 'arn:aws:sts::111122223333:root' },
    { AWS: 'alice' },
    { Service: '*' },
    { Service: 'S3.AMAZONAWS.COM' },
    { Federated: 'cognito-identity.amazonaws.com' },
    { CanonicalUser: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be' },
  ];
  it.each(badPrincipals.map((p) => [JSON.stringify(p), p]))('invalid principal %s', (_label, Principal) => {
    expect(reasonOf(doc(keyStatement({ Principal })), KEY_OPTIONS)).toBe(INVALID_PRINCIPALS);
  });

  it('refuses NotPrincipal "*" (it would name nobody)', () => {
    expect(reasonOf(doc(keyStatement({ Principal: undefined, NotPrincipal: '*' })), KEY_OPTIONS)).toBe(INVALID_PRINCIPALS);
    expect(reasonOf(doc(keyStatement({ Principal: undefined, NotPrincipal: { AWS: '*' } })), KEY_OPTIONS)).toBe(INVALID_PRINCIPALS);
  });

  it('refuses text that is not a string', () => {
    expect(reasonOf({ Statement: [] } as unknown as string, KEY_OPTIONS)).toBe('The policy document must be JSON text.');
  });
});

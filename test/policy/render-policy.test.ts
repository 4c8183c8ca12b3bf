import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors/index.js';
import { buildDefaultKeyPolicy, DEFAULT_KEY_POLICY_ID } from '../../src/policy/default-key-policy.js';
import { parsePolicy, type JsonValue } from '../../src/policy/policy-document.js';
import { renderPolicy } from '../../src/policy/render-policy.js';

// AWS KMS API Reference, GetKeyPolicy example (botocore examples-1.json): the default policy as AWS returns it.
const AWS_DEFAULT_POLICY =
  '{\n  "Version" : "2012-10-17",\n  "Id" : "key-default-1",\n  "Statement" : [ {\n    "Sid" : "Enable IAM User Permissions",\n    "Effect" : "Allow",\n' +
  '    "Principal" : {\n      "AWS" : "arn:aws:iam::111122223333:root"\n    },\n    "Action" : "kms:*",\n    "Resource" : "*"\n  } ]\n}';

describe('buildDefaultKeyPolicy', () => {
  it('is the document AWS creates, rendered byte-for-byte as GetKeyPolicy shows it', () => {
    const policy = buildDefaultKeyPolicy('111122223333');
    expect(renderPolicy(policy)).toBe(AWS_DEFAULT_POLICY);
    expect(policy.Id).toBe(DEFAULT_KEY_POLICY_ID);
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen((policy.Statement as JsonValue[])[0])).toBe(true);
    const parsed = parsePolicy(renderPolicy(policy), { kind: 'key' });
    expect(parsed.json).toEqual(policy);
  });

  it('takes the partition, and refuses malformed account ids and partitions', () => {
    expect(renderPolicy(buildDefaultKeyPolicy('111122223333', 'aws-cn'))).toContain('"AWS" : "arn:aws-cn:iam::111122223333:root"');
    expect(() => buildDefaultKeyPolicy('11112222333')).toThrow(ValidationError);
    expect(() => buildDefaultKeyPolicy('abc')).toThrow('An account id is 12 digits.');
    expect(() => buildDefaultKeyPolicy('111122223333', 'AWS')).toThrow('Invalid partition.');
  });
});

describe('renderPolicy', () => {
  it('writes Jackson pretty-printer style: inline arrays, indented objects, " : "', () => {
    const doc: JsonValue = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'A', Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::111122223333:user/a', 'arn:aws:iam::111122223333:user/b'] }, Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: '*' },
        { Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': false }, NumericLessThan: { 'kms:X': 5 } } },
      ],
    };
    expect(renderPolicy(doc)).toBe(
      [
        '{',
        '  "Version" : "2012-10-17",',
        '  "Statement" : [ {',
        '    "Sid" : "A",',
        '    "Effect" : "Allow",',
        '    "Principal" : {',
        '      "AWS" : [ "arn:aws:iam::111122223333:user/a", "arn:aws:iam::111122223333:user/b" ]',
        '    },',
        '    "Action" : [ "kms:Encrypt", "kms:Decrypt" ],',
        '    "Resource" : "*"',
        '  }, {',
        '    "Effect" : "Deny",',
        '    "Principal" : "*",',
        '    "Action" : "kms:*",',
        '    "Resource" : "*",',
        '    "Condition" : {',
        '      "Bool" : {',
        '        "aws:SecureTransport" : false',
        '      },',
        '      "NumericLessThan" : {',
        '        "kms:X" : 5',
        '      }',
        '    }',
        '  } ]',
        '}',
      ].join('\n'),
    );
  });

  it('writes empty containers, scalars and escapes, and round-trips', () => {
    const value = { a: {}, b: [], c: null, d: true, e: 1.5, f: 'quote " backslash \\ newline \n tab \t é', g: [[1, 2], { h: [] }] };
    const out = renderPolicy(value);
    expect(out).toContain('"a" : { }');
    expect(out).toContain('"b" : [ ]');
    expect(out).toContain('"g" : [ [ 1, 2 ], {\n    "h" : [ ]\n  } ]');
    expect(JSON.parse(out)).toEqual(value);
    expect(renderPolicy('x')).toBe('"x"');
  });
});

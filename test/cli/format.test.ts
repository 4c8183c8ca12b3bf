import { describe, expect, it } from 'vitest';
import type { KeyView } from '../../src/cli/client/api-types.js';
import {
  formatDataKey,
  formatJson,
  formatKeyDetails,
  formatKeyTable,
  formatKeyValue,
  formatTable,
  formatWhoami,
  printable,
  printableText,
  truncate,
} from '../../src/cli/client/format.js';
import { documentText, dualControlText, summaryText } from '../../src/cli/client/access-format.js';
import { keyView } from './cli-harness.js';

const key = (o: Record<string, unknown> = {}) => keyView(o) as KeyView;

describe('formatTable', () => {
  it('aligns columns with two spaces and no trailing spaces', () => {
    expect(formatTable(['A', 'LONG HEADER', 'C'], [['xxxx', 'y', ''], ['z', 'yy', 'last']])).toBe(
      ['A     LONG HEADER  C', 'xxxx  y', 'z     yy           last', ''].join('\n'),
    );
  });

  it('counts characters, not UTF-16 units', () => {
    expect(formatTable(['N', 'X'], [['𝐀𝐀', '1'], ['a', '2']])).toBe('N   X\n𝐀𝐀  1\na   2\n');
  });
});

describe('formatKeyTable', () => {
  it('prints KEY ID, STATE, DESCRIPTION, VERSION, ROTATION', () => {
    const out = formatKeyTable([
      key(),
      key({ keyId: 'k2', state: 'PendingDeletion', description: '', currentVersion: 12, rotation: { enabled: false, periodInDays: null, nextRotationAt: null } }),
    ]);
    expect(out.split('\n')).toEqual([
      'KEY ID                                STATE            DESCRIPTION  VERSION  ROTATION',
      '1234abcd-12ab-34cd-56ef-1234567890ab  Enabled          payments     1        every 365 days',
      'k2                                    PendingDeletion  -            12       off',
      '',
    ]);
  });

  it('says so when there are no keys', () => {
    expect(formatKeyTable([])).toBe('No keys.\n');
  });

  it('truncates long descriptions and neutralises control characters', () => {
    const out = formatKeyTable([key({ description: `evil\x1b[31mred\nsecond line ${'x'.repeat(100)}` })]);
    expect(out).not.toMatch(/\x1b/);
    expect(out.trimEnd().split('\n')).toHaveLength(2);
    expect(out).toContain('evil?[31mred?second line xxx');
    expect(out).toContain('…');
  });
});

describe('formatKeyDetails', () => {
  it('prints an aligned Label: value block', () => {
    const out = formatKeyDetails(key({ tags: { team: 'payments', env: 'prod' }, deletionAt: '2025-02-01T00:00:00.000Z', state: 'PendingDeletion' }));
    expect(out).toBe(
      [
        'Key ID:          1234abcd-12ab-34cd-56ef-1234567890ab',
        'ARN:             arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        'Description:     payments',
        'State:           PendingDeletion',
        'Key spec:        SYMMETRIC_DEFAULT',
        'Key usage:       ENCRYPT_DECRYPT',
        'Created:         2025-01-02T03:04:05.000Z',
        'Current version: 1',
        `Key material:    ${'a'.repeat(64)}`,
        'Rotation:        every 365 days',
        'Next rotation:   2026-01-02T03:04:05.000Z',
        'Deletion date:   2025-02-01T00:00:00.000Z',
        'Tags:            env=prod, team=payments',
        '',
      ].join('\n'),
    );
  });

  it('shows "-" for no description and no tags and omits absent dates', () => {
    const out = formatKeyDetails(key({ description: '', rotation: { enabled: false, periodInDays: null, nextRotationAt: null } }));
    expect(out).toContain('Description:     -\n');
    expect(out).toContain('Rotation:        off\n');
    expect(out).toContain('Tags:            -\n');
    expect(out).not.toContain('Next rotation');
    expect(out).not.toContain('Deletion date');
  });
});

describe('other blocks', () => {
  it('formats a data key with and without its plaintext', () => {
    expect(formatDataKey({ keyId: 'arn:k', keyVersion: 2, ciphertext: 'Q1Q=', plaintext: 'UFQ=' })).toBe(
      'Key ID:      arn:k\nKey version: 2\nCiphertext:  Q1Q=\nPlaintext:   UFQ=\n',
    );
    expect(formatDataKey({ keyId: 'arn:k', ciphertext: 'Q1Q=' })).toBe('Key ID:     arn:k\nCiphertext: Q1Q=\n');
  });

  it('formats whoami with roles, policies and tags', () => {
    expect(
      formatWhoami({
        principal: { name: 'admin', arn: 'arn:aws:iam::1:user/admin', roles: ['administrator', 'auditor'], policies: ['p1', 'p2'], tags: { team: 'ops', env: 'prod' }, credential: 'token:abc' },
      }),
    ).toBe(
      [
        'Name:       admin',
        'ARN:        arn:aws:iam::1:user/admin',
        'Roles:      administrator, auditor',
        'Policies:   p1, p2',
        'Tags:       env=prod, team=ops',
        'Credential: token:abc',
        '',
      ].join('\n'),
    );
    expect(formatWhoami({ principal: { arn: 'a', roles: [] } })).toBe('ARN:      a\nRoles:    -\nPolicies: -\nTags:     -\n');
  });

  it('pretty-prints JSON with two spaces and a final newline', () => {
    expect(formatJson({ a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}\n');
  });

  it('helpers', () => {
    expect(printable('a\tb\u009bc\u007f')).toBe('a?b?c?');
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abcd', 4)).toBe('abcd');
    expect(formatKeyValue([])).toBe('');
  });
});

describe('access-control formatting helpers', () => {
  it('printableText keeps lines and tabs, turns CR LF into LF and other controls into "?"', () => {
    expect(printableText('a\r\nb\tc\rd\x1be\u009b')).toBe('a\nb\tc?d?e?');
  });

  it('documentText ends with exactly one newline', () => {
    expect(documentText('{}')).toBe('{}\n');
    expect(documentText('{}\n\n')).toBe('{}\n');
  });

  it('summaryText and dualControlText', () => {
    expect(summaryText({ b: 2, a: 'x', c: { d: [1] } })).toBe('a=x, b=2, c={"d":[1]}');
    expect(summaryText({})).toBe('-');
    expect(summaryText(null)).toBe('-');
    expect(summaryText('text')).toBe('text');
    expect(dualControlText(undefined)).toBe('off');
    expect(dualControlText({ enabled: false, operations: ['X'] })).toBe('off');
    expect(dualControlText({ enabled: true, operations: ['ScheduleKeyDeletion'] })).toBe('on (1 operation: ScheduleKeyDeletion)');
    expect(dualControlText({ enabled: true })).toBe('on (0 operations)');
  });
});

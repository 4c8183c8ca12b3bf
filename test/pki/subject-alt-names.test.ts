/**
 * Host normalization for server certificates.
 */
import { describe, expect, it } from 'vitest';
import { normalizeHost, serverCertificateHosts } from '../../src/pki/subject-alt-names.js';

describe('normalizeHost', () => {
  it.each([
    ['localhost', { type: 'dns', value: 'localhost' }],
    ['KMS.Example.COM.', { type: 'dns', value: 'kms.example.com' }],
    ['xn--bcher-kva.example', { type: 'dns', value: 'xn--bcher-kva.example' }],
    ['10.0.0.1', { type: 'ip', value: '10.0.0.1' }],
    ['[::1]', { type: 'ip', value: '::1' }],
    ['0:0:0:0:0:0:0:1', { type: 'ip', value: '::1' }],
    ['FE80::1%eth0', { type: 'ip', value: 'fe80::1' }],
    ['2001:DB8:0:0:0:0:0:1', { type: 'ip', value: '2001:db8::1' }],
    ['0.0.0.0', undefined],
    ['::', undefined],
    ['[::]', undefined],
  ] as const)('%s', (host, expected) => {
    expect(normalizeHost(host)).toEqual(expected);
  });

  it.each(['', ' ', 'a b', '*.example.com', 'exa_mple.com', 'a..b', '-a.b', 'a-.b', `${'a'.repeat(64)}.b`, `${'a.'.repeat(127)}a`, 'https://x', 'x:443'])(
    'rejects %j',
    (host) => {
      expect(() => normalizeHost(host)).toThrow(expect.objectContaining({ code: 'ERR_VALIDATION' }));
    },
  );
});

describe('serverCertificateHosts', () => {
  it('keeps order, drops duplicates and unspecified addresses, and always adds the loopback hosts', () => {
    expect(serverCertificateHosts(['::', 'b.test', '127.0.0.1', 'B.test', 'a.test'])).toEqual([
      { type: 'dns', value: 'b.test' },
      { type: 'ip', value: '127.0.0.1' },
      { type: 'dns', value: 'a.test' },
      { type: 'dns', value: 'localhost' },
      { type: 'ip', value: '::1' },
    ]);
  });
});

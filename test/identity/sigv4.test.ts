import { describe, expect, it } from 'vitest';
import { canonicalRequest, parseAuthorization } from '../../src/identity/sigv4.js';

const SIG = 'a'.repeat(64);

describe('SigV4 parsing and canonicalization', () => {
  it('parses the SDK format and any other spacing to the same result', () => {
    const sdk = `AWS4-HMAC-SHA256 Credential=DDAKAAAAAAAAAAAAAAAA/20261128/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=${SIG}`;
    const spaced = `AWS4-HMAC-SHA256 Credential = DDAKAAAAAAAAAAAAAAAA/20261128/us-east-1/kms/aws4_request ,SignedHeaders=host;x-amz-date,  Signature=${SIG}`;
    const expected = { accessKeyId: 'DDAKAAAAAAAAAAAAAAAA', date: '20261128', region: 'us-east-1', service: 'kms', signedHeaders: ['host', 'x-amz-date'], signature: SIG };
    expect(parseAuthorization(sdk)).toEqual(expected);
    expect(parseAuthorization(spaced)).toEqual(expected);
    for (const bad of ['AWS4-HMAC-SHA1 Credential=x', 'AWS4-HMAC-SHA256 Credential=x, SignedHeaders=host, Signature=zz', `AWS4-HMAC-SHA256 SignedHeaders=host, Signature=${SIG}`]) {
      expect(() => parseAuthorization(bad)).toThrow(expect.objectContaining({ code: 'ERR_UNAUTHENTICATED', reason: 'malformed' }));
    }
    expect(() => parseAuthorization(undefined)).toThrow(expect.objectContaining({ reason: 'missing' }));
  });

  it('builds the canonical request: normalized, re-encoded path, sorted query, collapsed header whitespace', () => {
    const request = {
      method: 'POST',
      path: '/a/./b/../c%20d/',
      query: 'z=1&a=%7E&b',
      headers: { host: 'h:8443', 'x-amz-date': '20261128T120000Z', 'x-custom': '  a \t b   c  ', multi: ['x', 'y'] },
      body: new Uint8Array(),
    };
    expect(canonicalRequest(request, ['host', 'multi', 'x-amz-date', 'x-custom'], 'HASH').split('\n')).toEqual([
      'POST',
      '/a/c%2520d/',
      'a=~&b=&z=1',
      'host:h:8443',
      'multi:x,y',
      'x-amz-date:20261128T120000Z',
      'x-custom:a b c',
      '',
      'host;multi;x-amz-date;x-custom',
      'HASH',
    ]);
    expect(() => canonicalRequest({ ...request, query: 'a=%E0%A4%A' }, ['host'], 'H')).toThrow(expect.objectContaining({ reason: 'bad-signature' }));
    expect(() => canonicalRequest(request, ['absent'], 'H')).toThrow(expect.objectContaining({ reason: 'bad-signature' }));
  });
});

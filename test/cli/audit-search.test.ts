/**
 * `datadefender audit search --hash | --value-stdin` against the recording HTTPS server: the keyed hashes become
 * repeated `hash=` query parameters; a value is read from standard input, hashed by the server (POST /v1/audit/hash)
 * and never put in the search; a malformed --hash is refused before anything is sent.
 */
import { describe, expect, it } from 'vitest';
import { runCli, useRecordingServer } from './cli-harness.js';

const fx = useRecordingServer('ddt_test-token-123');
const H1 = `hmac-sha256:audit-hmac-1:${'ab'.repeat(32)}`;
const H2 = `hmac-sha256:audit-hmac-2:${'cd'.repeat(32)}`;
const EVENT = {
  sequence: 7,
  eventTime: '2025-01-02T03:04:05.000Z',
  eventName: 'Encrypt',
  principal: 'arn:aws:iam::111122223333:user/alice',
  outcome: 'success',
  resource: 'arn:aws:kms:us-east-1:111122223333:key/x',
  requestId: 'req-1',
};
const LINE = `7\t2025-01-02T03:04:05.000Z\tEncrypt\tsuccess\t${EVENT.principal}\t${EVENT.resource}\treq-1\n`;
const hashesOf = (url: string) => new URL(url, 'https://x').searchParams.getAll('hash');

describe('audit search by keyed hash', () => {
  it('sends each --hash as a hash= parameter, with the other filters', async () => {
    fx.server.handle(() => ({ status: 200, body: { events: [EVENT] } }));
    const run = await runCli([...fx.conn, 'audit', 'search', '--hash', H1, '--hash', H2, '--event-name', 'Encrypt', '--limit', '5']);
    expect(run).toEqual({ code: 0, stdout: LINE, stderr: '' });
    const req = fx.only();
    expect(req.method).toBe('GET');
    expect(new URL(req.url, 'https://x').pathname).toBe('/v1/audit/events');
    expect(hashesOf(req.url)).toEqual([H1, H2]);
    expect(new URL(req.url, 'https://x').searchParams.get('eventName')).toBe('Encrypt');

    // Tab-separated fields, each made printable on its own (a control character in a field cannot fake a column).
    fx.server.handle(() => ({ status: 200, body: { events: [{ ...EVENT, resource: null, principal: 'evil\tprincipal\u001b[31m' }], nextAfter: 7 } }));
    const odd = await runCli([...fx.conn, 'audit', 'search', '--hash', H1]);
    expect(odd.stdout).toBe('7\t2025-01-02T03:04:05.000Z\tEncrypt\tsuccess\tevil?principal?[31m\t-\treq-1\nMore: --after 7\n');
  });

  it('--value-stdin hashes the value read from standard input on the server and searches for every hash', async () => {
    fx.server.handle((req) =>
      req.method === 'POST' ? { status: 200, body: { hashes: [{ keyId: 'audit-hmac-1', hash: H1 }, { keyId: 'audit-hmac-2', hash: H2 }] } } : { status: 200, body: { events: [EVENT] } },
    );
    const run = await runCli([...fx.conn, 'audit', 'search', '--value-stdin'], { stdin: 'tenant-secret\n' });
    expect(run).toEqual({ code: 0, stdout: LINE, stderr: '' });
    const [hash, search] = fx.server.requests;
    expect(fx.server.requests).toHaveLength(2);
    expect(hash).toMatchObject({ method: 'POST', url: '/v1/audit/hash', body: { value: 'tenant-secret' } });
    expect(hashesOf(search!.url)).toEqual([H1, H2]);
    expect(search!.url).not.toContain('tenant-secret');
  });

  it('refuses a malformed --hash before sending anything', async () => {
    for (const bad of [H1.toUpperCase(), `${H1.slice(0, -1)}%`, 'hmac-sha256:audit-hmac-1:_', 'plain value']) {
      const run = await runCli([...fx.conn, 'audit', 'search', '--hash', bad]);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/--hash <hash>.*is invalid\. Expected a keyed hash/);
    }
    expect(fx.server.requests).toHaveLength(0);
  });
});

/**
 * The audit trail's small parts: canonical JSON, the CloudTrail record's user identity and resources, range
 * (anchored) verification, the export parser, and the syslog follower over a real UDP socket.
 */
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/audit/canonical-json.js';
import { eventRecord } from '../../src/audit/event-record.js';
import { eventLine, parseExportBuffer, parseExportLine } from '../../src/audit/export-format.js';
import { openStreamSink, streamLine } from '../../src/audit/stream-sinks.js';
import { verifyTrail } from '../../src/audit/verifier.js';
import { createAuditChain } from '../../src/audit/audit-chain.js';
import { makeEvent } from '../storage/storage-contract.js';
import { header, validChain } from './golden-chain.js';

describe('canonical JSON', () => {
  it('sorts keys, drops undefined members, keeps arrays in order and rejects non-JSON values', () => {
    expect(canonicalJson({ b: 1, a: [3, undefined, { d: null, c: 'é' }], u: undefined, t: new Date(0) })).toBe('{"a":[3,null,{"c":"é","d":null}],"b":1,"t":"1970-01-01T00:00:00.000Z"}');
    expect(() => canonicalJson({ x: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
  });
});

describe('the CloudTrail-shaped record', () => {
  const pos = { id: 'c', sequence: 1, previousHash: '0'.repeat(64) };
  it('names the credential without secrets, per kind', () => {
    const r = (principal: string, credential: string | null) => eventRecord(makeEvent({ principal, credential }), pos).userIdentity;
    expect(r('arn:aws:iam::111122223333:user/a', 'access-key:DDAK1')).toMatchObject({ type: 'IAMUser', credentialKind: 'access-key', accessKeyId: 'DDAK1' });
    expect(r('arn:aws:iam::111122223333:role/svc', 'token:acc-1')).toMatchObject({ type: 'AssumedRole', tokenAccessor: 'acc-1' });
    expect(r('arn:aws:iam::111122223333:user/a', `certificate:${'ab'.repeat(32)}`)).toMatchObject({ clientCertificateFingerprint: 'ab'.repeat(32) });
    expect(r('anonymous', null)).toMatchObject({ type: 'Anonymous', credentialKind: 'none' });
    expect(r('arn:aws:iam::111122223333:role/system', 'job')).toMatchObject({ type: 'AWSService', credentialKind: 'job' });
  });
  it('maps sources, resources, the decision, the approval and response elements', () => {
    const record = eventRecord(
      makeEvent({
        eventSource: 'job',
        resource: 'arn:aws:kms:us-east-1:111122223333:alias/x',
        details: { authorization: { decision: 'allow' }, approval: { id: 'a1' }, response: { keyVersion: 2 }, keySpec: 'SYMMETRIC_DEFAULT' },
      }),
      pos,
    );
    expect(record).toMatchObject({
      eventSource: 'datadefender.jobs',
      eventType: 'AwsServiceEvent',
      resources: [{ type: 'AWS::KMS::Alias' }],
      authorization: { decision: 'allow' },
      approval: { id: 'a1' },
      responseElements: { keyVersion: 2 },
      requestParameters: { keySpec: 'SYMMETRIC_DEFAULT' },
    });
  });
});

describe('range verification and the export parser', () => {
  it('verifies a range of a chain from its first event (anchored), and rejects it unanchored', async () => {
    const { lines } = validChain(10, [10]);
    const partial = [lines[0]!, ...lines.slice(2 + 3)];
    const keys = new Map<string, Uint8Array>();
    expect((await verifyTrail(partial, { publicKeys: keys, anchored: true })).ok).toBe(true);
    expect((await verifyTrail(partial, { publicKeys: keys })).firstBreak).toMatchObject({ kind: 'deleted', sequence: 1 });
  });

  it('parses a buffer line by line, skipping blank lines, and names a malformed line', () => {
    const chain = createAuditChain(() => 'c1');
    const [e] = chain.link([makeEvent()]);
    const text = `${JSON.stringify(header())}\n\n${JSON.stringify(eventLine(e!.chain!))}\n`;
    expect([...parseExportBuffer(Buffer.from(text))].map((l) => l.type)).toEqual(['header', 'event']);
    expect(() => [...parseExportBuffer(Buffer.from(`${text}{"type":"event"}\n`))]).toThrow(/Line 4 /);
    expect(() => parseExportLine('not json', 7)).toThrow(/Line 7 of the export is not JSON/);
  });
});

describe('the syslog follower', () => {
  it('sends one RFC 5424 message per durable event over UDP', async () => {
    const server = createSocket('udp4');
    const received: string[] = [];
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    server.on('message', (m) => received.push(m.toString()));
    const sink = openStreamSink(`syslog://127.0.0.1:${server.address().port}`);
    const linked = createAuditChain().link([makeEvent({ eventName: 'Encrypt' }), makeEvent({ outcome: 'denied' })]);
    sink.write(linked);
    sink.write([makeEvent()]); // not chained: nothing to send
    for (let i = 0; i < 50 && received.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    await sink.close();
    server.close();
    expect(received).toHaveLength(2);
    expect(received[0]).toMatch(/^<85>1 \S+ - datadefender - Encrypt - \{"hash":"[0-9a-f]{64}","record":\{/);
    expect(received[1]).toMatch(/^<84>1 /);
    expect(streamLine(linked[0]!)).toContain(linked[0]!.chain!.hash);
    expect(sink.name).toMatch(/^syslog:127\.0\.0\.1:\d+$/);
    expect(sink.dropped()).toBe(0);
  });
});

describe('an event that cannot be serialized', () => {
  it('fails that batch closed and the chain moves on without a gap', async () => {
    const { createAuditLog } = await import('../../src/audit/audit-log.js');
    const appended: import('../../src/ports/audit-sink.js').AuditEvent[] = [];
    const errors: unknown[] = [];
    const log = createAuditLog({ sink: { append: async (e) => void appended.push(...e), readAudit: async () => [] }, onSinkError: (e) => errors.push(e) });
    await expect(log.record(makeEvent({ details: { n: 10n } }))).rejects.toMatchObject({ code: 'ERR_AUDIT_UNAVAILABLE' });
    await log.record(makeEvent());
    expect(errors).toHaveLength(1);
    expect(appended.map((e) => e.chain!.sequence)).toEqual([1]);
  });
});

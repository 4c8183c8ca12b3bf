/**
 * Streaming followers of the audit trail for SIEMs: JSON lines to a file or stdout, and syslog (RFC 5424 over UDP).
 * They receive each batch after it is durable in the primary trail (audit-log.ts `onDurable`), one JSON object per
 * event: the CloudTrail record plus its chain hash.
 * Invariants: a follower never blocks or fails a request and never loses an event from the primary trail (it only
 * reads what is already durable); each has a bounded buffer and drops (and counts) lines when its destination is slow
 * or failing, so memory stays bounded; what it writes is the redacted record, no secret.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { AuditEvent } from '../ports/audit-sink.js';

export interface StreamSink {
  readonly name: string;
  write(events: readonly AuditEvent[]): void;
  /** Lines dropped because the destination was slow or failing. */
  dropped(): number;
  close(): Promise<void>;
}

/** The line for an event: its record with the chain hash (the record is already JSON text). */
export function streamLine(event: AuditEvent): string | undefined {
  if (!event.chain) return undefined;
  return `{"hash":${JSON.stringify(event.chain.hash)},"record":${event.chain.record}}`;
}

/** JSON lines to a file (appended, mode 0600) or to stdout (`-`). Drops when more than `maxBufferedBytes` wait. */
export function jsonLinesSink(target: string, options: { maxBufferedBytes?: number } = {}): StreamSink {
  const max = options.maxBufferedBytes ?? 8 * 1024 * 1024;
  const out: Writable | WriteStream = target === '-' ? process.stdout : createWriteStream(target, { flags: 'a', mode: 0o600 });
  let dropped = 0;
  let broken = false;
  out.on('error', () => {
    broken = true;
  });
  return {
    name: target === '-' ? 'stdout' : `file:${target}`,
    write(events) {
      for (const e of events) {
        const line = streamLine(e);
        if (line === undefined) continue;
        if (broken || out.writableLength > max) {
          dropped++;
          continue;
        }
        out.write(`${line}\n`);
      }
    },
    dropped: () => dropped,
    close: () =>
      new Promise<void>((resolve) => {
        if (out === process.stdout || broken) return resolve();
        (out as WriteStream).end(() => resolve());
      }),
  };
}

/** RFC 5424 syslog over UDP to `host:port` (facility authpriv, severity notice; failures: warning). */
export function syslogSink(host: string, port: number, options: { appName?: string; hostname?: string; maxInFlight?: number } = {}): StreamSink {
  const socket: Socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  socket.unref();
  socket.on('error', () => undefined);
  const appName = options.appName ?? 'datadefender';
  const hostname = options.hostname ?? '-';
  const maxInFlight = options.maxInFlight ?? 10_000;
  let inFlight = 0;
  let dropped = 0;
  return {
    name: `syslog:${host}:${port}`,
    write(events) {
      for (const e of events) {
        const line = streamLine(e);
        if (line === undefined) continue;
        if (inFlight >= maxInFlight) {
          dropped++;
          continue;
        }
        const severity = e.outcome === 'success' || e.outcome === 'attempt' ? 5 : 4;
        const pri = 10 * 8 + severity;
        const message = Buffer.from(`<${pri}>1 ${e.eventTime.toISOString()} ${hostname} ${appName} - ${e.eventName} - ${line}`, 'utf8');
        inFlight++;
        socket.send(message, port, host, (err) => {
          inFlight--;
          if (err) dropped++;
        });
      }
    },
    dropped: () => dropped,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** Parses a configured stream target: `-` (stdout), `syslog://host:port`, or a file path. */
export function openStreamSink(target: string): StreamSink {
  const syslog = /^syslog:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})$/.exec(target);
  if (syslog) return syslogSink(syslog[1]!.replace(/^\[|\]$/g, ''), Number(syslog[2]));
  return jsonLinesSink(target);
}

// Audit trail append cost per event, by group-commit batch size: the SQLite storage adapter (writer thread,
// synchronous=FULL) against raw better-sqlite3 inserting the same rows in one transaction per batch in the
// calling thread, also with synchronous=FULL, in the same run. CPU is counted over all threads of the process.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStorage } from '../dist/adapters/storage/sqlite/index.js';
import { fmt, printTable } from './stats.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 8192);
const BATCHES = [1, 8, 32, 128];

const event = () => ({
  eventId: randomUUID(),
  eventTime: new Date(),
  eventName: 'Encrypt',
  eventSource: 'rest',
  requestId: randomUUID(),
  principal: 'arn:aws:iam::111122223333:user/admin',
  credential: 'token:abcdefghijklmnop',
  sourceIp: '127.0.0.1',
  userAgent: 'bench',
  resource: `arn:aws:kms:us-east-1:111122223333:key/${randomUUID()}`,
  outcome: 'success',
  errorCode: null,
  readOnly: true,
  details: { plaintextBytes: 1024, encryptionContextKeys: ['tenant'], keyVersion: 1 },
});

async function measure(append, batch) {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < EVENTS / batch; i++) await append(Array.from({ length: batch }, event));
  const cpu = process.cpuUsage(cpu0);
  return { wall: Number(process.hrtime.bigint() - t0) / 1e3 / EVENTS, cpu: (cpu.user + cpu.system) / EVENTS };
}

export async function benchAuditAppend() {
  const dir = await mkdtemp(join(tmpdir(), 'dd-bench-audit-'));
  const storage = await openSqliteStorage({ file: join(dir, 'dd.db') });
  const raw = new Database(join(dir, 'raw.db'));
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  raw.exec('create table audit (sequence integer primary key autoincrement, event_id text, event_time integer, event_name text, event_source text, request_id text, principal text, credential text, source_ip text, user_agent text, resource text, outcome text, error_code text, read_only integer, details text)');
  const insert = raw.prepare('insert into audit (event_id, event_time, event_name, event_source, request_id, principal, credential, source_ip, user_agent, resource, outcome, error_code, read_only, details) values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)');
  const rawAppend = raw.transaction((events) => {
    for (const e of events) {
      insert.run(e.eventId, e.eventTime.getTime(), e.eventName, e.eventSource, e.requestId, e.principal, e.credential, e.sourceIp, e.userAgent, e.resource, e.outcome, e.errorCode, e.readOnly ? 1 : 0, JSON.stringify(e.details));
    }
  });
  try {
    const rows = [['batch', 'raw wall us/ev', 'raw cpu us/ev', 'DataDefender wall us/ev', 'DataDefender cpu us/ev', 'cpu ratio']];
    for (const batch of BATCHES) {
      const base = await measure(async (events) => rawAppend.immediate(events), batch);
      const ours = await measure((events) => storage.append(events), batch);
      rows.push([batch, fmt(base.wall, 1), fmt(base.cpu, 1), fmt(ours.wall, 1), fmt(ours.cpu, 1), `${(ours.cpu / base.cpu).toFixed(2)}x`]);
    }
    printTable(`Durable audit append (SQLite, synchronous=FULL), ${EVENTS} events per cell`, rows);
  } finally {
    raw.close();
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
}

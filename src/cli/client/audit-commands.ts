/**
 * `datadefender audit search|export|verify|hash|public-key|archive`: the tamper-evident audit trail from the command
 * line.
 * `verify` runs the verifier (src/audit/verifier.ts) here, in the client: online it reads the chains, checkpoints
 * and events through the REST API (VerifyAuditTrail) and trusts the server's public keys unless `--public-key` pins
 * them; offline (`--file`) it needs an export and `--public-key`, nothing else. A break exits with code 3.
 * `export` writes JSON lines (header, checkpoints, events; mode 0600, never over an existing file); the values
 * `hash` hashes (and `search --value-stdin` searches for) are read from standard input, never from the command line.
 * `search --hash` finds the events whose record holds a keyed hash. `archive` applies the server's retention
 * (old segments to archive files on the server that still verify; `--dry-run` lists them); an archive file verifies
 * offline like an export (`verify --file`).
 */
import { createPublicKey } from 'node:crypto';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { publicKeyPem, type AuditPublicKey } from '../../audit/audit-keys.js';
import type { ArchiveSummary } from '../../audit/archiver.js';
import { archiveLine, checkpointLine, eventLine, EXPORT_FORMAT_V2, parseExportBuffer, type ExportHeader, type ExportLine } from '../../audit/export-format.js';
import { KEYED_HASH_PATTERN } from '../../audit/sensitive.js';
import { verifyTrail, type VerifyReport } from '../../audit/verifier.js';
import type { ArchiveRecord, CheckpointRecord, ChainSummary, ChainedEventRecord } from '../../ports/audit-chain-store.js';
import { CLI_LIMITS, integerIn } from './args.js';
import { printable } from './format.js';
import type { ApiClient } from './http-client.js';
import { CliError, type CliIo } from './io.js';
import { expectArray, readInput, seg, session } from './session.js';

type Purpose = 'verify' | 'export';
interface RangeOptions {
  chain?: string;
  fromSequence?: number;
  toSequence?: number;
}

const SEQUENCE = { min: 1, max: Number.MAX_SAFE_INTEGER };
const PAGE = 1000;

/** An argParser collecting repeated `--hash` values, each a keyed hash (the server checks them too). */
function keyedHashes(value: string, previous: string[] = []): string[] {
  if (!KEYED_HASH_PATTERN.test(value)) throw new InvalidArgumentError('Expected a keyed hash as audit hash prints it: hmac-sha256:audit-hmac-<version>:<64 hex digits>.');
  return [...previous, value];
}

/** Every line of the trail as the server holds it, read page by page (checkpoints first, then each chain's events). */
async function* onlineTrail(api: ApiClient, purpose: Purpose, range: RangeOptions, keys: AuditPublicKey[]): AsyncGenerator<ExportLine> {
  const listed = await api.request<{ chains: ChainSummary[]; publicKeys: AuditPublicKey[] }>('GET', `/v1/audit/chains?purpose=${purpose}`);
  const chains = expectArray<ChainSummary>(listed, 'chains', api.endpoint).filter((c) => range.chain === undefined || c.chainId === range.chain);
  keys.push(...expectArray<AuditPublicKey>(listed, 'publicKeys', api.endpoint));
  const header: ExportHeader = {
    type: 'header',
    format: EXPORT_FORMAT_V2,
    exportedAt: new Date().toISOString(),
    publicKeys: keys.map(({ id, algorithm, publicKey }) => ({ id, algorithm, publicKey })),
    ...(range.chain !== undefined || range.fromSequence !== undefined || range.toSequence !== undefined ? { range: { ...range } } : {}),
  };
  yield header;
  const chainQuery = range.chain === undefined ? '' : `&chain=${seg(range.chain)}`;
  const cps = await api.request<{ checkpoints: (Omit<CheckpointRecord, 'time'> & { time: string })[] }>('GET', `/v1/audit/checkpoints?purpose=${purpose}${chainQuery}`);
  for (const cp of expectArray<Omit<CheckpointRecord, 'time'> & { time: string }>(cps, 'checkpoints', api.endpoint)) {
    if (range.toSequence !== undefined && cp.sequence > range.toSequence) continue;
    if (range.fromSequence !== undefined && cp.sequence < range.fromSequence) continue;
    yield checkpointLine({ ...cp, time: new Date(cp.time) });
  }
  // The signed records of archived segments: they stand in for the events the retention archived.
  const archived = await api.request<{ archives: (Omit<ArchiveRecord, 'time'> & { time: string })[] }>('GET', `/v1/audit/archives?purpose=${purpose}${chainQuery}`);
  for (const r of expectArray<Omit<ArchiveRecord, 'time'> & { time: string }>(archived, 'archives', api.endpoint)) {
    if (range.toSequence !== undefined && r.firstSequence > range.toSequence) continue;
    yield archiveLine({ ...r, time: new Date(r.time) });
  }
  // Checkpoints of chains that have no events left are still listed above (the verifier reports them truncated).
  for (const chain of chains) {
    let after = (range.fromSequence ?? 1) - 1;
    for (;;) {
      const page = await api.request<{ events: ChainedEventRecord[] }>('GET', `/v1/audit/chains/${seg(chain.chainId)}/events?purpose=${purpose}&after=${after}&limit=${PAGE}`);
      const events = expectArray<ChainedEventRecord>(page, 'events', api.endpoint);
      for (const e of events) {
        if (range.toSequence !== undefined && e.sequence > range.toSequence) return;
        yield eventLine(e);
      }
      if (events.length < PAGE) break;
      after = events[events.length - 1]!.sequence;
    }
  }
}

/** Lines of an export file, parsed as they are read. @throws CliError naming the first malformed line */
function* fileTrail(buffer: Buffer): Generator<ExportLine> {
  try {
    yield* parseExportBuffer(buffer);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** SubjectPublicKeyInfo DER (base64) of each PEM public key file. */
async function pinnedKeys(io: CliIo, files: readonly string[]): Promise<Set<string>> {
  const pinned = new Set<string>();
  for (const file of files) {
    const pem = await readInput(io, file, 'public key');
    try {
      pinned.add(createPublicKey(pem).export({ type: 'spki', format: 'der' }).toString('base64'));
    } catch (err) {
      throw new CliError(`${file} is not a PEM public key.`, { cause: err });
    }
  }
  return pinned;
}

function formatReport(report: VerifyReport): string {
  const lines = [
    `${report.ok ? 'OK' : 'BROKEN'}: ${report.events} events in ${report.chains.length} chain(s), ${report.checkpoints} signed checkpoint(s)`,
  ];
  for (const c of report.chains) {
    const last = c.lastCheckpoint ? `last checkpoint ${c.lastCheckpoint.sequence} at ${c.lastCheckpoint.time}` : 'no checkpoint';
    const archived = c.archivedThrough === null ? '' : `, archived 1..${c.archivedThrough} (${c.archives} signed record(s))`;
    lines.push(`  chain ${c.chainId}: events ${c.firstSequence ?? '-'}..${c.lastSequence ?? '-'} (${c.events}), ${last}${archived}`);
  }
  if (report.firstBreak) lines.push(`first break: [${report.firstBreak.kind}] ${report.firstBreak.message}`);
  for (const b of report.breaks.slice(1)) lines.push(`also: [${b.kind}] ${b.message}`);
  return `${lines.map(printable).join('\n')}\n`;
}

const rangeOptions = (cmd: Command) =>
  cmd
    .option('--chain <id>', 'only this chain (a server process)')
    .option('--from-sequence <n>', 'start at this sequence of the chain (the first event read is then the anchor)', integerIn(SEQUENCE))
    .option('--to-sequence <n>', 'stop after this sequence', integerIn(SEQUENCE));

export function registerAuditCommands(program: Command, io: CliIo): void {
  const audit = program.command('audit').description('the tamper-evident audit trail: search, export, verify, hash');

  audit
    .command('search')
    .description('search the trail (security-analyst, compliance-officer, administrator)')
    .option('--event-name <name>', 'operation, e.g. Encrypt')
    .option('--principal <arn>', 'principal ARN')
    .option('--resource <arn>', 'key ARN')
    .addOption(new Option('--outcome <outcome>', 'outcome').choices(['attempt', 'success', 'failure', 'denied']))
    .option('--request-id <id>', 'request id')
    .option('--from <time>', 'ISO 8601 time, inclusive')
    .option('--to <time>', 'ISO 8601 time, exclusive')
    .option('--after <n>', 'continue after this global sequence (nextAfter of an earlier page)', integerIn(SEQUENCE))
    .option('--limit <n>', `events per page (${CLI_LIMITS.listLimit.min}-1000)`, integerIn({ min: 1, max: 1000 }))
    .addOption(new Option('--hash <hash>', 'events whose record holds this keyed hash (as audit hash prints it); repeat for any of several').argParser(keyedHashes))
    .option('--value-stdin', 'events whose record holds a value read from standard input (one line): its keyed hashes under every HMAC key version')
    .action(async (opts: Record<string, string | number | undefined> & { hash?: string[]; valueStdin?: boolean }, command: Command) => {
      const s = session(command, io);
      const api = await s.api();
      const names: Record<string, string> = { eventName: 'eventName', principal: 'principal', resource: 'resource', outcome: 'outcome', requestId: 'requestId', from: 'from', to: 'to', after: 'after', limit: 'limit' };
      const query = new URLSearchParams();
      for (const [opt, param] of Object.entries(names)) if (opts[opt] !== undefined) query.set(param, String(opts[opt]));
      const hashes = new Set(opts.hash ?? []);
      if (opts.valueStdin) {
        // The value is hashed by the server (ComputeAuditHash, recorded by its length only); it is never sent again.
        const value = (await io.readStdin()).replace(/\r?\n$/, '');
        const computed = await api.request<{ hashes: { keyId: string; hash: string }[] }>('POST', '/v1/audit/hash', { value });
        for (const h of expectArray<{ keyId: string; hash: string }>(computed, 'hashes', api.endpoint)) hashes.add(h.hash);
        if (hashes.size === 0) throw new CliError('The server returned no keyed hash for the value.');
      }
      for (const h of hashes) query.append('hash', h);
      const response = await api.request<{ events: { sequence: number; eventTime: string; eventName: string; principal: string; outcome: string; resource: string | null; requestId: string }[]; nextAfter?: number }>(
        'GET',
        `/v1/audit/events?${query.toString()}`,
      );
      const events = expectArray<{ sequence: number; eventTime: string; eventName: string; principal: string; outcome: string; resource: string | null; requestId: string }>(response, 'events', api.endpoint);
      s.print(response, () =>
        events.map((e) => [e.sequence, e.eventTime, e.eventName, e.outcome, e.principal, e.resource ?? '-', e.requestId].map((f) => printable(String(f))).join('\t')).join('\n') +
        (events.length ? '\n' : '') +
        (response.nextAfter !== undefined ? `More: --after ${response.nextAfter}\n` : ''),
      );
    });

  rangeOptions(audit.command('export'))
    .description('export chains and signed checkpoints as JSON lines (compliance-officer, administrator)')
    .requiredOption('--output <file>', 'file to create (mode 0600; must not exist)')
    .option('--checkpoints-only', 'only the signed checkpoints (the digest files)')
    .action(async (opts: RangeOptions & { output: string; checkpointsOnly?: boolean }, command: Command) => {
      const s = session(command, io);
      const api = await s.api();
      const lines: string[] = [];
      let events = 0;
      let checkpoints = 0;
      for await (const line of onlineTrail(api, 'export', opts, [])) {
        if (line.type === 'event') {
          if (opts.checkpointsOnly) break;
          events++;
        }
        if (line.type === 'checkpoint') checkpoints++;
        lines.push(JSON.stringify(line));
      }
      const path = resolve(io.cwd, opts.output);
      await io.writeSecretFile(path, `${lines.join('\n')}\n`);
      s.print({ file: path, events, checkpoints }, () => `${printable(path)}: ${events} events, ${checkpoints} checkpoints\n`);
    });

  rangeOptions(audit.command('verify'))
    .description('verify the hash chains and signed checkpoints; report the first break (exit code 3 when broken)')
    .option('--file <export>', 'verify an export offline (needs --public-key)')
    .addOption(new Option('--public-key <pem>', 'trusted audit public key (PEM); repeat for more; pins the keys online too').argParser((v: string, prev: string[] = []) => [...prev, v]))
    .action(async (opts: RangeOptions & { file?: string; publicKey?: string[] }, command: Command) => {
      const s = session(command, io);
      const pinned = await pinnedKeys(io, opts.publicKey ?? []);
      if (opts.file !== undefined && pinned.size === 0) throw new CliError('Offline verification needs --public-key (the audit public key you trust).');
      const keys: AuditPublicKey[] = [];
      let source: AsyncIterable<ExportLine> | Iterable<ExportLine>;
      let anchored = opts.fromSequence !== undefined && opts.fromSequence > 1;
      if (opts.file !== undefined) {
        const lines = fileTrail(await readInput(io, opts.file, 'export'));
        const first = lines.next();
        const header = first.done ? undefined : first.value;
        if (header?.type !== 'header') throw new CliError(`${opts.file} is not a ${EXPORT_FORMAT_V2} file (no header first).`);
        keys.push(...header.publicKeys.map((k) => ({ ...k, createdAt: new Date(0) })));
        anchored ||= (header.range?.fromSequence ?? 1) > 1;
        source = (function* () {
          yield header;
          yield* lines;
        })();
      } else {
        source = onlineTrail(await s.api(), 'verify', opts, keys);
      }
      // The key map is filled by the header (first line) before any checkpoint is checked.
      const trusted = new Map<string, Uint8Array>();
      const withKeys = async function* () {
        for await (const line of source) {
          if (line.type === 'header') {
            for (const k of [...keys, ...line.publicKeys]) {
              if (pinned.size === 0 || pinned.has(k.publicKey)) trusted.set(k.id, Buffer.from(k.publicKey, 'base64'));
            }
          }
          yield line;
        }
      };
      const report = await verifyTrail(withKeys(), { publicKeys: trusted, anchored });
      s.print(report, () => formatReport(report));
      if (!report.ok) throw new CliError(`audit trail verification failed: ${report.firstBreak?.message ?? 'broken'}`, { exitCode: 3 });
    });

  audit
    .command('archive')
    .description('apply the audit retention now: archive segments older than it to files that still verify, then delete them (compliance-officer, administrator)')
    .option('--dry-run', 'only list the segments that are due')
    .action(async (opts: { dryRun?: boolean }, command: Command) => {
      const s = session(command, io);
      const api = await s.api();
      const summary = await api.request<ArchiveSummary>('POST', '/v1/audit/archive', { dryRun: opts.dryRun === true });
      const segments = expectArray<ArchiveSummary['segments'][number]>(summary, 'segments', api.endpoint);
      const skipped = expectArray<ArchiveSummary['skipped'][number]>(summary, 'skipped', api.endpoint);
      s.print(summary, () => {
        const verb = summary.dryRun ? 'due' : 'archived';
        const lines = [`${segments.length} segment(s) ${verb} (events before ${summary.cutoff})${summary.dryRun ? '' : `, ${summary.deleted} event(s) deleted from the trail`}`];
        for (const g of segments) lines.push(`  chain ${g.chainId}: events ${g.firstSequence}..${g.lastSequence} (${g.events})${g.file ? ` -> ${g.file}` : ''}`);
        for (const k of skipped) lines.push(`  skipped chain ${k.chainId}: ${k.reason}`);
        return `${lines.map(printable).join('\n')}\n`;
      });
    });

  audit
    .command('hash')
    .description('the keyed hash of a value read from standard input (one line), under every HMAC key version, to search the trail for it')
    .action(async (_opts: object, command: Command) => {
      const s = session(command, io);
      const value = (await io.readStdin()).replace(/\r?\n$/, '');
      const api = await s.api();
      const response = await api.request<{ hashes: { keyId: string; hash: string }[] }>('POST', '/v1/audit/hash', { value });
      const hashes = expectArray<{ keyId: string; hash: string }>(response, 'hashes', api.endpoint);
      s.print(response, () => hashes.map((h) => `${printable(h.hash)}\n`).join(''));
    });

  audit
    .command('public-key')
    .description('print the audit public keys (PEM) the server signs checkpoints with, to pin for offline verification')
    .action(async (_opts: object, command: Command) => {
      const s = session(command, io);
      const api = await s.api();
      const response = await api.request<{ publicKeys: AuditPublicKey[] }>('GET', '/v1/audit/chains?purpose=verify');
      const keys = expectArray<AuditPublicKey>(response, 'publicKeys', api.endpoint);
      s.print({ publicKeys: keys }, () => keys.map((k) => `# ${printable(k.id)} (${printable(k.algorithm)})\n${publicKeyPem(k)}`).join(''));
    });
}


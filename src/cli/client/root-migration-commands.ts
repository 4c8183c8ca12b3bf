/**
 * `datadefender operator rotate-root | migrate-root --to <kind> | root-progress`: move every wrapped key to a new
 * root key (rotate-root) or another root of trust (migrate-root) while the server keeps serving; the re-wrap runs in
 * the server, in the background, resumably — running the same command again resumes a job that stopped.
 * Invariants: administrators only (the server decides); dual control answers with an approval request to repeat the
 * command after; new unseal shares (migrate-root --to local-sealed) are written to mode-0600 files or printed once.
 */
import { Option, type Command } from 'commander';
import { integerIn } from './args.js';
import { CliError, type CliIo } from './io.js';
import { deliverShares } from './secret-output.js';
import { session, type Session } from './session.js';

interface MigrationView {
  operation: string;
  state: 'running' | 'done' | 'stopped';
  targetGeneration: number;
  targetKind: string;
  fromGenerations: number[];
  done: number;
  total: number;
  skipped: number;
  lastError: string | null;
}

interface StatusAnswer {
  ring?: { active?: { generation: number; kind: string }; generations?: Array<{ generation: number; kind: string; state: string }> };
  migration?: MigrationView | null;
  resumed?: boolean;
  shares?: string[];
}

const SHARE_COUNT = { min: 1, max: 255 };
const KINDS = ['local-sealed', 'pkcs11', 'aws-kms', 'local'];
const WAIT_POLL_MS = 1000;

function describe(answer: StatusAnswer): string {
  const lines: string[] = [];
  const ring = answer.ring;
  if (ring?.active) lines.push(`Root ring: active generation ${ring.active.generation} (${ring.active.kind})`);
  for (const g of ring?.generations ?? []) lines.push(`  generation ${g.generation}: ${g.kind}, ${g.state}`);
  const m = answer.migration;
  if (!m) lines.push('No root rotation or migration has run.');
  else {
    const what = m.operation === 'rotate' ? 'rotate-root' : m.operation === 'migrate' ? `migrate-root --to ${m.targetKind}` : `recover onto ${m.targetKind}`;
    const pct = m.total === 0 ? 100 : Math.floor((100 * m.done) / m.total);
    lines.push(`${what} to generation ${m.targetGeneration}: ${m.state}, ${m.done}/${m.total} (${pct}%)${m.skipped > 0 ? `, ${m.skipped} skipped` : ''}`);
    if (m.state === 'stopped') lines.push(`  stopped${m.lastError ? `: ${m.lastError}` : ''}; run the same command again to resume it.`);
    if (m.state === 'done') lines.push(`  generations ${m.fromGenerations.join(', ')} retired.`);
  }
  return `${lines.join('\n')}\n`;
}

async function waitForEnd(api: Awaited<ReturnType<Session['api']>>, io: CliIo): Promise<StatusAnswer> {
  for (;;) {
    const answer = await api.request<StatusAnswer>('GET', '/v1/operator/root-migration');
    const m = answer.migration;
    if (!m || m.state !== 'running') return answer;
    io.stderr(`  ${m.done}/${m.total}\n`);
    await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
  }
}

async function finish(s: Session, io: CliIo, api: Awaited<ReturnType<Session['api']>>, answer: StatusAnswer, opts: { wait?: boolean; shareDir?: string; threshold?: number }) {
  let text = '';
  if (answer.shares && answer.shares.length > 0) {
    const delivered = await deliverShares(io, answer.shares, { shareDir: opts.shareDir, prefix: 'unseal-share', threshold: opts.threshold ?? 3 });
    text += `The new local-sealed root's unseal shares:\n${delivered.message}\n`;
    if (opts.shareDir !== undefined) answer = { ...answer, shares: [] };
  }
  if (answer.resumed) text += 'Resumed the job under way.\n';
  const final = opts.wait ? await waitForEnd(api, io) : answer;
  s.print(final, () => text + describe(final));
  if (opts.wait && final.migration?.state === 'stopped') throw new CliError(`The job stopped: ${final.migration.lastError ?? 'see the server log'}. Run the same command again to resume it.`);
}

/** Registers rotate-root, migrate-root and root-progress under `operator`. */
export function registerRootMigrationCommands(operator: Command, io: CliIo): void {
  operator
    .command('rotate-root')
    .description('re-wrap every key under a new root key in the same root of trust, while serving (administrator; resumable)')
    .option('--aws-kms-key-id <id>', 'aws-kms: the new upstream key (DataDefender cannot create upstream keys)')
    .option('--wait', 'wait until the re-wrap is done, showing progress')
    .action(async (opts: { awsKmsKeyId?: string; wait?: boolean }, command: Command) => {
      const s = session(command, io);
      const api = await s.api();
      const answer = await api.request<StatusAnswer>('POST', '/v1/operator/rotate-root', opts.awsKmsKeyId ? { awsKmsKeyId: opts.awsKmsKeyId } : {});
      await finish(s, io, api, answer, opts);
    });

  operator
    .command('migrate-root')
    .description('re-wrap every key under another root of trust from the server configuration, while serving (administrator; resumable)')
    .addOption(new Option('--to <kind>', 'the root of trust to move to').choices(KINDS).makeOptionMandatory())
    .option('--create-key', 'pkcs11: create the configured key object in the token if it is missing')
    .option('--aws-kms-key-id <id>', 'aws-kms: the upstream key (default: the configured one)')
    .option('--shares <n>', 'local-sealed: unseal shares of the new seal (1-255)', integerIn(SHARE_COUNT))
    .option('--threshold <m>', 'local-sealed: shares needed to unseal it', integerIn(SHARE_COUNT))
    .option('--share-dir <dir>', 'local-sealed: write each new unseal share to DIR/unseal-share-<i>.txt (mode 0600) instead of printing them')
    .option('--wait', 'wait until the re-wrap is done, showing progress')
    .action(async (opts: { to: string; createKey?: boolean; awsKmsKeyId?: string; shares?: number; threshold?: number; shareDir?: string; wait?: boolean }, command: Command) => {
      if (opts.to !== 'local-sealed' && (opts.shares !== undefined || opts.threshold !== undefined || opts.shareDir !== undefined)) {
        throw new CliError('--shares, --threshold and --share-dir are for --to local-sealed.');
      }
      const s = session(command, io);
      const api = await s.api();
      const body = {
        to: opts.to,
        ...(opts.createKey ? { createKey: true } : {}),
        ...(opts.awsKmsKeyId ? { awsKmsKeyId: opts.awsKmsKeyId } : {}),
        ...(opts.shares !== undefined ? { shares: opts.shares } : {}),
        ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
      };
      const answer = await api.request<StatusAnswer>('POST', '/v1/operator/migrate-root', body);
      await finish(s, io, api, answer, { ...opts, threshold: opts.threshold ?? 3 });
    });

  operator
    .command('root-progress')
    .description('show the root ring and the progress of the latest rotate-root, migrate-root or recovery')
    .option('--wait', 'wait until a running job is done')
    .action(async (opts: { wait?: boolean }, command: Command) => {
      const s = session(command, io);
      const api = await s.api();
      const answer = opts.wait ? await waitForEnd(api, io) : await api.request<StatusAnswer>('GET', '/v1/operator/root-migration');
      s.print(answer, () => describe(answer));
    });
}

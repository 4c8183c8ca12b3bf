/**
 * `datadefender operator status|unseal|seal|rekey`: the root of trust of a running server.
 * Invariants: status and unseal work without credentials (a sealed server can check none); shares are read from
 * files or standard input, never from arguments; new shares are written to mode-0600 files or printed once.
 */
import type { Command } from 'commander';
import { integerIn } from './args.js';
import { CliError, type CliIo } from './io.js';
import { deliverShares, readShares } from './secret-output.js';
import { expectArray, expectObject, session, type Session } from './session.js';

interface RootStatusView {
  kind: string;
  sealed: boolean;
  threshold: number;
  shares: number;
  progress: number;
  nonce: string | null;
}

const SHARE_COUNT = { min: 1, max: 255 };

function formatRoot(root: RootStatusView): string {
  if (!root.sealed) return `Root of trust: ${root.kind}, unsealed\n`;
  const attempt = root.progress > 0 ? `; unseal progress ${root.progress}/${root.threshold} (nonce ${root.nonce})` : `; ${root.threshold} of ${root.shares} shares unseal it`;
  return `Root of trust: ${root.kind}, SEALED${attempt}\n`;
}

function unsealHint(root: RootStatusView): string {
  if (!root.sealed) return 'Unsealed: DataDefender serves key operations again.\n';
  return `${formatRoot(root)}The next custodian runs: datadefender operator unseal --nonce ${root.nonce}\n`;
}

const printRoot = (s: Session, response: unknown, endpoint: string, human: (root: RootStatusView) => string) =>
  s.print(response, () => human(expectObject<RootStatusView>(response, 'root', 'kind', endpoint)));

/** Registers the online operator commands under `operator`. */
export function registerOperatorCommands(operator: Command, io: CliIo): void {
  operator
    .command('status')
    .description('show whether the root of trust is sealed and the unseal progress (no credentials needed)')
    .action(async (_opts: object, command: Command) => {
      const s = session(command, io);
      const api = await s.api({ anonymous: true });
      const response = await api.request('GET', '/v1/operator/status');
      printRoot(s, response, api.endpoint, formatRoot);
    });

  operator
    .command('unseal')
    .description('submit one unseal share (from --share-file or standard input); each custodian runs this in turn')
    .option('--share-file <file>', 'file holding your share (otherwise it is read from standard input)')
    .option('--nonce <nonce>', 'the nonce of the unseal attempt under way (shown after the first share)')
    .option('--reset', 'abandon the attempt under way (its submitted shares are forgotten)')
    .action(async (opts: { shareFile?: string; nonce?: string; reset?: boolean }, command: Command) => {
      const s = session(command, io);
      if (opts.reset && (opts.shareFile !== undefined || opts.nonce !== undefined)) throw new CliError('--reset takes no share and no nonce.');
      const body = opts.reset ? { reset: true } : await unsealBody(io, opts);
      const api = await s.api({ anonymous: true });
      const response = await api.request('POST', '/v1/operator/unseal', body);
      printRoot(s, response, api.endpoint, opts.reset ? (root) => `Unseal attempt reset.\n${formatRoot(root)}` : unsealHint);
    });

  operator
    .command('seal')
    .description('seal the root of trust at once: every key operation stops until custodians unseal it (administrator)')
    .action(async (_opts: object, command: Command) => {
      const s = session(command, io);
      const api = await s.api();
      const response = await api.request('POST', '/v1/operator/seal');
      printRoot(s, response, api.endpoint, formatRoot);
    });

  operator
    .command('rekey')
    .description('issue new unseal shares for the same root key; the current ones stop working (administrator)')
    .requiredOption('--shares <n>', 'new shares to issue (1-255)', integerIn(SHARE_COUNT))
    .requiredOption('--threshold <m>', 'new shares needed to unseal', integerIn(SHARE_COUNT))
    .option('--share-file <file>', 'a current share (repeat for each; otherwise one per line on standard input)', collect, [])
    .option('--share-dir <dir>', 'write each new share to DIR/unseal-share-<i>.txt (mode 0600) instead of printing them')
    .action(async (opts: { shares: number; threshold: number; shareFile: string[]; shareDir?: string }, command: Command) => {
      const s = session(command, io);
      const current = await readShares(io, opts.shareFile);
      const api = await s.api();
      const response = await api.request('POST', '/v1/operator/rekey', { shares: current, newShares: opts.shares, newThreshold: opts.threshold });
      const issued = expectArray<string>(response, 'shares', api.endpoint);
      const delivered = await deliverShares(io, issued, { shareDir: opts.shareDir, prefix: 'unseal-share', threshold: opts.threshold });
      s.print(opts.shareDir === undefined ? response : { shareFiles: delivered.files }, () => `Rekeyed: the earlier shares no longer unseal.\n${delivered.message}\n`);
    });
}

const collect = (value: string, previous: string[]) => [...previous, value];

async function unsealBody(io: CliIo, opts: { shareFile?: string; nonce?: string }) {
  const shares = await readShares(io, opts.shareFile === undefined ? [] : [opts.shareFile]);
  if (shares.length !== 1) throw new CliError('Give exactly one share: each custodian submits their own.');
  return { share: shares[0], ...(opts.nonce === undefined ? {} : { nonce: opts.nonce }) };
}

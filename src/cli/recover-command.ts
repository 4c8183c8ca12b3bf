/**
 * Break-glass recovery, offline (the server stopped), reading the same configuration as `datadefender server`:
 * - `operator enable-recovery --shares N --threshold M`: creates the recovery key; its private half is split into N
 *   custodian shares (ddr1.…, M recover), written to mode-0600 files or printed once; from then on every wrap is also
 *   escrowed to it (run rotate-root afterwards to escrow what was wrapped before);
 * - `operator recover --to <kind> --recovery-share-file F ...`: rebuilds the recovery key from M shares and re-wraps
 *   every key onto a NEW root of trust of kind <kind> (from the configuration's settings for it; local-sealed: a new
 *   seal whose unseal shares are issued here), so a lost HSM token or upstream key loses no data. Resumable: run it
 *   again with the same shares (and, for a new local-sealed root, --unseal-share-file of that seal).
 * Invariants: shares come from files or standard input, never from arguments; new shares go to mode-0600 files or
 * are printed once; the recovery private key is in memory only during the command.
 */
import type { Command } from 'commander';
import { loadServerConfig, ROOTS_OF_TRUST } from '../config/config.js';
import { createRootRing } from '../core/root-ring.js';
import { enableRootRecovery, recoverRoot } from '../core/root-recovery.js';
import { systemClock } from '../ports/clock.js';
import { createRootBackends, openConfiguredStorage } from '../root-backends.js';
import { openConfiguredRoot } from '../roots.js';
import { integerIn } from './client/args.js';
import { CliError, type CliIo } from './client/io.js';
import { deliverShares, readShares } from './client/secret-output.js';

const SHARE_COUNT = { min: 1, max: 255 };
const collect = (value: string, previous: string[]) => [...previous, value];

interface ConfigFlags {
  dataDir?: string;
  databaseUrl?: string;
}

const configOptions = (c: Command) =>
  c
    .option('--data-dir <dir>', 'data directory (default ./data)')
    .option('--database-url <url>', 'PostgreSQL connection string (default: SQLite in the data dir)');

/** Registers `operator recover` and `operator enable-recovery` under `operator`. */
export function registerRecoverCommands(operator: Command, io: CliIo): void {
  configOptions(
    operator
      .command('enable-recovery')
      .description('create the break-glass recovery key and its custodian shares (server stopped); every wrap is escrowed to it')
      .requiredOption('--shares <n>', 'recovery shares to issue (2-255)', integerIn({ min: 2, max: 255 }))
      .requiredOption('--threshold <m>', 'shares needed to recover (at least 2)', integerIn({ min: 2, max: 255 }))
      .option('--share-dir <dir>', 'write each share to DIR/recovery-share-<i>.txt (mode 0600) instead of printing them')
      .option('--unseal-share-file <file>', 'local-sealed: an unseal share of the configured root (repeat; otherwise standard input)', collect, []),
  ).action(async (opts: ConfigFlags & { shares: number; threshold: number; shareDir?: string; unsealShareFile: string[] }) => {
    const config = loadServerConfig({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl }, io.env);
    const opened = await openConfiguredRoot(config, undefined, io.env as NodeJS.ProcessEnv);
    const storage = await openConfiguredStorage(config);
    const backends = createRootBackends(config, { configured: opened, env: io.env as NodeJS.ProcessEnv });
    try {
      if (opened.sealable?.status().sealed) {
        for (const share of await readShares(io, opts.unsealShareFile)) {
          if (!opened.sealable.status().sealed) break;
          await opened.sealable.submitShare(share, opened.sealable.status().nonce ?? undefined);
        }
      }
      const ring = createRootRing({ storage, backends, clock: systemClock, kind: opened.root.kind });
      const shares = await enableRootRecovery(ring, { shares: opts.shares, threshold: opts.threshold });
      const delivered = await deliverShares(io, shares, { shareDir: opts.shareDir, prefix: 'recovery-share', threshold: opts.threshold });
      io.stdout(`Recovery key created: every key wrapped from now on is also escrowed to it.\n${delivered.message}\nRun datadefender operator rotate-root once the server runs to escrow the keys wrapped before.\n`);
    } finally {
      opened.sealable?.seal();
      await backends.close();
      await opened.close();
      await storage.close();
    }
  });

  configOptions(
    operator
      .command('recover')
      .description('break-glass: re-wrap every key from its escrow onto a NEW root of trust, with M recovery shares (server stopped)')
      .requiredOption('--to <kind>', `the new root of trust: ${ROOTS_OF_TRUST.filter((k) => k !== 'local').join(', ')}`)
      .option('--recovery-share-file <file>', 'a recovery share (repeat for each; otherwise one per line on standard input)', collect, [])
      .option('--shares <n>', 'local-sealed: unseal shares of the new seal (1-255)', integerIn(SHARE_COUNT), 5)
      .option('--threshold <m>', 'local-sealed: shares needed to unseal it', integerIn(SHARE_COUNT), 3)
      .option('--share-dir <dir>', 'local-sealed: write each new unseal share to DIR/unseal-share-<i>.txt (mode 0600) instead of printing them')
      .option('--unseal-share-file <file>', 'resuming onto local-sealed: an unseal share of the new seal (repeat)', collect, [])
      .option('--create-key', 'pkcs11: create the configured key object in the token')
      .option('--aws-kms-key-id <id>', 'aws-kms: the upstream key (default: the configured one)'),
  ).action(
    async (
      opts: ConfigFlags & { to: string; recoveryShareFile: string[]; shares: number; threshold: number; shareDir?: string; unsealShareFile: string[]; createKey?: boolean; awsKmsKeyId?: string },
    ) => {
      if (!(ROOTS_OF_TRUST as readonly string[]).includes(opts.to) || opts.to === 'local') throw new CliError(`--to must be one of ${ROOTS_OF_TRUST.filter((k) => k !== 'local').join(', ')}.`);
      const config = loadServerConfig({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, rootOfTrust: opts.to }, io.env);
      const recoveryShares = await readShares(io, opts.recoveryShareFile);
      const unsealShares = opts.unsealShareFile.length > 0 ? await readShares(io, opts.unsealShareFile) : [];
      const storage = await openConfiguredStorage(config);
      const backends = createRootBackends(config, { configured: null, env: io.env as NodeJS.ProcessEnv, unsealShares });
      try {
        const report = await recoverRoot({
          storage,
          backends,
          clock: systemClock,
          shares: recoveryShares,
          target: {
            kind: opts.to,
            shares: opts.shares,
            threshold: opts.threshold,
            ...(opts.createKey ? { createKey: true } : {}),
            ...(opts.awsKmsKeyId ? { awsKmsKeyId: opts.awsKmsKeyId } : {}),
          },
        });
        const lines = [
          `${report.resumed ? 'Resumed and finished' : 'Finished'} the recovery onto ${report.kind} (root generation ${report.generation}): ${report.total - report.unrecoverable} of ${report.total} wrapped keys recovered.`,
        ];
        if (report.unrecoverable > 0) lines.push(`${report.unrecoverable} had no escrow (wrapped before the recovery key existed) and stay unreadable.`);
        if (report.unsealShares) lines.push((await deliverShares(io, report.unsealShares, { shareDir: opts.shareDir, prefix: 'unseal-share', threshold: opts.threshold })).message);
        lines.push(`Start the server with rootOfTrust ${report.kind} (DATADEFENDER_ROOT_OF_TRUST=${report.kind} or --root-of-trust ${report.kind})${report.kind === 'local-sealed' ? ' and unseal it with the new shares' : ''}.`);
        io.stdout(`${lines.join('\n')}\n`);
      } finally {
        await backends.close();
        await storage.close();
      }
    },
  );
}


/**
 * `datadefender operator init`: sets up a production deployment while the server is stopped — the root of trust
 * (local-sealed: a sealed root key and its unseal shares; pkcs11: the HSM key object with --create-key; aws-kms:
 * checks the upstream key) and the first administrator, whose credentials go to a mode-0600 file.
 * Reads the same configuration as `datadefender server` (flags and DATADEFENDER_* variables).
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadServerConfig } from '../config/config.js';
import { initializeDeployment } from '../main.js';
import { integerIn } from './client/args.js';
import { CliError, type CliIo } from './client/io.js';
import { deliverShares, writeSecret } from './client/secret-output.js';

const SHARE_COUNT = { min: 1, max: 255 };

interface InitOptions {
  dataDir?: string;
  databaseUrl?: string;
  listen?: string;
  rootOfTrust?: string;
  shares: number;
  threshold: number;
  shareDir?: string;
  createKey?: boolean;
  admin: string;
  credentialsOut?: string;
  recoveryShares?: number;
  recoveryThreshold?: number;
  recoveryShareDir?: string;
}

export function registerOperatorInitCommand(operator: Command, io: CliIo): void {
  operator
    .command('init')
    .description('initialize a production deployment (server stopped): root of trust, unseal shares, first administrator')
    .option('--data-dir <dir>', 'data directory (default ./data)')
    .option('--database-url <url>', 'PostgreSQL connection string (default: SQLite in the data dir)')
    .option('--listen <host:port>', 'address the server will listen on (written into the credentials file)')
    .option('--root-of-trust <kind>', 'local-sealed (default), pkcs11 or aws-kms (env DATADEFENDER_ROOT_OF_TRUST)')
    .option('--shares <n>', 'local-sealed: unseal shares to issue (1-255)', integerIn(SHARE_COUNT), 5)
    .option('--threshold <m>', 'local-sealed: shares needed to unseal (at least 2 unless --shares 1)', integerIn(SHARE_COUNT), 3)
    .option('--share-dir <dir>', 'write each share to DIR/unseal-share-<i>.txt (mode 0600) instead of printing them')
    .option('--create-key', 'pkcs11: create the root key object in the token (otherwise it must exist)')
    .option('--recovery-shares <n>', 'break-glass: split a recovery key into N custodian shares; every wrap is escrowed to it', integerIn(SHARE_COUNT))
    .option('--recovery-threshold <m>', 'break-glass: recovery shares needed by operator recover', integerIn(SHARE_COUNT))
    .option('--recovery-share-dir <dir>', 'write each recovery share to DIR/recovery-share-<i>.txt (mode 0600) instead of printing them')
    .option('--admin <name>', 'name of the first administrator', 'admin')
    .option('--credentials-out <file>', "where to write the administrator's credentials (mode 0600; default DATA_DIR/admin-credentials.json)")
    .action(async (opts: InitOptions) => {
      const { shares, threshold, shareDir, createKey, admin, credentialsOut, recoveryShares, recoveryThreshold, recoveryShareDir, ...flags } = opts;
      if ((recoveryShares === undefined) !== (recoveryThreshold === undefined)) throw new CliError('Give both --recovery-shares and --recovery-threshold, or neither.');
      const recovery = recoveryShares !== undefined && recoveryThreshold !== undefined ? { shares: recoveryShares, threshold: recoveryThreshold } : undefined;
      const config = loadServerConfig(flags, io.env);
      const credentialsFile = resolve(io.cwd, credentialsOut ?? join(config.dataDir, 'admin-credentials.json'));
      await assertWritable(io, credentialsFile);
      const result = await initializeDeployment(config, { shares, threshold, createKey: createKey === true, administrator: admin, ...(recovery ? { recovery } : {}) });
      await writeSecret(io, credentialsFile, `${JSON.stringify(result.credentials, null, 2)}\n`);
      const lines = [`Initialized DataDefender (root of trust: ${result.rootOfTrust}).`];
      if (result.shares.length > 0) {
        lines.push((await deliverShares(io, result.shares, { shareDir, prefix: 'unseal-share', threshold })).message);
        lines.push('The server starts sealed: start it, then custodians run datadefender operator unseal.');
      }
      if (recovery) {
        const delivered = await deliverShares(io, result.recoveryShares, { shareDir: recoveryShareDir, prefix: 'recovery-share', threshold: recovery.threshold });
        lines.push(`Break-glass recovery shares (operator recover; keep them apart from the unseal shares):\n${delivered.message}`);
      }
      lines.push(`Administrator ${result.credentials.principalArn}: credentials in ${credentialsFile} (use --credentials ${credentialsFile}).`);
      io.stdout(`${lines.join('\n')}\n`);
    });
}

/** Fails before anything is created when the credentials file already exists. */
async function assertWritable(io: CliIo, file: string): Promise<void> {
  const exists = await io.readFile(file).then(
    () => true,
    () => false,
  );
  if (exists) throw new CliError(`${file} exists; DataDefender never overwrites a secret file. Move it away or pass --credentials-out.`);
}

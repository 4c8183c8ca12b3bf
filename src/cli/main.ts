/** The `datadefender` command: the server and the client commands. */
import { readFile, writeFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { Command, CommanderError } from 'commander';
import { registerClientCommands } from './client/commands.js';
import { CliError, type CliIo } from './client/io.js';
import { registerOperatorInitCommand } from './operator-init-command.js';
import { registerRootMigrationCommands } from './client/root-migration-commands.js';
import { registerRecoverCommands } from './recover-command.js';
import { registerServerCommand } from './server-command.js';
import { VERSION } from '../main.js';

export async function main(argv: string[]): Promise<void> {
  const io: CliIo = {
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    env: process.env,
    readFile: (path) => readFile(path),
    cwd: process.cwd(),
    readStdin: () => text(process.stdin),
    writeSecretFile: (path, content) => writeFile(path, content, { mode: 0o600, flag: 'wx' }),
  };
  const program = new Command('datadefender')
    .version(VERSION)
    .description('DataDefender key management')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError()
    .exitOverride();
  registerServerCommand(program, io);
  const { operator } = registerClientCommands(program, io);
  registerOperatorInitCommand(operator, io);
  registerRootMigrationCommands(operator, io);
  registerRecoverCommands(operator, io);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
    } else if (err instanceof CliError) {
      io.stderr(`datadefender: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else if (err instanceof Error && 'code' in err && String((err as { code: unknown }).code).startsWith('ERR_')) {
      io.stderr(`datadefender: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      throw err;
    }
  }
}

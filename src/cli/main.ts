/** The `datadefender` command: the server and the client commands. */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { registerClientCommands } from './client/commands.js';
import type { CliIo } from './client/io.js';
import { registerServerCommand } from './server-command.js';
import { VERSION } from '../main.js';

export async function main(argv: string[]): Promise<void> {
  const io: CliIo = {
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    env: process.env,
    readFile: (path) => readFile(path),
    cwd: process.cwd(),
  };
  const program = new Command('datadefender').version(VERSION).description('DataDefender key management').showHelpAfterError();
  registerServerCommand(program, io);
  registerClientCommands(program, io);
  await program.parseAsync(argv);
}

/**
 * Handing secrets to operators: unseal shares in and out, and credentials files.
 * Invariants: shares never come from the command line (shell history, `ps`) — only from files or standard input;
 * shares and credentials written to files are created exclusively with mode 0600 (an existing file is never
 * overwritten); printed shares are shown once, with a warning that DataDefender keeps none of them.
 */
import { join, resolve } from 'node:path';
import { CliError, type CliIo } from './io.js';
import { readInput } from './session.js';

const SHARE = /^[A-Za-z0-9._-]{1,1024}$/;

/** Shares from the given files (one per file) or, when none is given, from standard input (one per line). @throws CliError */
export async function readShares(io: CliIo, files: readonly string[]): Promise<string[]> {
  const texts = files.length > 0 ? await Promise.all(files.map(async (f) => (await readInput(io, f, 'the share file')).toString('utf8'))) : [await io.readStdin()];
  const shares = texts.flatMap((t) => t.split(/\r?\n/)).map((l) => l.trim()).filter((l) => l !== '');
  if (shares.length === 0) throw new CliError('No share given: pass --share-file <file> or type the share on standard input.');
  const bad = shares.findIndex((s) => !SHARE.test(s));
  if (bad >= 0) throw new CliError(`Share ${bad + 1} is not a share (expected text such as dds1.…).`);
  return shares;
}

/** Writes each share to DIR/<prefix>-<i>.txt, or returns them all in the message to print once, with a warning. @throws CliError */
export async function deliverShares(
  io: CliIo,
  shares: readonly string[],
  options: { shareDir?: string | undefined; prefix: string; threshold: number },
): Promise<{ message: string; files: string[] }> {
  if (options.shareDir === undefined) {
    const lines = shares.map((s, i) => `  share ${i + 1}: ${s}`).join('\n');
    const message = `${lines}\nHand each share to a different custodian now: DataDefender keeps none of them and will not show them again. ${options.threshold} of ${shares.length} unseal.`;
    return { message, files: [] };
  }
  const dir = resolve(io.cwd, options.shareDir);
  const files: string[] = [];
  for (const [i, share] of shares.entries()) {
    const file = join(dir, `${options.prefix}-${i + 1}.txt`);
    await writeSecret(io, file, `${share}\n`);
    files.push(file);
  }
  const message = `Wrote ${shares.length} shares (mode 0600; ${options.threshold} unseal):\n${files.map((f) => `  ${f}`).join('\n')}\nMove each to its custodian and delete it here.`;
  return { message, files };
}

/** Writes a secret file (mode 0600, exclusive). @throws CliError naming the file when it exists or cannot be written. */
export async function writeSecret(io: CliIo, file: string, content: string): Promise<void> {
  try {
    await io.writeSecretFile(file, content);
  } catch (err) {
    const code = typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'error';
    throw new CliError(code === 'EEXIST' ? `${file} exists; DataDefender never overwrites a secret file.` : `Cannot write ${file}: ${code}.`, { cause: err });
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DevCredentialsFile } from './rest-client.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(REPO, 'bin', 'datadefender.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface DevServer {
  process: ChildProcess;
  port: number;
  credentials: DevCredentialsFile;
  /** Everything the server wrote to stdout. */
  stdout: () => string;
  stderr: () => string;
  stop(): Promise<number | null>;
}

/** Starts `datadefender server --dev` as a separate process, exactly as the dev-mode contract says. */
export async function startDevServer(dataDir: string, options: { port?: number; env?: Record<string, string> } = {}): Promise<DevServer> {
  const port = options.port ?? (await freePort());
  const running = await spawnServer(['--dev', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`], options.env);
  const credentials = JSON.parse(await readFile(join(dataDir, 'dev-credentials.json'), 'utf8')) as DevCredentialsFile;
  return { ...running, port, credentials };
}

export type RunningProcess = Pick<DevServer, 'process' | 'stdout' | 'stderr' | 'stop'>;

/** Starts `datadefender server <args>` (one worker unless `--workers` or the env says otherwise) and resolves once it printed its ready line. */
export async function spawnServer(args: string[], env: Record<string, string> = {}): Promise<RunningProcess> {
  const child = spawn(process.execPath, [BIN, 'server', ...args], {
    env: { ...process.env, DATADEFENDER_LOG_LEVEL: 'warn', DATADEFENDER_WORKERS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // a server that never became ready must not outlive the test
      reject(new Error(`server did not start:\n${err}`));
    }, 30_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${err}`));
    });
  });
  return {
    process: child,
    stdout: () => out,
    stderr: () => err,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

/** Runs the CLI to completion. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

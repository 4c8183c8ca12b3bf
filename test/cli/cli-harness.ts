/** Test helpers for the CLI client: run commands in-process with captured io, and a recording HTTPS server. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { registerClientCommands } from '../../src/cli/client/commands.js';
import { CliError, type CliIo } from '../../src/cli/client/io.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Virtual files (absolute path -> content) served before the real file system. */
  files?: Record<string, string | Buffer>;
  /** Standard input. */
  stdin?: string;
  /** Secret files the command wrote (absolute path -> content); filled in by runCli. */
  written?: Record<string, string>;
}

/** Runs `datadefender <args>` in-process the way src/cli/main.ts does, with every output captured. */
export async function runCli(args: string[], options: RunOptions = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    env: options.env ?? {},
    cwd: options.cwd ?? '/nonexistent-cwd',
    readFile: async (path) => {
      const virtual = options.files?.[path];
      if (virtual !== undefined) return Buffer.from(virtual);
      return readFile(path);
    },
    readStdin: async () => options.stdin ?? '',
    writeSecretFile: async (path, content) => {
      if (options.written === undefined) throw new Error('this test does not expect files to be written');
      if (path in options.written) throw Object.assign(new Error('exists'), { code: 'EEXIST' });
      options.written[path] = content;
    },
  };
  const program = new Command('datadefender')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: (s, write) => write(s) });
  registerClientCommands(program, io);
  try {
    await program.parseAsync(args, { from: 'user' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    if (err instanceof CommanderError) return { code: err.exitCode, stdout, stderr };
    if (err instanceof CliError) return { code: err.exitCode, stdout, stderr: `${stderr}datadefender: ${err.message}\n` };
    throw err;
  }
}

const exec = promisify(execFile);

export interface TlsMaterial {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

/** A self-signed P-256 certificate for 127.0.0.1 made by openssl in `dir` under `name`. */
export async function selfSignedCertificate(dir: string, name: string): Promise<TlsMaterial> {
  const certFile = join(dir, `${name}-cert.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  await exec('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-days', '2', '-keyout', keyFile, '-out', certFile,
  ]);
  return { certFile, keyFile, cert: await readFile(certFile), key: await readFile(keyFile) };
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** The raw body text ('' when none). */
  text: string;
  /** The parsed JSON body, or undefined when there was none. */
  body: unknown;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Sent as is instead of JSON. */
  raw?: string;
}

export type Handler = (req: RecordedRequest) => Reply;

export interface RecordingServer {
  endpoint: string;
  requests: RecordedRequest[];
  /** Replaces the handler (tests set one per case). */
  handle(handler: Handler): void;
  close(): Promise<void>;
}

/** A tiny HTTPS server that records every request and answers with the current handler. */
export async function startRecordingServer(tls: TlsMaterial): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  let handler: Handler = () => ({ status: 500, body: { code: 'ERR_INTERNAL', detail: 'no handler', requestId: 'r0' } });
  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, text, body: text ? JSON.parse(text) : undefined };
      requests.push(recorded);
      const reply = handler(recorded);
      const isProblem = reply.status >= 400;
      res.writeHead(reply.status, {
        'content-type': isProblem ? 'application/problem+json' : 'application/json',
        ...reply.headers,
      });
      res.end(reply.raw ?? (reply.body === undefined ? '' : JSON.stringify(reply.body)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `https://127.0.0.1:${port}`,
    requests,
    handle: (h) => void (handler = h),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A KeyView as the server returns it. */
export function keyView(overrides: Record<string, unknown> = {}) {
  return {
    keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
    arn: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    description: 'payments',
    keySpec: 'SYMMETRIC_DEFAULT',
    keyUsage: 'ENCRYPT_DECRYPT',
    state: 'Enabled',
    createdAt: '2025-01-02T03:04:05.000Z',
    currentVersion: 1,
    currentKeyMaterialId: 'a'.repeat(64),
    rotation: { enabled: true, periodInDays: 365, nextRotationAt: '2026-01-02T03:04:05.000Z' },
    deletionAt: null,
    tags: {},
    ...overrides,
  };
}

export interface ServerFixture {
  /** A temporary directory, removed after the file's tests. */
  readonly dir: string;
  readonly tls: TlsMaterial;
  readonly server: RecordingServer;
  /** The global options that point the CLI at the server. */
  readonly conn: string[];
  /** The one request the server received (fails the test otherwise). */
  only(): RecordedRequest;
}

/**
 * Starts a recording server for the calling test file (vitest hooks): before each test its requests are cleared
 * and its handler answers 500 to anything, so every test sets the answer it expects.
 */
export function useRecordingServer(token: string): ServerFixture {
  const state = {} as { dir: string; tls: TlsMaterial; server: RecordingServer; conn: string[] };
  beforeAll(async () => {
    state.dir = await mkdtemp(join(tmpdir(), 'dd-cli-'));
    state.tls = await selfSignedCertificate(state.dir, 'server');
    state.server = await startRecordingServer(state.tls);
    state.conn = ['--endpoint', state.server.endpoint, '--token', token, '--ca-bundle', state.tls.certFile];
  });
  afterAll(async () => {
    await state.server?.close();
    if (state.dir) await rm(state.dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    state.server.requests.length = 0;
    state.server.handle(() => ({ status: 500, body: { code: 'ERR_INTERNAL', detail: 'unexpected request', requestId: 'r-unexpected' } }));
  });
  return {
    get dir() {
      return state.dir;
    },
    get tls() {
      return state.tls;
    },
    get server() {
      return state.server;
    },
    get conn() {
      return state.conn;
    },
    only() {
      expect(state.server.requests).toHaveLength(1);
      return state.server.requests[0]!;
    },
  };
}

/** A PrincipalView as the server returns it. */
export function principalView(overrides: Record<string, unknown> = {}) {
  return {
    name: 'alice',
    kind: 'user',
    arn: 'arn:aws:iam::111122223333:user/alice',
    roles: ['developer'],
    policies: [],
    tags: {},
    disabled: false,
    createdAt: '2025-01-02T03:04:05.000Z',
    updatedAt: '2025-01-02T03:04:05.000Z',
    ...overrides,
  };
}

/** An ApprovalView as the server returns it. */
export function approvalView(overrides: Record<string, unknown> = {}) {
  return {
    id: '0b6c1f9e-2a3d-4e5f-8a9b-0c1d2e3f4a5b',
    operation: 'ScheduleKeyDeletion',
    resource: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    summary: { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', pendingWindowInDays: 7 },
    status: 'Pending',
    requestedBy: 'arn:aws:iam::111122223333:user/alice',
    decidedBy: null,
    createdAt: '2025-01-02T03:04:05.000Z',
    expiresAt: '2025-01-02T04:04:05.000Z',
    decidedAt: null,
    consumedAt: null,
    ...overrides,
  };
}

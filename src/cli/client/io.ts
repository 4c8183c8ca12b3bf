/**
 * What the CLI client may touch of the outside world, and the one error type its commands throw.
 * `src/cli/main.ts` passes the real process streams, environment and file system; tests pass fakes.
 * The client commands never read `process.env` or `process.cwd()` themselves.
 */

/** The CLI's window on the outside world. */
export interface CliIo {
  /** Writes to standard output (no newline added). */
  stdout: (s: string) => void;
  /** Writes to standard error (no newline added). */
  stderr: (s: string) => void;
  /** The environment (`DATADEFENDER_*` variables are read from here). */
  env: Record<string, string | undefined>;
  /** Reads a whole file; relative paths are resolved against `cwd` by the caller before this is called. */
  readFile: (path: string) => Promise<Buffer>;
  /** The working directory relative paths are resolved against. */
  cwd: string;
  /** Reads all of standard input (unseal shares typed or piped in, never on the command line). */
  readStdin: () => Promise<string>;
  /** Creates a new file readable only by its owner (mode 0600); fails if it exists. Secrets (shares, credentials) go here. */
  writeSecretFile: (path: string, content: string) => Promise<void>;
}

/**
 * An error a client command reports to the user: main prints `datadefender: <message>` to stderr and exits with
 * `exitCode` (1). Its message never contains the token or any plaintext.
 */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? 1;
  }
}

/**
 * The server answered with an RFC 9457 problem (`application/problem+json`). The message reads
 * `<code>: <detail> (request <requestId>)`; the fields are kept for callers that branch on them.
 * When the operation awaits dual-control approval (a 403 `ERR_APPROVAL_REQUIRED` with `approvalRequestId`),
 * a second line says what to do: another principal runs `datadefender approval approve <id>`, then the same
 * command is repeated.
 */
export class ApiError extends CliError {
  readonly status: number;
  /** The server's stable error code, e.g. `ERR_NOT_FOUND`; `HTTP_<status>` when the answer was not a problem. */
  readonly code: string;
  readonly detail: string;
  readonly requestId: string | undefined;
  /** ERR_APPROVAL_REQUIRED: the pending approval request the operation waits for. */
  readonly approvalRequestId: string | undefined;

  constructor(problem: { status: number; code: string; detail: string; requestId?: string | undefined; approvalRequestId?: string | undefined }) {
    super(`${problem.code}: ${problem.detail}${problem.requestId ? ` (request ${problem.requestId})` : ''}${approvalHint(problem.approvalRequestId)}`);
    this.name = 'ApiError';
    this.status = problem.status;
    this.code = problem.code;
    this.detail = problem.detail;
    this.requestId = problem.requestId;
    this.approvalRequestId = problem.approvalRequestId;
  }
}

const approvalHint = (id: string | undefined) =>
  id === undefined
    ? ''
    : `\nThis operation awaits the approval of a second principal (dual control): approval request ${id}. ` +
      `Another principal must approve it with \`datadefender approval approve ${id}\`; then repeat this same command to carry it out.`;

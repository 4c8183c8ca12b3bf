/** What the CLI may touch of the outside world; main passes the real thing, tests pass fakes. */
export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: Record<string, string | undefined>;
  readFile: (path: string) => Promise<Buffer>;
  cwd: string;
}

/** An error the CLI reports as `datadefender: <message>` with a non-zero exit. */
export class CliError extends Error {}

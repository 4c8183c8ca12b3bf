// Shared by the identity tests: one dev server per file, polling for cache-bounded changes, and quick assertions on
// the native API's problem+json answers.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';
import { restClient, type DevCredentialsFile, type RestResponse } from '../helpers/rest-client.js';

/** Caches of credentials, principals and policies hold entries for at most 1 s; polls allow this much. */
export const CACHE_WINDOW_MS = 1500;
/** Slack on top of the cache window for a loaded machine. */
const POLL_DEADLINE_MS = CACHE_WINDOW_MS + 1500;

export interface IdentityServer {
  server: DevServer;
  admin: DevCredentialsFile;
  call: ReturnType<typeof restClient>;
  stop(): Promise<void>;
}

export async function startIdentityServer(prefix: string): Promise<IdentityServer> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const server = await startDevServer(dir);
  return {
    server,
    admin: server.credentials,
    call: restClient(server.credentials),
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Polls `check` until it returns true; returns how long that took. Fails when it has not within the cache window
 * (plus slack for a loaded machine).
 */
export async function eventually(what: string, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > POLL_DEADLINE_MS) throw new Error(`${what}: not within ${POLL_DEADLINE_MS} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Asserts a problem+json answer: status and stable code. */
export function expectProblem(res: RestResponse, status: number, code: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body?.code, JSON.stringify(res.body)).toBe(code);
}

let counter = 0;
/** A fresh principal/policy name (unique within the file's server). */
export const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/** 'ok', or the name of the SDK error the call fails with. */
export async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return (err as Error).name;
  }
}

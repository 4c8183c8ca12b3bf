// boto3 (Debian's python3-boto3, installed by .ci/run) against the dev server: examples/boto3-smoke.py.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO, startDevServer, type DevServer } from '../helpers/dev-server.js';

let dir: string;
let server: DevServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dd-boto3-'));
  server = await startDevServer(dir);
});

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

it('runs the boto3 smoke script: create, encrypt, decrypt, data key, paginator, typed error', () => {
  const run = spawnSync('/usr/bin/python3', [join(REPO, 'examples/boto3-smoke.py'), dir], { encoding: 'utf8', timeout: 120_000 });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const lines = run.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^created [0-9a-f-]{36} datetime$/);
  expect(lines.slice(1)).toEqual(['decrypt IBAN DE89 3704 0044 0532 0130 00 True', 'data key bytes 32', 'paginated keys True', 'error InvalidCiphertextException 400']);
});

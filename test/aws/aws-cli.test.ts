// The AWS CLI (Debian's awscli 2.x, installed by .ci/run) against the dev server: examples/aws-cli-smoke.sh.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO, startDevServer, type DevServer } from '../helpers/dev-server.js';

const AWS_BIN = '/usr/bin/aws';
let dir: string;
let server: DevServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dd-cli-'));
  server = await startDevServer(dir);
});

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

it('runs the AWS CLI smoke script: create-key, alias, encrypt fileb://, decrypt, data key, deletion', () => {
  expect(existsSync(AWS_BIN), `${AWS_BIN} is missing: apt-get install awscli`).toBe(true);
  const run = spawnSync(join(REPO, 'examples/aws-cli-smoke.sh'), [dir], { env: { ...process.env, AWS_BIN }, encoding: 'utf8', timeout: 120_000 });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const lines = run.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^created [0-9a-f-]{36}$/);
  expect(lines.slice(1)).toEqual(['decrypt ok', 'data key bytes 32', 'alias/cli-smoke', 'PendingDeletion', 'KMSInvalidStateException']);
});

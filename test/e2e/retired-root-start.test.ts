// A server whose configuration still names a retired root (after migrate-root) refuses to start, saying so, and
// exits: here a dev server's local root migrated to local-sealed, then started again as a dev server.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, runCli, startDevServer, type DevServer } from '../helpers/dev-server.js';
import { restClient } from '../helpers/rest-client.js';

let dir: string;
let server: DevServer | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dd-retired-root-'));
});
afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

it('after migrate-root away from the local root, a dev server on that root refuses to start and exits', async () => {
  const data = join(dir, 'data');
  const port = await freePort();
  server = await startDevServer(data, { port });
  const creds = join(data, 'dev-credentials.json');
  const key = await restClient(server.credentials)('POST', '/v1/keys', {});
  expect(key.status).toBe(201);
  const migrated = await runCli(['operator', 'migrate-root', '--credentials', creds, '--to', 'local-sealed', '--shares', '1', '--threshold', '1', '--share-dir', dir, '--wait']);
  expect(migrated.code, migrated.stderr).toBe(0);
  await server.stop();
  server = undefined;

  const started = Date.now();
  const again = await runCli(['server', '--dev', '--data-dir', data, '--listen', `127.0.0.1:${port}`], { DATADEFENDER_LOG_LEVEL: 'warn', DATADEFENDER_WORKERS: '1' });
  expect(again.code).toBe(1);
  expect(again.stderr).toMatch(/configured root of trust \(local\) is not a live generation of the root ring \(the active one is generation 2, local-sealed\)/);
  expect(again.stdout).not.toMatch(/listening|https:\/\//);
  expect(Date.now() - started).toBeLessThan(20_000);
}, 90_000);

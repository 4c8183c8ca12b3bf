/**
 * Whatever a client sends, the native API answers with a typed 4xx (or success), never a 5xx and never internals.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/main.js';
import { restClient, type DevCredentialsFile } from '../helpers/rest-client.js';

const ROUTES: Array<[string, string]> = [
  ['POST', '/v1/keys'],
  ['PATCH', '/v1/keys/KEY'],
  ['POST', '/v1/keys/KEY/schedule-deletion'],
  ['POST', '/v1/keys/KEY/tags'],
  ['POST', '/v1/keys/KEY/untag'],
  ['PUT', '/v1/keys/KEY/rotation'],
  ['POST', '/v1/encrypt'],
  ['POST', '/v1/decrypt'],
  ['POST', '/v1/re-encrypt'],
  ['POST', '/v1/data-keys'],
  ['POST', '/v1/random'],
  ['POST', '/v1/aliases'],
  ['PUT', '/v1/aliases/alias/x'],
];

const VALUES: unknown[] = [null, true, 0, -1, 1.5, 1e309, '', 'x', 'alias/aws/x', '====', 'A'.repeat(9000), [], [1], {}, { a: 1 }, { '__proto__': { x: 1 } }];
const FIELDS = ['keyId', 'plaintext', 'ciphertext', 'encryptionContext', 'numberOfBytes', 'keySpec', 'description', 'tags', 'tagKeys', 'enabled', 'periodInDays', 'pendingWindowInDays', 'aliasName', 'destinationKeyId', 'includePlaintext', 'rotationPeriodInDays'];

describe('no 5xx for any input', () => {
  let dir: string;
  let server: RunningServer;
  let rest: ReturnType<typeof restClient>;
  let keyId: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-fuzz-'));
    server = await startServer(loadServerConfig({ dev: true, dataDir: dir, listen: '127.0.0.1:0' }, {}), pino({ level: 'silent' }));
    rest = restClient(JSON.parse(await readFile(server.credentialsFile!, 'utf8')) as DevCredentialsFile);
    keyId = (await rest('POST', '/v1/keys', {})).body.key.keyId;
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers every route, field and odd value with a problem document below 500', async () => {
    let seeded = 0x2545f491;
    const pick = <T>(xs: T[]): T => {
      seeded = (seeded * 1103515245 + 12345) >>> 0;
      return xs[seeded % xs.length]!;
    };
    let requests = 0;
    for (const [method, template] of ROUTES) {
      const path = template.replace('KEY', keyId);
      for (const field of FIELDS) {
        for (const value of VALUES) {
          const body = { [field]: value, ...(field === 'keyId' ? {} : { keyId: pick([keyId, 'alias/none', 'nope']) }) };
          const res = await rest(method, path, body);
          requests++;
          expect(res.status, `${method} ${path} ${JSON.stringify(body).slice(0, 80)}`).toBeLessThan(500);
          if (res.status >= 400) {
            expect(res.body.code).toMatch(/^ERR_/);
            expect(JSON.stringify(res.body)).not.toMatch(/\.(ts|js):\d+|node_modules|SQLITE|Kysely/);
          }
        }
      }
      for (const raw of ['', 'null', '[]', '"str"', '{"a":', '{}'.repeat(3), '\u0000']) {
        const res = await rest(method, path, raw);
        requests++;
        expect(res.status, `${method} ${path} raw ${JSON.stringify(raw)}`).toBeLessThan(500);
      }
    }
    expect(requests).toBeGreaterThan(3000);
  }, 120_000);
});

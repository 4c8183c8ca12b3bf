// A production server rooted in an upstream AWS-KMS-compatible service — a second DataDefender (dev mode) — with
// credentials from the standard AWS chain (environment) and the upstream's CA bundle from the configuration.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, DecryptCommand, DisableKeyCommand, EnableKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kmsClient, startUpstreamKms } from '../helpers/aws-clients.js';
import { freePort, runCli, spawnServer, type DevServer, type RunningProcess } from '../helpers/dev-server.js';
import { addPrincipal } from '../helpers/principals.js';
import { restClient, type DevCredentialsFile } from '../helpers/rest-client.js';

describe('a server on the aws-kms root of trust', () => {
  let dir: string;
  let upstream: DevServer;
  let upstreamKey: string;
  let server: RunningProcess | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dd-awsroot-e2e-'));
    const started = await startUpstreamKms(join(dir, 'upstream'), 'root of another DataDefender');
    ({ upstream, keyArn: upstreamKey } = started);
    env = { DATADEFENDER_ROOT_OF_TRUST: 'aws-kms', ...started.env };
  });

  afterAll(async () => {
    await server?.stop();
    await upstream?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('initializes, serves, and fails closed while the upstream key is disabled', async () => {
    const port = await freePort();
    const data = join(dir, 'data');
    const init = await runCli(['operator', 'init', '--data-dir', data, '--listen', `127.0.0.1:${port}`], env);
    expect(init.stderr).toBe('');
    expect(init.stdout).toMatch(/root of trust: aws-kms/);
    const admin = JSON.parse(await readFile(join(data, 'admin-credentials.json'), 'utf8')) as DevCredentialsFile;
    server = await spawnServer(['--data-dir', data, '--listen', `127.0.0.1:${port}`], env);
    expect((await restClient(admin)('GET', '/v1/health')).body).toMatchObject({ status: 'ok', rootOfTrust: 'aws-kms', root: 'ok' });
    const engineer = await addPrincipal(admin, 'engineer', { roles: ['data-engineer'] });
    const aws = kmsClient(engineer);
    const keyId = (await aws.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const blob = (await aws.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('SSN 078-05-1120') }))).CiphertextBlob!;

    await kmsClient(upstream.credentials).send(new DisableKeyCommand({ KeyId: upstreamKey }));
    const error = await aws.send(new CreateKeyCommand({})).catch((e: Error) => e);
    expect((error as Error).name).toBe('DependencyTimeoutException');
    await kmsClient(upstream.credentials).send(new EnableKeyCommand({ KeyId: upstreamKey }));
    expect(Buffer.from((await aws.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe('SSN 078-05-1120');
    expect((await aws.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

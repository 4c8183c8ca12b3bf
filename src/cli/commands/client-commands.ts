/**
 * The CLI's client commands: `key ...`, `encrypt`, `decrypt`, `generate-data-key`, `whoami`, all over the native
 * REST API. `--json` prints the API's answer as is; otherwise output is for people.
 */
import { Command, Option } from 'commander';
import { resolveClientConfig, type GlobalFlags } from './client-config.js';
import { keyBlock, keyTable, type KeyJson } from './format.js';
import { apiClient, type ApiCall } from './http-client.js';
import { CliError, type CliIo } from './io.js';
import { collectPairs, integer } from './parse.js';

const enc = encodeURIComponent;

export function registerClientCommands(program: Command, io: CliIo): void {
  program
    .option('--endpoint <url>', 'server URL (env DATADEFENDER_ENDPOINT)')
    .option('--token <token>', 'bearer token (env DATADEFENDER_TOKEN)')
    .option('--ca-bundle <file>', 'CA certificate(s) to verify the server (env DATADEFENDER_CA_BUNDLE)')
    .option('--credentials <file>', 'dev-credentials.json to read the above from (env DATADEFENDER_CREDENTIALS)')
    .option('--json', 'print the raw JSON answer');

  /** Runs `fn` with an API client and prints its result as JSON or as text. */
  const run =
    <A extends unknown[]>(fn: (api: ApiCall, ...args: A) => Promise<{ json: unknown; text: string }>) =>
    async (...args: A) => {
      const command = args[args.length - 1] as Command;
      const flags = command.optsWithGlobals() as GlobalFlags;
      const api = apiClient(await resolveClientConfig(io, flags));
      const out = await fn(api, ...args);
      io.stdout(flags.json ? `${JSON.stringify(out.json, null, 2)}\n` : out.text);
    };

  const keyResult = (json: { key: KeyJson }) => ({ json, text: keyBlock(json.key) });

  const key = program.command('key').description('manage KMS keys');
  key
    .command('create')
    .description('create a symmetric KMS key')
    .option('--description <text>', 'description')
    .option('--tag <k=v>', 'tag (repeatable)', collectPairs)
    .option('--rotation-period <days>', 'automatic rotation period, 90-2560 days (default 180)', integer('--rotation-period'))
    .option('--no-automatic-rotation', 'create without automatic rotation')
    .action(
      run(async (api, opts: { description?: string; tag?: Record<string, string>; rotationPeriod?: number; automaticRotation: boolean }) =>
        keyResult(
          await api('POST', '/v1/keys', {
            ...(opts.description === undefined ? {} : { description: opts.description }),
            ...(opts.tag ? { tags: opts.tag } : {}),
            ...(opts.rotationPeriod === undefined ? {} : { rotationPeriodInDays: opts.rotationPeriod }),
            ...(opts.automaticRotation ? {} : { automaticRotation: false }),
          }),
        ),
      ),
    );

  key
    .command('list')
    .description('list keys')
    .option('--limit <n>', 'keys per page (1-1000)', integer('--limit'))
    .option('--all', 'follow every page')
    .action(
      run(async (api, opts: { limit?: number; all?: boolean }) => {
        const keys: KeyJson[] = [];
        let marker: string | undefined;
        do {
          const query = new URLSearchParams({ ...(opts.limit ? { limit: String(opts.limit) } : {}), ...(marker ? { marker } : {}) });
          const page = (await api('GET', `/v1/keys?${query}`)) as { keys: KeyJson[]; nextMarker?: string };
          keys.push(...page.keys);
          marker = opts.all ? page.nextMarker : undefined;
        } while (marker);
        return { json: { keys }, text: keyTable(keys) };
      }),
    );

  key.command('describe <key>').description('show one key').action(run(async (api, id: string) => keyResult(await api('GET', `/v1/keys/${enc(id)}`))));

  for (const [name, path, description] of [
    ['rotate', 'rotate', 'rotate the key material now'],
    ['enable', 'enable', 'enable a disabled key'],
    ['disable', 'disable', 'disable a key (cryptographic use refused)'],
    ['cancel-deletion', 'cancel-deletion', 'cancel a scheduled deletion (the key stays disabled)'],
  ] as const) {
    key.command(`${name} <key>`).description(description).action(run(async (api, id: string) => keyResult(await api('POST', `/v1/keys/${enc(id)}/${path}`))));
  }

  key
    .command('schedule-deletion <key>')
    .description('destroy the key and all its material after a waiting period')
    .option('--days <n>', 'waiting period, 7-30 days (default 30)', integer('--days'))
    .action(
      run(async (api, id: string, opts: { days?: number }) =>
        keyResult(await api('POST', `/v1/keys/${enc(id)}/schedule-deletion`, opts.days === undefined ? {} : { pendingWindowInDays: opts.days })),
      ),
    );

  program
    .command('encrypt')
    .description('encrypt up to 4096 bytes; prints the base64 ciphertext')
    .requiredOption('--key-id <key>', 'key id, ARN or alias')
    .addOption(new Option('--plaintext <text>', 'text to encrypt').conflicts('in'))
    .option('--in <file>', 'file to encrypt')
    .option('--context <k=v>', 'encryption context pair (repeatable)', collectPairs)
    .action(
      run(async (api, opts: { keyId: string; plaintext?: string; in?: string; context?: Record<string, string> }) => {
        if (opts.plaintext === undefined && opts.in === undefined) throw new CliError('give --plaintext or --in');
        const bytes = opts.in === undefined ? Buffer.from(opts.plaintext!, 'utf8') : await io.readFile(opts.in);
        const json = await api('POST', '/v1/encrypt', {
          keyId: opts.keyId,
          plaintext: bytes.toString('base64'),
          ...(opts.context ? { encryptionContext: opts.context } : {}),
        });
        return { json, text: `${json.ciphertext}\n` };
      }),
    );

  program
    .command('decrypt')
    .description('decrypt a ciphertext; prints the plaintext')
    .addOption(new Option('--ciphertext <base64>', 'base64 ciphertext').conflicts('in'))
    .option('--in <file>', 'file holding the base64 ciphertext')
    .option('--context <k=v>', 'encryption context pair (repeatable)', collectPairs)
    .option('--key-id <key>', 'expected key (refused if the ciphertext names another)')
    .option('--base64', 'print the plaintext as base64')
    .action(
      run(async (api, opts: { ciphertext?: string; in?: string; context?: Record<string, string>; keyId?: string; base64?: boolean }) => {
        if (opts.ciphertext === undefined && opts.in === undefined) throw new CliError('give --ciphertext or --in');
        const ciphertext = opts.in === undefined ? opts.ciphertext! : (await io.readFile(opts.in)).toString('utf8').trim();
        const json = await api('POST', '/v1/decrypt', {
          ciphertext,
          ...(opts.context ? { encryptionContext: opts.context } : {}),
          ...(opts.keyId ? { keyId: opts.keyId } : {}),
        });
        return { json, text: opts.base64 ? `${json.plaintext}\n` : Buffer.from(json.plaintext, 'base64').toString('utf8') };
      }),
    );

  program
    .command('generate-data-key')
    .description('generate a data key for envelope encryption')
    .requiredOption('--key-id <key>', 'key id, ARN or alias')
    .addOption(new Option('--key-spec <spec>', 'AES_256 or AES_128').choices(['AES_256', 'AES_128']).conflicts('bytes'))
    .option('--bytes <n>', 'data key length, 1-1024 bytes', integer('--bytes'))
    .option('--context <k=v>', 'encryption context pair (repeatable)', collectPairs)
    .option('--no-plaintext', 'return only the encrypted data key')
    .action(
      run(async (api, opts: { keyId: string; keySpec?: string; bytes?: number; context?: Record<string, string>; plaintext: boolean }) => {
        const json = await api('POST', '/v1/data-keys', {
          keyId: opts.keyId,
          ...(opts.bytes === undefined ? { keySpec: opts.keySpec ?? 'AES_256' } : { numberOfBytes: opts.bytes }),
          ...(opts.context ? { encryptionContext: opts.context } : {}),
          includePlaintext: opts.plaintext,
        });
        const lines: Array<[string, string]> = [['ciphertext', json.ciphertext], ...(json.plaintext ? ([['plaintext', json.plaintext]] as Array<[string, string]>) : [])];
        return { json, text: lines.map(([k, v]) => `${k}: ${v}`).join('\n') + '\n' };
      }),
    );

  program
    .command('whoami')
    .description('show who the credentials authenticate as')
    .action(
      run(async (api) => {
        const json = await api('GET', '/v1/whoami');
        return { json, text: `${json.principal.arn} (roles: ${json.principal.roles.join(', ') || 'none'})\n` };
      }),
    );
}

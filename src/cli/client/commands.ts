/**
 * The client commands of `datadefender`: `key ...`, `encrypt`, `decrypt`, `generate-data-key` and `whoami`, all over
 * the native REST API. Human output by default; `--json` prints the API's answer for scripts.
 *
 * Every option value is validated while commander parses (see args.ts), and every combination of options in the
 * action before the configuration is resolved, so a bad command line sends nothing. Failures are thrown as
 * {@link CliError} (API problems as its subclass ApiError) for `src/cli/main.ts` to print and turn into an exit code.
 */
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type {
  DataKeyResponse,
  DecryptResponse,
  EncryptResponse,
  KeyListResponse,
  KeyResponse,
  KeyView,
  WhoamiResponse,
} from './api-types.js';
import { CLI_LIMITS, collectKeyValue, integerIn, isBase64 } from './args.js';
import { ENV, loadClientConfig, type GlobalOptions } from './client-config.js';
import { formatDataKey, formatJson, formatKeyDetails, formatKeyTable, formatWhoami } from './format.js';
import { createApiClient, type ApiClient } from './http-client.js';
import { CliError, type CliIo } from './io.js';

const seg = encodeURIComponent;

/** What an action needs: the resolved global options, a lazily configured API client, and output. */
interface Session {
  readonly json: boolean;
  api(): Promise<ApiClient>;
  /** Prints `response` as JSON under --json, else `human()`. */
  print(response: unknown, human: () => string): void;
}

function session(command: Command, io: CliIo): Session {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const json = globals.json === true;
  return {
    json,
    api: async () => createApiClient(await loadClientConfig(globals, io)),
    print: (response, human) => io.stdout(json ? formatJson(response) : human()),
  };
}

/** Reads a file named on the command line (relative to the working directory). @throws CliError */
async function readInput(io: CliIo, file: string, what: string): Promise<Buffer> {
  const path = resolve(io.cwd, file);
  try {
    return await io.readFile(path);
  } catch (err) {
    const code = typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : String(err);
    throw new CliError(`Cannot read ${what} ${path}: ${code}.`, { cause: err });
  }
}

/** Exactly one of two options must be given. @throws CliError */
function exactlyOne(a: unknown, b: unknown, names: string): void {
  if ((a === undefined) === (b === undefined)) throw new CliError(`Give exactly one of ${names}.`);
}

/** @throws CliError when the server's answer lacks a string field the command prints. */
function expectString(response: unknown, field: string, endpoint: string): string {
  const value = typeof response === 'object' && response !== null ? (response as Record<string, unknown>)[field] : undefined;
  if (typeof value !== 'string') throw new CliError(`Unexpected answer from ${endpoint}: no "${field}".`);
  return value;
}

function expectKey(response: unknown, endpoint: string): KeyView {
  const key = typeof response === 'object' && response !== null ? (response as { key?: unknown }).key : undefined;
  if (typeof key !== 'object' || key === null || typeof (key as { keyId?: unknown }).keyId !== 'string') {
    throw new CliError(`Unexpected answer from ${endpoint}: no "key".`);
  }
  return key as KeyView;
}

const contextOption = () => new Option('--context <k=v>', 'encryption context pair; repeat for more (split on the first "=")').argParser(collectKeyValue);

/**
 * Adds the global client options (`--endpoint`, `--token`, `--ca-bundle`, `--credentials`, `--json`) to `program`
 * and registers the client commands under it.
 */
export function registerClientCommands(program: Command, io: CliIo): void {
  program
    .option('--endpoint <url>', `server URL, https://host:port (env ${ENV.endpoint})`)
    .option('--token <token>', `access token (env ${ENV.token})`)
    .option('--ca-bundle <file>', `PEM CA certificate(s) to verify the server with (env ${ENV.caBundle})`)
    .option('--credentials <file>', `dev-credentials.json to take the above from (env ${ENV.credentials}; default ./data/dev-credentials.json)`)
    .option('--json', 'print the raw JSON answer (for scripts)');

  registerKeyCommands(program, io);
  registerCryptoCommands(program, io);

  program
    .command('whoami')
    .description('show the principal the credentials authenticate as')
    .action(async (_opts: object, command: Command) => {
      const s = session(command, io);
      const response = await (await s.api()).request<WhoamiResponse>('GET', '/v1/whoami');
      s.print(response, () => formatWhoami(response));
    });
}

function registerKeyCommands(program: Command, io: CliIo): void {
  const key = program.command('key').description('manage KMS keys');

  key
    .command('create')
    .description('create a symmetric encryption key')
    .option('--description <text>', 'description')
    .addOption(new Option('--tag <k=v>', 'tag; repeat for more').argParser(collectKeyValue))
    .option(
      '--rotation-period <days>',
      `automatic rotation period in days (${CLI_LIMITS.rotationPeriodDays.min}-${CLI_LIMITS.rotationPeriodDays.max}; server default otherwise)`,
      integerIn(CLI_LIMITS.rotationPeriodDays),
    )
    .option('--no-automatic-rotation', 'create the key without automatic rotation')
    .action(
      async (
        opts: { description?: string; tag?: Record<string, string>; rotationPeriod?: number; automaticRotation: boolean },
        command: Command,
      ) => {
        if (opts.rotationPeriod !== undefined && !opts.automaticRotation) {
          throw new CliError('--rotation-period and --no-automatic-rotation contradict each other.');
        }
        const body = {
          ...(opts.description === undefined ? {} : { description: opts.description }),
          ...(opts.tag === undefined ? {} : { tags: opts.tag }),
          ...(opts.rotationPeriod === undefined ? {} : { rotationPeriodInDays: opts.rotationPeriod }),
          ...(opts.automaticRotation ? {} : { automaticRotation: false }),
        };
        const s = session(command, io);
        const api = await s.api();
        const response = await api.request<KeyResponse>('POST', '/v1/keys', body);
        const created = expectKey(response, api.endpoint);
        s.print(response, () => formatKeyDetails(created));
      },
    );

  key
    .command('list')
    .description('list keys')
    .option('--limit <n>', `keys per page (${CLI_LIMITS.listLimit.min}-${CLI_LIMITS.listLimit.max})`, integerIn(CLI_LIMITS.listLimit))
    .option('--marker <marker>', 'continue from the nextMarker of an earlier page')
    .option('--all', 'follow nextMarker through every page')
    .action(async (opts: { limit?: number; marker?: string; all?: boolean }, command: Command) => {
      const s = session(command, io);
      const api = await s.api();
      const keys: KeyView[] = [];
      const seen = new Set<string>();
      let marker = opts.marker;
      let last: KeyListResponse;
      for (;;) {
        const query = new URLSearchParams();
        if (opts.limit !== undefined) query.set('limit', String(opts.limit));
        if (marker !== undefined) query.set('marker', marker);
        const qs = query.toString();
        last = await api.request<KeyListResponse>('GET', `/v1/keys${qs ? `?${qs}` : ''}`);
        if (!Array.isArray(last?.keys)) throw new CliError(`Unexpected answer from ${api.endpoint}: no "keys".`);
        keys.push(...last.keys);
        if (!opts.all || typeof last.nextMarker !== 'string' || last.nextMarker === '') break;
        if (seen.has(last.nextMarker)) throw new CliError(`The server at ${api.endpoint} returned the same nextMarker twice; stopping.`);
        seen.add(last.nextMarker);
        marker = last.nextMarker;
      }
      // With --all the pages are merged into one answer of the same shape; without it the page is printed as is.
      s.print(opts.all ? { keys } : last, () => formatKeyTable(keys));
      if (!opts.all && !s.json && typeof last.nextMarker === 'string' && last.nextMarker !== '') {
        io.stderr(`More keys: pass --all, or --marker ${last.nextMarker}\n`);
      }
    });

  key
    .command('describe <keyId>')
    .description('show one key (key id, key ARN, alias name or alias ARN)')
    .action(async (keyId: string, _opts: object, command: Command) => {
      const s = session(command, io);
      const api = await s.api();
      const response = await api.request<KeyResponse>('GET', `/v1/keys/${seg(keyId)}`);
      const described = expectKey(response, api.endpoint);
      s.print(response, () => formatKeyDetails(described));
    });

  const simple = [
    ['rotate', 'create new key material now (old versions stay for decryption)'],
    ['enable', 'enable a disabled key'],
    ['disable', 'disable a key: it refuses every cryptographic operation until enabled'],
    ['cancel-deletion', 'cancel a scheduled deletion (the key stays disabled)'],
  ] as const;
  for (const [name, description] of simple) {
    key
      .command(`${name} <keyId>`)
      .description(description)
      .action(async (keyId: string, _opts: object, command: Command) => {
        const s = session(command, io);
        const api = await s.api();
        const response = await api.request<KeyResponse>('POST', `/v1/keys/${seg(keyId)}/${name}`);
        const updated = expectKey(response, api.endpoint);
        s.print(response, () => formatKeyDetails(updated));
      });
  }

  key
    .command('schedule-deletion <keyId>')
    .description('destroy the key and all its versions after a waiting period: data under it becomes unrecoverable')
    .option(
      '--days <n>',
      `waiting period in days (${CLI_LIMITS.pendingWindowDays.min}-${CLI_LIMITS.pendingWindowDays.max}; server default 30)`,
      integerIn(CLI_LIMITS.pendingWindowDays),
    )
    .action(async (keyId: string, opts: { days?: number }, command: Command) => {
      const s = session(command, io);
      const api = await s.api();
      const body = opts.days === undefined ? {} : { pendingWindowInDays: opts.days };
      const response = await api.request<KeyResponse>('POST', `/v1/keys/${seg(keyId)}/schedule-deletion`, body);
      const scheduled = expectKey(response, api.endpoint);
      s.print(response, () => formatKeyDetails(scheduled));
    });
}

function registerCryptoCommands(program: Command, io: CliIo): void {
  program
    .command('encrypt')
    .description(`encrypt ${CLI_LIMITS.plaintextBytes.min}-${CLI_LIMITS.plaintextBytes.max} bytes; prints the base64 ciphertext`)
    .requiredOption('--key-id <keyId>', 'key id, key ARN, alias name or alias ARN')
    .addOption(new Option('--plaintext <text>', 'text to encrypt (UTF-8)').conflicts('in'))
    .option('--in <file>', 'file whose bytes to encrypt')
    .addOption(contextOption())
    .action(async (opts: { keyId: string; plaintext?: string; in?: string; context?: Record<string, string> }, command: Command) => {
      exactlyOne(opts.plaintext, opts.in, '--plaintext and --in');
      const bytes = opts.in === undefined ? Buffer.from(opts.plaintext!, 'utf8') : await readInput(io, opts.in, 'the plaintext file');
      const { min, max } = CLI_LIMITS.plaintextBytes;
      if (bytes.length < min || bytes.length > max) {
        throw new CliError(`The plaintext is ${bytes.length} bytes; it must be ${min} to ${max} bytes (use generate-data-key for more data).`);
      }
      const body = {
        keyId: opts.keyId,
        plaintext: bytes.toString('base64'),
        ...(opts.context === undefined ? {} : { encryptionContext: opts.context }),
      };
      const s = session(command, io);
      const api = await s.api();
      const response = await api.request<EncryptResponse>('POST', '/v1/encrypt', body);
      const ciphertext = expectString(response, 'ciphertext', api.endpoint);
      s.print(response, () => `${ciphertext}\n`);
    });

  program
    .command('decrypt')
    .description('decrypt a ciphertext; writes the plaintext to stdout as text (or base64 with --base64)')
    .addOption(new Option('--ciphertext <base64>', 'base64 ciphertext').conflicts('in'))
    .option('--in <file>', 'file holding the base64 ciphertext (whitespace ignored)')
    .addOption(contextOption())
    .option('--key-id <keyId>', 'the key expected to have made the ciphertext (refused otherwise)')
    .option('--base64', 'print the plaintext base64-encoded (for binary data)')
    .action(
      async (
        opts: { ciphertext?: string; in?: string; context?: Record<string, string>; keyId?: string; base64?: boolean },
        command: Command,
      ) => {
        exactlyOne(opts.ciphertext, opts.in, '--ciphertext and --in');
        const raw = opts.in === undefined ? opts.ciphertext! : (await readInput(io, opts.in, 'the ciphertext file')).toString('utf8');
        const ciphertext = raw.replace(/\s+/g, '');
        if (!isBase64(ciphertext)) throw new CliError(`The ciphertext${opts.in === undefined ? '' : ` in ${opts.in}`} is not standard base64.`);
        const body = {
          ciphertext,
          ...(opts.context === undefined ? {} : { encryptionContext: opts.context }),
          ...(opts.keyId === undefined ? {} : { keyId: opts.keyId }),
        };
        const s = session(command, io);
        const api = await s.api();
        const response = await api.request<DecryptResponse>('POST', '/v1/decrypt', body);
        const plaintext = expectString(response, 'plaintext', api.endpoint);
        s.print(response, () => {
          if (opts.base64) return `${plaintext}\n`;
          const bytes = Buffer.from(plaintext, 'base64');
          const text = bytes.toString('utf8');
          if (!Buffer.from(text, 'utf8').equals(bytes)) io.stderr('Warning: the plaintext is not valid UTF-8; use --base64 to get its exact bytes.\n');
          return text;
        });
      },
    );

  program
    .command('generate-data-key')
    .description('generate a data key for envelope encryption: the key in clear (base64) and encrypted under the KMS key')
    .requiredOption('--key-id <keyId>', 'key id, key ARN, alias name or alias ARN')
    .addOption(new Option('--key-spec <spec>', 'data key length as a spec (default AES_256)').choices(['AES_256', 'AES_128']).conflicts('bytes'))
    .option(
      '--bytes <n>',
      `data key length in bytes (${CLI_LIMITS.dataKeyBytes.min}-${CLI_LIMITS.dataKeyBytes.max})`,
      integerIn(CLI_LIMITS.dataKeyBytes),
    )
    .addOption(contextOption())
    .option('--no-plaintext', 'return only the encrypted data key')
    .action(
      async (
        opts: { keyId: string; keySpec?: 'AES_256' | 'AES_128'; bytes?: number; context?: Record<string, string>; plaintext: boolean },
        command: Command,
      ) => {
        const body = {
          keyId: opts.keyId,
          ...(opts.bytes === undefined ? { keySpec: opts.keySpec ?? 'AES_256' } : { numberOfBytes: opts.bytes }),
          ...(opts.context === undefined ? {} : { encryptionContext: opts.context }),
          includePlaintext: opts.plaintext,
        };
        const s = session(command, io);
        const api = await s.api();
        const response = await api.request<DataKeyResponse>('POST', '/v1/data-keys', body);
        expectString(response, 'ciphertext', api.endpoint);
        s.print(response, () => formatDataKey(response));
      },
    );
}

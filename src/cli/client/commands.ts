/**
 * The client commands of `datadefender`: `key ...`, `encrypt`, `decrypt`, `generate-data-key` and `whoami`, all over
 * the native REST API, and the registration of the identity (identity-commands.ts) and access-control
 * (access-commands.ts) groups. Human output by default; `--json` prints the API's answer for scripts.
 *
 * Every option value is validated while commander parses (see args.ts), and every combination of options in the
 * action before the configuration is resolved, so a bad command line sends nothing. Failures are thrown as
 * {@link CliError} (API problems as its subclass ApiError) for `src/cli/main.ts` to print and turn into an exit code.
 */
import { Option, type Command } from 'commander';
import type {
  DataKeyResponse,
  DecryptResponse,
  EncryptResponse,
  KeyResponse,
  KeyView,
  WhoamiResponse,
} from './api-types.js';
import { CLI_LIMITS, collectKeyValue, integerIn, isBase64 } from './args.js';
import { ENV } from './client-config.js';
import { formatDataKey, formatKeyDetails, formatKeyTable, formatWhoami } from './format.js';
import { registerAccessCommands } from './access-commands.js';
import { registerAuditCommands } from './audit-commands.js';
import { registerPkiCommands } from './pki-commands.js';
import { registerOperatorCommands } from './operator-commands.js';
import { registerIdentityCommands } from './identity-commands.js';
import { CliError, type CliIo } from './io.js';
import { exactlyOne, expectObject, expectString, fetchPages, hintNextPage, readInput, seg, session, type PageOptions } from './session.js';

const expectKey = (response: unknown, endpoint: string): KeyView => expectObject<KeyView>(response, 'key', 'keyId', endpoint);

const contextOption = () => new Option('--context <k=v>', 'encryption context pair; repeat for more (split on the first "=")').argParser(collectKeyValue);

/**
 * Adds the global client options (`--endpoint`, `--token`, `--ca-bundle`, `--credentials`, `--json`) to `program`
 * and registers the client commands under it.
 */
/** Registers every client command; returns the `operator` group (the server-side `operator init` joins it). */
export function registerClientCommands(program: Command, io: CliIo): { operator: Command } {
  program
    .option('--endpoint <url>', `server URL, https://host:port (env ${ENV.endpoint})`)
    .option('--token <token>', `access token (env ${ENV.token})`)
    .option('--ca-bundle <file>', `PEM CA certificate(s) to verify the server with (env ${ENV.caBundle})`)
    .option('--credentials <file>', `dev-credentials.json to take the above from (env ${ENV.credentials}; default ./data/dev-credentials.json)`)
    .option('--client-cert <file>', `mutual TLS: client certificate (PEM) that authenticates you without a token (env ${ENV.clientCert})`)
    .option('--client-key <file>', `mutual TLS: the client certificate's private key (env ${ENV.clientKey})`)
    .option('--json', 'print the raw JSON answer (for scripts)');

  registerKeyCommands(program, io);
  registerCryptoCommands(program, io);

  program
    .command('whoami')
    .description('show the principal the credentials authenticate as, its roles, policies and tags')
    .action(async (_opts: object, command: Command) => {
      const s = session(command, io);
      const api = await s.api();
      const response = await api.request<WhoamiResponse>('GET', '/v1/whoami');
      expectObject(response, 'principal', 'arn', api.endpoint);
      s.print(response, () => formatWhoami(response));
    });

  registerIdentityCommands(program, io);
  registerAccessCommands(program, io);
  registerAuditCommands(program, io);
  registerPkiCommands(program, io);
  const operator = program.command('operator').description('the root of trust: init (server stopped), status, unseal, seal, rekey');
  registerOperatorCommands(operator, io);
  return { operator };
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
    .action(async (opts: PageOptions, command: Command) => {
      const s = session(command, io);
      const page = await fetchPages<KeyView>(await s.api(), '/v1/keys', 'keys', opts);
      s.print(page.answer, () => formatKeyTable(page.items));
      hintNextPage(io, s, 'keys', page.nextMarker);
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

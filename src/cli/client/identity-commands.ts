/**
 * The identity commands of `datadefender`: `principal ...`, `access-key ...`, `token ...` and `certificate ...`,
 * over the native REST API (administrators). Human output by default; `--json` prints the API's answer.
 *
 * Invariants:
 * - Names, ids and option values are validated while commander parses (args.ts), and files are read and checked
 *   before the configuration is resolved, so a bad command line sends nothing. Path segments are URL-encoded.
 * - A new secret (secret access key, bearer token) is printed once, in the answer to its creation, with a warning
 *   on stderr that it will not be shown again; no other command prints one.
 * - `token revoke` refuses a bearer token in place of its accessor, so a token never travels in a URL.
 */
import { Option, type Command } from 'commander';
import type {
  AccessKeyListResponse,
  AccessKeyResponse,
  AccessKeyView,
  CertificateListResponse,
  CertificateResponse,
  CertificateView,
  CreatedAccessKeyResponse,
  CreatedTokenResponse,
  PrincipalResponse,
  PrincipalView,
  TokenListResponse,
  TokenView,
} from './api-types.js';
import {
  CLI_LIMITS,
  collectKeyValue,
  collectName,
  collectTagKey,
  integerIn,
  parseAccessKeyId,
  parseAccessor,
  parseFingerprint,
  parseName,
} from './args.js';
import {
  SECRET_WARNING,
  formatAccessKeyDetails,
  formatAccessKeyTable,
  formatCertificateDetails,
  formatCertificateTable,
  formatCreatedAccessKey,
  formatCreatedToken,
  formatPrincipalDetails,
  formatPrincipalTable,
  formatTokenTable,
} from './identity-format.js';
import { CliError, type CliIo } from './io.js';
import { expectArray, expectObject, expectString, fetchPages, hintNextPage, printDone, readInput, seg, session, type PageOptions } from './session.js';
import type { HttpMethod } from './http-client.js';

/** The server checks the PEM in full; this only catches the wrong file before it is sent. */
const MAX_PEM_CHARS = 16_384;

/** Reads a client certificate PEM file. @throws CliError when it holds no certificate, or holds a private key. */
async function readCertificate(io: CliIo, file: string): Promise<string> {
  const pem = (await readInput(io, file, 'the certificate file')).toString('utf8');
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem)) {
    throw new CliError(`${file} contains a private key; give a file with only the certificate (the private key never leaves the client).`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new CliError(`${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----).`);
  if (pem.length > MAX_PEM_CHARS) throw new CliError(`${file} is larger than ${MAX_PEM_CHARS} characters; give a single certificate.`);
  return pem;
}

/** Registers `principal`, `access-key`, `token` and `certificate` under `program`. */
export function registerIdentityCommands(program: Command, io: CliIo): void {
  registerPrincipalCommands(program, io);
  registerAccessKeyCommands(program, io);
  registerTokenCommands(program, io);
  registerCertificateCommands(program, io);
}

const expectPrincipal = (response: unknown, endpoint: string) => expectObject<PrincipalView>(response, 'principal', 'name', endpoint);

function registerPrincipalCommands(program: Command, io: CliIo): void {
  const principal = program.command('principal').description('manage principals (users and services), their roles, policies and tags');

  /** Sends one request about a principal that answers `{ principal }`, and prints it. */
  const principalRequest = async (command: Command, method: HttpMethod, path: string, body?: unknown) => {
    const s = session(command, io);
    const api = await s.api();
    const response = await api.request<PrincipalResponse>(method, path, body);
    const p = expectPrincipal(response, api.endpoint);
    s.print(response, () => formatPrincipalDetails(p));
  };

  principal
    .command('create')
    .description('create a principal')
    .argument('<name>', 'principal name (letters, digits and +=,.@_-)', parseName)
    .addOption(new Option('--kind <kind>', 'user (a person) or service (an application); server default user').choices(['user', 'service']))
    .addOption(new Option('--role <role>', 'built-in role to grant; repeat for more (see role list)').argParser(collectName))
    .addOption(new Option('--policy <policy>', 'identity policy to attach; repeat for more (see policy list)').argParser(collectName))
    .addOption(new Option('--tag <k=v>', 'tag; repeat for more').argParser(collectKeyValue))
    .action(
      async (name: string, opts: { kind?: string; role?: string[]; policy?: string[]; tag?: Record<string, string> }, command: Command) => {
        const body = {
          name,
          ...(opts.kind === undefined ? {} : { kind: opts.kind }),
          ...(opts.role === undefined ? {} : { roles: opts.role }),
          ...(opts.policy === undefined ? {} : { policies: opts.policy }),
          ...(opts.tag === undefined ? {} : { tags: opts.tag }),
        };
        await principalRequest(command, 'POST', '/v1/principals', body);
      },
    );

  principal
    .command('list')
    .description('list principals')
    .option('--limit <n>', `principals per page (${CLI_LIMITS.listLimit.min}-${CLI_LIMITS.listLimit.max})`, integerIn(CLI_LIMITS.listLimit))
    .option('--marker <marker>', 'continue from the nextMarker of an earlier page')
    .option('--all', 'follow nextMarker through every page')
    .action(async (opts: PageOptions, command: Command) => {
      const s = session(command, io);
      const page = await fetchPages<PrincipalView>(await s.api(), '/v1/principals', 'principals', opts);
      s.print(page.answer, () => formatPrincipalTable(page.items));
      hintNextPage(io, s, 'principals', page.nextMarker);
    });

  principal
    .command('show')
    .description('show one principal')
    .argument('<name>', 'principal name', parseName)
    .action((name: string, _opts: object, command: Command) => principalRequest(command, 'GET', `/v1/principals/${seg(name)}`));

  principal
    .command('delete')
    .description('delete a principal with its access keys, tokens and certificate mappings')
    .argument('<name>', 'principal name', parseName)
    .action(async (name: string, _opts: object, command: Command) => {
      const s = session(command, io);
      await (await s.api()).request('DELETE', `/v1/principals/${seg(name)}`);
      printDone(s, io, `Deleted principal ${name}.`);
    });

  for (const [verb, description] of [
    ['enable', 'let a disabled principal authenticate again'],
    ['disable', 'refuse every credential of a principal until it is enabled'],
  ] as const) {
    principal
      .command(verb)
      .description(description)
      .argument('<name>', 'principal name', parseName)
      .action((name: string, _opts: object, command: Command) => principalRequest(command, 'POST', `/v1/principals/${seg(name)}/${verb}`));
  }

  principal
    .command('tag')
    .description('add or overwrite tags of a principal')
    .argument('<name>', 'principal name', parseName)
    .addOption(new Option('--tag <k=v>', 'tag; repeat for more').argParser(collectKeyValue).makeOptionMandatory())
    .action((name: string, opts: { tag: Record<string, string> }, command: Command) =>
      principalRequest(command, 'POST', `/v1/principals/${seg(name)}/tags`, { tags: opts.tag }),
    );

  principal
    .command('untag')
    .description('remove tags from a principal')
    .argument('<name>', 'principal name', parseName)
    .addOption(new Option('--tag-key <key>', 'tag key to remove; repeat for more').argParser(collectTagKey).makeOptionMandatory())
    .action((name: string, opts: { tagKey: string[] }, command: Command) =>
      principalRequest(command, 'POST', `/v1/principals/${seg(name)}/untag`, { tagKeys: opts.tagKey }),
    );

  const membership = [
    ['add-role', 'PUT', 'roles', 'role', 'grant a built-in role to a principal (see role list)'],
    ['remove-role', 'DELETE', 'roles', 'role', 'take a built-in role from a principal'],
    ['attach-policy', 'PUT', 'policies', 'policy', 'attach an identity policy to a principal (see policy list)'],
    ['detach-policy', 'DELETE', 'policies', 'policy', 'detach an identity policy from a principal'],
  ] as const;
  for (const [verb, method, collection, what, description] of membership) {
    principal
      .command(verb)
      .description(description)
      .argument('<name>', 'principal name', parseName)
      .argument(`<${what}>`, `${what} name`, parseName)
      .action((name: string, item: string, _opts: object, command: Command) =>
        principalRequest(command, method, `/v1/principals/${seg(name)}/${collection}/${seg(item)}`),
      );
  }
}

function registerAccessKeyCommands(program: Command, io: CliIo): void {
  const accessKey = program.command('access-key').description("manage principals' access keys (AWS SigV4 credentials)");

  accessKey
    .command('create')
    .description('create an access key for a principal; prints its secret once')
    .argument('<principal>', 'principal name', parseName)
    .option(
      '--expires-in-days <n>',
      `expire the key after this many days (${CLI_LIMITS.accessKeyExpiryDays.min}-${CLI_LIMITS.accessKeyExpiryDays.max}; default never)`,
      integerIn(CLI_LIMITS.accessKeyExpiryDays),
    )
    .action(async (name: string, opts: { expiresInDays?: number }, command: Command) => {
      const s = session(command, io);
      const api = await s.api();
      const body = opts.expiresInDays === undefined ? {} : { expiresInDays: opts.expiresInDays };
      const response = await api.request<CreatedAccessKeyResponse>('POST', `/v1/principals/${seg(name)}/access-keys`, body);
      expectString(expectObject<AccessKeyView>(response, 'accessKey', 'accessKeyId', api.endpoint), 'secretAccessKey', api.endpoint);
      s.print(response, () => formatCreatedAccessKey(response));
      io.stderr(SECRET_WARNING);
    });

  accessKey
    .command('list')
    .description("list a principal's access keys (never their secrets)")
    .argument('<principal>', 'principal name', parseName)
    .action(async (name: string, _opts: object, command: Command) => {
      const s = session(command, io);
      const api = await s.api();
      const response = await api.request<AccessKeyListResponse>('GET', `/v1/principals/${seg(name)}/access-keys`);
      const keys = expectArray<AccessKeyView>(response, 'accessKeys', api.endpoint);
      s.print(response, () => formatAccessKeyTable(keys));
    });

  for (const [verb, status, description] of [
    ['activate', 'Active', 'let an inactive access key sign requests again'],
    ['deactivate', 'Inactive', 'refuse requests signed with an access key until it is activated'],
  ] as const) {
    accessKey
      .command(verb)
      .description(description)
      .argument('<id>', 'access key id', parseAccessKeyId)
      .action(async (id: string, _opts: object, command: Command) => {
        const s = session(command, io);
        const api = await s.api();
        const response = await api.request<AccessKeyResponse>('PATCH', `/v1/access-keys/${seg(id)}`, { status });
        const key = expectObject<AccessKeyView>(response, 'accessKey', 'accessKeyId', api.endpoint);
        s.print(response, () => formatAccessKeyDetails(key));
      });
  }

  accessKey
    .command('delete')
    .description('delete an access key')
    .argument('<id>', 'access key id', parseAccessKeyId)
    .action(async (id: string, _opts: object, command: Command) => {
      const s = session(command, io);
      await (await s.api()).request('DELETE', `/v1/access-keys/${seg(id)}`);
      printDone(s, io, `Deleted access key ${id}.`);
    });
}

function registerTokenCommands(program: Command, io: CliIo): void {
  const token = program.command('token').description("manage principals' bearer tokens for the native API");

  token
    .command('create')
    .description('issue a bearer token to a principal; prints it once')
    .argument('<principal>', 'principal name', parseName)
    .option(
      '--ttl <seconds>',
      `lifetime in seconds (${CLI_LIMITS.tokenTtlSeconds.min}-${CLI_LIMITS.tokenTtlSeconds.max}; server default one day)`,
      integerIn(CLI_LIMITS.tokenTtlSeconds),
    )
    .action(async (name: string, opts: { ttl?: number }, command: Command) => {
      const s = session(command, io);
      const api = await s.api();
      const body = opts.ttl === undefined ? {} : { ttlSeconds: opts.ttl };
      const response = await api.request<CreatedTokenResponse>('POST', `/v1/principals/${seg(name)}/tokens`, body);
      expectString(expectObject<TokenView>(response, 'token', 'accessor', api.endpoint), 'token', api.endpoint);
      s.print(response, () => formatCreatedToken(response));
      io.stderr(SECRET_WARNING);
    });

  token
    .command('list')
    .description("list a principal's tokens by accessor (never the tokens)")
    .argument('<principal>', 'principal name', parseName)
    .action(async (name: string, _opts: object, command: Command) => {
      const s = session(command, io);
      const api = await s.api();
      const response = await api.request<TokenListResponse>('GET', `/v1/principals/${seg(name)}/tokens`);
      const tokens = expectArray<TokenView>(response, 'tokens', api.endpoint);
      s.print(response, () => formatTokenTable(tokens));
    });

  token
    .command('revoke')
    .description('revoke a token by its accessor')
    .argument('<accessor>', 'token accessor (see token list)', parseAccessor)
    .action(async (accessor: string, _opts: object, command: Command) => {
      const s = session(command, io);
      await (await s.api()).request('DELETE', `/v1/tokens/${seg(accessor)}`);
      printDone(s, io, `Revoked token ${accessor}.`);
    });
}

function registerCertificateCommands(program: Command, io: CliIo): void {
  const certificate = program.command('certificate').description('map client certificates (mutual TLS) to principals');

  certificate
    .command('map')
    .description('let a client certificate authenticate as a principal')
    .argument('<principal>', 'principal name', parseName)
    .requiredOption('--cert <file>', 'PEM file with the client certificate (no private key)')
    .action(async (name: string, opts: { cert: string }, command: Command) => {
      const certificatePem = await readCertificate(io, opts.cert);
      const s = session(command, io);
      const api = await s.api();
      const response = await api.request<CertificateResponse>('POST', `/v1/principals/${seg(name)}/certificates`, { certificatePem });
      const mapped = expectObject<CertificateView>(response, 'certificate', 'fingerprint', api.endpoint);
      s.print(response, () => formatCertificateDetails(mapped));
    });

  certificate
    .command('list')
    .description("list a principal's client certificates")
    .argument('<principal>', 'principal name', parseName)
    .action(async (name: string, _opts: object, command: Command) => {
      const s = session(command, io);
      const api = await s.api();
      const response = await api.request<CertificateListResponse>('GET', `/v1/principals/${seg(name)}/certificates`);
      const certificates = expectArray<CertificateView>(response, 'certificates', api.endpoint);
      s.print(response, () => formatCertificateTable(certificates));
    });

  certificate
    .command('unmap')
    .description('stop a client certificate from authenticating')
    .argument('<fingerprint>', 'SHA-256 fingerprint (hex, colons allowed)', parseFingerprint)
    .action(async (fingerprint: string, _opts: object, command: Command) => {
      const s = session(command, io);
      await (await s.api()).request('DELETE', `/v1/certificates/${seg(fingerprint)}`);
      printDone(s, io, `Unmapped certificate ${fingerprint}.`);
    });
}

/**
 * The access-control commands of `datadefender`: `policy ...` (identity policies), `role ...` (the built-in roles),
 * `approval ...` (dual control) and `status`, over the native REST API. Human output by default; `--json` prints
 * the API's answer, and `--document-only` prints just a policy's or role's document so it can be saved and edited:
 *
 *   datadefender role show developer --document-only > my.json && datadefender policy create my --document my.json
 *
 * Names, ids and option values are validated while commander parses (args.ts), and document files are read and
 * checked before the configuration is resolved, so a bad command line sends nothing. Path segments are URL-encoded.
 */
import { Option, type Command } from 'commander';
import {
  documentText,
  formatApprovalDetails,
  formatApprovalTable,
  formatPolicyDetails,
  formatPolicyTable,
  formatRoleDetails,
  formatRoleTable,
  formatStatus,
} from './access-format.js';
import type {
  ApprovalResponse,
  ApprovalView,
  PolicyResponse,
  PolicyView,
  RoleListResponse,
  RoleResponse,
  RoleView,
  StatusResponse,
} from './api-types.js';
import { APPROVAL_STATUS_CHOICES, CLI_LIMITS, integerIn, parseApprovalId, parseDescription, parseName } from './args.js';
import { CliError, type CliIo } from './io.js';
import { expectArray, expectObject, expectString, fetchPages, hintNextPage, printDone, readInput, seg, session, type PageOptions, type Session } from './session.js';

/**
 * Reads a policy document file: its text (without a leading byte order mark), which must be a JSON object of at
 * most 65536 characters. The server checks the policy language; this only catches the wrong file early.
 * @throws CliError
 */
async function readDocument(io: CliIo, file: string): Promise<string> {
  const text = (await readInput(io, file, 'the policy document')).toString('utf8').replace(/^\uFEFF/, '');
  const { max } = CLI_LIMITS.policyDocumentChars;
  if (text.trim() === '') throw new CliError(`The policy document ${file} is empty.`);
  if (text.length > max) throw new CliError(`The policy document ${file} is longer than ${max} characters.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CliError(`The policy document ${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CliError(`The policy document ${file} is not a JSON object.`);
  return text;
}

/** --document-only prints text, --json prints the answer: both at once is a mistake. @throws CliError */
function checkDocumentOnly(s: Session, documentOnly: boolean | undefined): void {
  if (documentOnly && s.json) throw new CliError('--document-only and --json contradict each other.');
}

const expectPolicy = (response: unknown, endpoint: string) => expectObject<PolicyView>(response, 'policy', 'name', endpoint);
const expectApproval = (response: unknown, endpoint: string) => expectObject<ApprovalView>(response, 'approval', 'id', endpoint);

/** Registers `policy`, `role`, `approval` and `status` under `program`. */
export function registerAccessCommands(program: Command, io: CliIo): void {
  registerPolicyCommands(program, io);
  registerRoleCommands(program, io);
  registerApprovalCommands(program, io);

  program
    .command('status')
    .description('show the server: version, storage, root of trust, audit, seal and dual control')
    .action(async (_opts: object, command: Command) => {
      const s = session(command, io);
      const api = await s.api();
      const response = await api.request<StatusResponse>('GET', '/v1/status');
      expectString(response, 'status', api.endpoint);
      s.print(response, () => formatStatus(response));
    });
}

function registerPolicyCommands(program: Command, io: CliIo): void {
  const policy = program.command('policy').description('manage identity policies (JSON documents attached to principals)');

  policy
    .command('create')
    .description('create an identity policy from a JSON document')
    .argument('<name>', 'policy name (letters, digits and +=,.@_-)', parseName)
    .requiredOption('--document <file>', 'file with the policy document (JSON)')
    .option('--description <text>', 'description', parseDescription)
    .action(async (name: string, opts: { document: string; description?: string }, command: Command) => {
      const document = await readDocument(io, opts.document);
      const s = session(command, io);
      const api = await s.api();
      const body = { name, document, ...(opts.description === undefined ? {} : { description: opts.description }) };
      const response = await api.request<PolicyResponse>('POST', '/v1/policies', body);
      const created = expectPolicy(response, api.endpoint);
      s.print(response, () => formatPolicyDetails(created));
    });

  policy
    .command('list')
    .description('list identity policies')
    .option('--limit <n>', `policies per page (${CLI_LIMITS.listLimit.min}-${CLI_LIMITS.listLimit.max})`, integerIn(CLI_LIMITS.listLimit))
    .option('--marker <marker>', 'continue from the nextMarker of an earlier page')
    .option('--all', 'follow nextMarker through every page')
    .action(async (opts: PageOptions, command: Command) => {
      const s = session(command, io);
      const page = await fetchPages<PolicyView>(await s.api(), '/v1/policies', 'policies', opts);
      s.print(page.answer, () => formatPolicyTable(page.items));
      hintNextPage(io, s, 'policies', page.nextMarker);
    });

  policy
    .command('show')
    .description('show one identity policy and its document')
    .argument('<name>', 'policy name', parseName)
    .option('--document-only', 'print only the policy document')
    .action(async (name: string, opts: { documentOnly?: boolean }, command: Command) => {
      const s = session(command, io);
      checkDocumentOnly(s, opts.documentOnly);
      const api = await s.api();
      const response = await api.request<PolicyResponse>('GET', `/v1/policies/${seg(name)}`);
      const shown = expectPolicy(response, api.endpoint);
      expectString(shown, 'document', api.endpoint);
      s.print(response, () => (opts.documentOnly ? documentText(shown.document) : formatPolicyDetails(shown)));
    });

  policy
    .command('update')
    .description("replace an identity policy's document (and description)")
    .argument('<name>', 'policy name', parseName)
    .requiredOption('--document <file>', 'file with the new policy document (JSON)')
    .option('--description <text>', 'new description', parseDescription)
    .action(async (name: string, opts: { document: string; description?: string }, command: Command) => {
      const document = await readDocument(io, opts.document);
      const s = session(command, io);
      const api = await s.api();
      const body = { document, ...(opts.description === undefined ? {} : { description: opts.description }) };
      const response = await api.request<PolicyResponse>('PUT', `/v1/policies/${seg(name)}`, body);
      const updated = expectPolicy(response, api.endpoint);
      s.print(response, () => formatPolicyDetails(updated));
    });

  policy
    .command('delete')
    .description('delete an identity policy')
    .argument('<name>', 'policy name', parseName)
    .action(async (name: string, _opts: object, command: Command) => {
      const s = session(command, io);
      await (await s.api()).request('DELETE', `/v1/policies/${seg(name)}`);
      printDone(s, io, `Deleted policy ${name}.`);
    });
}

function registerRoleCommands(program: Command, io: CliIo): void {
  const role = program.command('role').description('show the built-in roles (grant them with principal add-role)');

  role
    .command('list')
    .description('list the built-in roles')
    .action(async (_opts: object, command: Command) => {
      const s = session(command, io);
      const api = await s.api();
      const response = await api.request<RoleListResponse>('GET', '/v1/roles');
      const roles = expectArray<RoleView>(response, 'roles', api.endpoint);
      s.print(response, () => formatRoleTable(roles));
    });

  role
    .command('show')
    .description("show a role's description and policy document (a starting point for your own policies)")
    .argument('<name>', 'role name', parseName)
    .option('--document-only', 'print only the policy document, e.g. to save it and create a policy from it')
    .action(async (name: string, opts: { documentOnly?: boolean }, command: Command) => {
      const s = session(command, io);
      checkDocumentOnly(s, opts.documentOnly);
      const api = await s.api();
      const response = await api.request<RoleResponse>('GET', `/v1/roles/${seg(name)}`);
      const shown = expectObject<RoleView>(response, 'role', 'name', api.endpoint);
      expectString(shown, 'document', api.endpoint);
      s.print(response, () => (opts.documentOnly ? documentText(shown.document) : formatRoleDetails(shown)));
    });
}

function registerApprovalCommands(program: Command, io: CliIo): void {
  const approval = program
    .command('approval')
    .description('dual control: list, approve or reject requests that await a second principal');

  approval
    .command('list')
    .description('list approval requests')
    .addOption(new Option('--status <status>', 'only requests in this state').choices(APPROVAL_STATUS_CHOICES))
    .option('--limit <n>', `requests per page (${CLI_LIMITS.listLimit.min}-${CLI_LIMITS.listLimit.max})`, integerIn(CLI_LIMITS.listLimit))
    .option('--marker <marker>', 'continue from the nextMarker of an earlier page')
    .option('--all', 'follow nextMarker through every page')
    .action(async (opts: PageOptions & { status?: string }, command: Command) => {
      const s = session(command, io);
      const extra: Record<string, string> = opts.status === undefined ? {} : { status: opts.status };
      const page = await fetchPages<ApprovalView>(await s.api(), '/v1/approvals', 'approvals', opts, extra);
      s.print(page.answer, () => formatApprovalTable(page.items));
      hintNextPage(io, s, 'approval requests', page.nextMarker);
    });

  approval
    .command('show')
    .description('show one approval request')
    .argument('<id>', 'approval request id', parseApprovalId)
    .action(async (id: string, _opts: object, command: Command) => {
      const s = session(command, io);
      const api = await s.api();
      const response = await api.request<ApprovalResponse>('GET', `/v1/approvals/${seg(id)}`);
      const shown = expectApproval(response, api.endpoint);
      s.print(response, () => formatApprovalDetails(shown));
    });

  for (const [verb, description, after] of [
    ['approve', "approve another principal's request; the requester then repeats the same command once", 'Approved: the requester can now repeat the same command, once, before it expires.\n'],
    ['reject', "reject another principal's request", ''],
  ] as const) {
    approval
      .command(verb)
      .description(description)
      .argument('<id>', 'approval request id', parseApprovalId)
      .action(async (id: string, _opts: object, command: Command) => {
        const s = session(command, io);
        const api = await s.api();
        const response = await api.request<ApprovalResponse>('POST', `/v1/approvals/${seg(id)}/${verb}`);
        const decided = expectApproval(response, api.endpoint);
        s.print(response, () => `${formatApprovalDetails(decided)}${after}`);
      });
  }
}

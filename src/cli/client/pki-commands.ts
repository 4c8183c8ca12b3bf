/**
 * `datadefender pki init|issue|revoke|list|crl|status`: the built-in CA of a running server (administrators).
 * Invariants: a generated private key is written only to a new mode-0600 file (never overwritten) or, under --json,
 * printed once; certificates and the CA bundle go next to it; nothing is sent for a bad command line.
 */
import { Option, type Command } from 'commander';
import { collectName, integerIn } from './args.js';
import { CliError, type CliIo } from './io.js';
import { writeSecret } from './secret-output.js';
import { expectArray, expectObject, readInput, seg, session } from './session.js';

interface CertificateView {
  serial: string;
  profile: string;
  commonName: string;
  subjectAltNames: string[];
  principal?: string;
  fingerprint: string;
  notAfter: string;
  status: string;
  daysLeft?: number;
  revocationReason?: string;
}

interface AuthorityView {
  id: string;
  kind: string;
  state: string;
  commonName: string;
  notAfter: string | null;
  daysLeft?: number | null;
  csrPem?: string;
}

const DAYS = { min: 1, max: 7300 };
const REASONS = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'privilegeWithdrawn'];

const certificateLine = (c: CertificateView) =>
  `${c.serial}  ${c.profile.padEnd(6)}  ${c.status.padEnd(7)}  ${c.notAfter}${c.daysLeft === undefined ? '' : ` (${c.daysLeft}d)`}  ${c.principal ?? c.commonName}${c.subjectAltNames.length ? `  [${c.subjectAltNames.join(', ')}]` : ''}\n`;
const authorityLine = (a: AuthorityView) => `${a.kind.padEnd(12)}  ${a.state.padEnd(7)}  ${a.notAfter ?? '-'}${a.daysLeft === undefined || a.daysLeft === null ? '' : ` (${a.daysLeft}d)`}  ${a.commonName}  ${a.id}\n`;

export function registerPkiCommands(program: Command, io: CliIo): void {
  const pki = program.command('pki').description('the built-in CA: init, issue, revoke, list, crl, status (administrators)');

  pki
    .command('init')
    .description('create a root CA, or an intermediate (prints its CSR for your root to sign), or install the intermediate\'s certificate')
    .option('--intermediate', 'create an intermediate CA under your own root: a CSR is printed (or written with --csr-out)')
    .option('--common-name <name>', 'the CA subject CN', 'DataDefender CA')
    .option('--validity-days <days>', `root CA lifetime (${DAYS.min}-${DAYS.max}; default 1825)`, integerIn(DAYS))
    .option('--csr-out <file>', 'with --intermediate: write the CSR here')
    .option('--certificate <file>', "install the intermediate's certificate signed by your root (with --chain)")
    .option('--chain <file>', 'the certificates above the intermediate, up to and including your root (PEM)')
    .action(async (opts: { intermediate?: boolean; commonName: string; validityDays?: number; csrOut?: string; certificate?: string; chain?: string }, command: Command) => {
      const s = session(command, io);
      if ((opts.certificate === undefined) !== (opts.chain === undefined)) throw new CliError('Give --certificate and --chain together.');
      if (opts.certificate !== undefined && (opts.intermediate || opts.validityDays !== undefined)) throw new CliError('--certificate installs a pending intermediate; it takes no other CA option.');
      if (opts.csrOut !== undefined && !opts.intermediate) throw new CliError('--csr-out goes with --intermediate.');
      if (opts.certificate !== undefined) {
        const body = { certificatePem: (await readInput(io, opts.certificate, 'certificate')).toString('utf8'), chainPem: (await readInput(io, opts.chain!, 'chain')).toString('utf8') };
        const api = await s.api();
        const response = await api.request('PUT', '/v1/pki/ca/certificate', body);
        const ca = expectObject<AuthorityView>(response, 'authority', 'id', api.endpoint);
        return s.print(response, () => `Intermediate CA ${ca.commonName} is active (valid until ${ca.notAfter}).\n`);
      }
      const api = await s.api();
      const response = await api.request('POST', '/v1/pki/ca', {
        kind: opts.intermediate ? 'intermediate' : 'root',
        commonName: opts.commonName,
        ...(opts.validityDays ? { validityDays: opts.validityDays } : {}),
      });
      const ca = expectObject<AuthorityView>(response, 'authority', 'id', api.endpoint);
      if (opts.intermediate && opts.csrOut && ca.csrPem) await writeSecret(io, opts.csrOut, ca.csrPem);
      s.print(response, () =>
        ca.state === 'pending'
          ? `${opts.csrOut ? `Wrote the CSR to ${opts.csrOut}.` : ca.csrPem ?? ''}\nHave your root sign it (CA:true, pathlen:0, keyCertSign, cRLSign), then run: datadefender pki init --certificate FILE --chain FILE\n`
          : `Root CA ${ca.commonName} is active (valid until ${ca.notAfter}); its key is stored only wrapped by the root of trust.\n`,
      );
    });

  pki
    .command('issue')
    .description('issue a server certificate (--server --host ...) or a client certificate bound to a principal (--client --principal)')
    .addOption(new Option('--server', 'a TLS server certificate').conflicts('client'))
    .addOption(new Option('--client', 'a client certificate for mutual TLS, mapped to --principal').conflicts('server'))
    .addOption(new Option('--host <name>', 'DNS name or IP address (server); repeat for more').argParser(collectName))
    .option('--principal <name>', 'the principal a client certificate authenticates as')
    .option('--validity-days <days>', 'lifetime in days (1-397; default 30)', integerIn({ min: 1, max: 397 }))
    .option('--csr <file>', 'a PKCS#10 request with your own ECDSA P-256 key (otherwise a key is generated and written once)')
    .option('--out <prefix>', 'write PREFIX.pem (certificate), PREFIX-key.pem (0600) and PREFIX-ca.pem (CA chain)')
    .action(async (opts: { server?: boolean; client?: boolean; host?: string[]; principal?: string; validityDays?: number; csr?: string; out?: string }, command: Command) => {
      const s = session(command, io);
      if (!opts.server && !opts.client) throw new CliError('Give --server or --client.');
      if (opts.server && (!opts.host || opts.principal)) throw new CliError('A server certificate needs --host (and no --principal).');
      if (opts.client && (!opts.principal || opts.host)) throw new CliError('A client certificate needs --principal (and no --host).');
      if (!opts.out && !s.json) throw new CliError('Give --out PREFIX to write the certificate and key (or --json to print them).');
      const body = {
        profile: opts.server ? 'server' : 'client',
        ...(opts.host ? { hosts: opts.host } : {}),
        ...(opts.principal ? { principal: opts.principal } : {}),
        ...(opts.validityDays ? { validityDays: opts.validityDays } : {}),
        ...(opts.csr ? { csrPem: (await readInput(io, opts.csr, 'certificate request')).toString('utf8') } : {}),
      };
      const api = await s.api();
      const response = await api.request<{ certificatePem: string; chainPem: string; privateKeyPem?: string }>('POST', '/v1/pki/certificates', body);
      const certificate = expectObject<CertificateView>(response, 'certificate', 'serial', api.endpoint);
      const written: string[] = [];
      if (opts.out) {
        if (response.privateKeyPem) {
          await writeSecret(io, `${opts.out}-key.pem`, response.privateKeyPem);
          written.push(`${opts.out}-key.pem`);
        }
        await writeSecret(io, `${opts.out}.pem`, response.certificatePem);
        await writeSecret(io, `${opts.out}-ca.pem`, response.chainPem);
        written.push(`${opts.out}.pem`, `${opts.out}-ca.pem`);
      }
      s.print(response, () => `Issued ${certificate.profile} certificate ${certificate.serial} (SHA-256 ${certificate.fingerprint}), valid until ${certificate.notAfter}.\n${written.map((f) => `  ${f}\n`).join('')}`);
    });

  pki
    .command('revoke <serial>')
    .description('revoke a certificate: listed in the CRL at once; a client certificate stops authenticating')
    .addOption(new Option('--reason <reason>', 'RFC 5280 reason').choices(REASONS).default('unspecified'))
    .action(async (serial: string, opts: { reason: string }, command: Command) => {
      const s = session(command, io);
      if (!/^[0-9a-fA-F:]{1,64}$/.test(serial)) throw new CliError('The serial is hexadecimal (as pki list shows it).');
      const api = await s.api();
      const response = await api.request('POST', `/v1/pki/certificates/${seg(serial)}/revoke`, { reason: opts.reason });
      const certificate = expectObject<CertificateView>(response, 'certificate', 'serial', api.endpoint);
      s.print(response, () => `Revoked ${certificate.serial} (${opts.reason}).\n`);
    });

  pki
    .command('list')
    .description('every certificate the CA issued, newest first')
    .action(async (_opts: object, command: Command) => {
      const s = session(command, io);
      const api = await s.api();
      const response = await api.request('GET', '/v1/pki/certificates');
      const certificates = expectArray<CertificateView>(response, 'certificates', api.endpoint);
      s.print(response, () => (certificates.length ? certificates.map(certificateLine).join('') : 'No certificates issued.\n'));
    });

  pki
    .command('crl')
    .description('the current CRL (PEM), as served publicly at /v1/pki/crl')
    .option('--out <file>', 'write it to a new file instead of printing it')
    .action(async (opts: { out?: string }, command: Command) => {
      const s = session(command, io);
      const api = await s.api({ anonymous: true });
      const response = await api.request<{ crlPem: string }>('GET', '/v1/pki/crl?format=json');
      if (typeof response?.crlPem !== 'string') throw new CliError(`Unexpected answer from ${api.endpoint}: no "crlPem".`);
      if (opts.out) await writeSecret(io, opts.out, response.crlPem);
      s.print(response, () => (opts.out ? `Wrote the CRL to ${opts.out}.\n` : response.crlPem));
    });

  pki
    .command('status')
    .description('the certificate inventory (PCI DSS 4.2.1.1): CAs, issued certificates and the server certificate, with expiry')
    .action(async (_opts: object, command: Command) => {
      const s = session(command, io);
      const api = await s.api();
      const response = await api.request<{ authorities: AuthorityView[]; certificates: CertificateView[]; serverCertificate: { serial: string; source: string; notAfter: string; renewAt: string | null; daysLeft: number } | null }>('GET', '/v1/pki/status');
      const authorities = expectArray<AuthorityView>(response, 'authorities', api.endpoint);
      const certificates = expectArray<CertificateView>(response, 'certificates', api.endpoint);
      const server = response.serverCertificate;
      s.print(response, () =>
        [
          'Certificate authorities:\n',
          ...(authorities.length ? authorities.map((a) => `  ${authorityLine(a)}`) : ['  none (datadefender pki init)\n']),
          `Server certificate: ${server ? `${server.serial} (${server.source}), expires ${server.notAfter} (${server.daysLeft}d)${server.renewAt ? `, renews at ${server.renewAt}` : ''}` : 'unknown'}\n`,
          `Issued certificates (${certificates.length}):\n`,
          ...certificates.map((c) => `  ${certificateLine(c)}`),
        ].join(''),
      );
    });
}

/**
 * Composition root: config -> adapters -> core -> front ends -> listen. The only place that picks adapters.
 */
import { mkdir, readFile } from 'node:fs/promises';
import pino, { type Logger } from 'pino';
import { openPostgresStorage } from './adapters/storage/postgres/index.js';
import { openSqliteStorage } from './adapters/storage/sqlite/index.js';
import { startAuditRuntime } from './audit/audit-runtime.js';
import { openStreamSink } from './audit/stream-sinks.js';
import { dataPaths, rootOf, type ServerConfig } from './config/config.js';
import { ValidationError } from './errors/index.js';
import { createKeyService } from './core/key-service.js';
import { createPkcs11KeyStoreConnector } from './adapters/hsm-key-store/index.js';
import { createRootOperations } from './core/root-operations.js';
import { createRootMigrations } from './core/root-migration.js';
import { createRootRing } from './core/root-ring.js';
import { enableRootRecovery } from './core/root-recovery.js';
import { createHttpServer } from './http/server.js';
import { builtInTlsOptions, maintainServerTls, prepareServerTls } from './http/built-in-tls.js';
import { createTlsSwitch } from './http/tls-switch.js';
import { createCertificateAuthority } from './pki/certificate-authority.js';
import { createBearerAuthenticator } from './identity/bearer-authenticator.js';
import { ensureDevCredentials } from './identity/dev-bootstrap.js';
import { startKeyJobs } from './jobs/key-jobs.js';
import { PRUNE_AFTER_MS } from './core/metadata-feed.js';
import { startAuditArchiveJob } from './jobs/audit-archive-job.js';
import { createAuditArchiver } from './audit/archiver.js';
import { jobContext } from './core/job-context.js';
import { resolve as resolvePath } from 'node:path';
import { runWhileLeader, startLeaderLease } from './jobs/leader-lease.js';
import { ensureDevCertificates } from './pki/dev-ca.js';
import { createPolicyEngine } from './policy/policy-engine.js';
import { createServerMetrics, exposeLocally, type ExposeMetrics } from './metrics/server-metrics.js';
import { systemClock } from './ports/clock.js';
import type { Storage } from './ports/storage.js';
import type { AuditSink } from './ports/audit-sink.js';
import type { AuditChainStore } from './ports/audit-chain-store.js';
import { awsKmsApi } from './protocols/aws-kms/aws-kms-api.js';
import { restApi } from './protocols/rest/rest-api.js';
import type { HealthReport } from './protocols/rest/routes/system.js';
import { createSigV4Authenticator } from './identity/sigv4-authenticator.js';
import { createCallerDirectory } from './identity/caller-directory.js';
import { createCertificateAuthenticator } from './identity/certificate-authenticator.js';
import { createIdentityService } from './identity/identity-service.js';
import { createRootBackends } from './root-backends.js';
import { initializeConfiguredRoot, openConfiguredRoot, type OpenedRoot, type RootInitOptions } from './roots.js';
import { assertNoPrincipals, createFirstAdministrator } from './identity/first-administrator.js';
import type { InitialCredentials } from './identity/initial-credentials.js';

export { openConfiguredRoot, type OpenedRoot } from './roots.js';

export const VERSION = '0.1.0';

export interface RunningServer {
  endpoint: string;
  /** Dev mode only: where the administrator's credentials were written. */
  credentialsFile: string | undefined;
  /** One line for the operator: mode, root of trust and, when sealed, what to do. */
  readyMessage: string;
  close(): Promise<void>;
}

export function createLogger(level: ServerConfig['logLevel']): Logger {
  return pino({ level, redact: ['req.headers.authorization', '*.token', '*.secretAccessKey'] }, pino.destination(2));
}

const endpointOf = (host: string, port: number) => `https://${host.includes(':') ? `[${host}]` : host}:${port}`;

function openStorage(config: ServerConfig): Promise<Storage> {
  return config.databaseUrl
    ? openPostgresStorage({ connectionString: config.databaseUrl, schema: config.databaseSchema })
    : openSqliteStorage({ file: dataPaths(config).sqliteFile });
}

async function tlsMaterial(config: ServerConfig) {
  if (config.tlsCertFile && config.tlsKeyFile) {
    return { certPem: await readFile(config.tlsCertFile, 'utf8'), keyPem: await readFile(config.tlsKeyFile, 'utf8'), caCertFile: config.tlsCertFile };
  }
  // Without a certificate of its own, production also serves one from the built-in CA in the data dir (its key is a
  // file there; issue #7 brings the CA under the root of trust).
  const dev = await ensureDevCertificates(dataPaths(config).tlsDir, { hosts: [config.host] });
  return { certPem: dev.certPem, keyPem: dev.keyPem, caCertFile: dev.caCertFile, caPem: await readFile(dev.caCertFile, 'utf8') };
}

/** How a worker process of `server --workers N` differs from a single server. */
export interface WorkerRole {
  /** The root of trust, when the primary holds it for every worker (local-sealed). */
  root?: OpenedRoot;
  /** How scrapes are answered: with every worker's metrics, through the primary (default: this process's). */
  exposeMetrics?: ExposeMetrics;
}

/** The lease every server process competes for; its holder runs the background jobs (rotation, deletion and the rest). */
const KEY_JOBS_LEASE = 'key-jobs';

/**
 * BENCHMARK ONLY (bench/audit-chain.js): prices the durable audit trail by running this same server with its audit
 * events sent elsewhere. Reachable from code alone: no command-line flag, environment variable or configuration field
 * sets it, and the datadefender command never passes it. Never use it to run a deployment: its events are not durable.
 */
export interface BenchmarkOnlyHooks {
  /**
   * The audit runtime's store instead of `storage` (default: `storage` itself). Only the sink changes: the runtime is
   * the same (keyed hashes of sensitive values, the hash chain, signed checkpoints, audit keys under the root).
   */
  auditSinkForBenchmark?: (storage: Storage) => AuditSink & AuditChainStore;
}

/** Starts the server described by `config`; resolves once it listens (and, in dev mode, its credentials are written). */
export async function startServer(config: ServerConfig, logger: Logger, role: WorkerRole = {}, benchmarkOnly: BenchmarkOnlyHooks = {}): Promise<RunningServer> {
  const paths = dataPaths(config);
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  if (config.dev) {
    logger.warn(
      `DEV MODE: the root key is stored UNPROTECTED in ${paths.rootKeyFile} and an administrator's credentials in ` +
        `${paths.devCredentialsFile}. Never use dev mode for real data.`,
    );
  }
  const opened = role.root ?? (await openConfiguredRoot(config));
  const { sealable } = opened;
  const storage = await openStorage(config);
  // Every wrap and unwrap goes through the ring of root generations (rotate-root, migrate-root, recovery escrow).
  const backends = createRootBackends(config, { configured: opened });
  const root = createRootRing({ storage, backends, clock: systemClock, kind: opened.root.kind });
  // A root that is open at start must be a live generation of the ring: a configuration still naming a retired root
  // (after migrate-root) refuses to start, saying so. A sealed root is checked at unseal (health then says so).
  if (!(opened.sealable?.status().sealed ?? false)) await root.view();
  const scope = { region: config.region, accountId: config.accountId };
  const dualControl = { enabled: config.dualControl, operations: config.dualControlOperations, approvalTtlSeconds: config.approvalTtlSeconds };
  const sealed = () => sealable?.status().sealed ?? false;
  const auditRuntime = startAuditRuntime({
    store: benchmarkOnly.auditSinkForBenchmark?.(storage) ?? storage,
    root,
    ...(opened.signingKeys ? { signingKeys: opened.signingKeys } : {}),
    clock: systemClock,
    sealed,
    checkpointEvents: config.auditCheckpointEvents,
    checkpointSeconds: config.auditCheckpointSeconds,
    streams: config.auditStreams.map(openStreamSink),
    onError: (err, what) => logger.error({ err }, what),
  });
  await auditRuntime.ready();
  const audit = auditRuntime.log;
  // Custom key stores (AWS CloudHSM key store model) open PKCS#11 tokens through the configured module.
  const keyStores = config.pkcs11Module ? createPkcs11KeyStoreConnector({ modulePath: config.pkcs11Module }) : undefined;
  // Audit retention (issue #6 item 7): only when configured; 0 keeps every event.
  const auditArchiver =
    config.auditRetentionDays > 0 && config.auditArchiveDir
      ? createAuditArchiver({ store: storage, keyring: auditRuntime.keyring, clock: systemClock, dir: resolvePath(config.auditArchiveDir), retentionDays: config.auditRetentionDays, batchSize: config.jobBatchSize })
      : undefined;
  const service = createKeyService({ storage, root, audit, auditKeys: auditRuntime.keyring, ...(auditArchiver ? { auditArchiver } : {}), policies: createPolicyEngine({ cacheSize: config.policyCacheSize }), clock: systemClock, scope, sealed, ...(keyStores ? { keyStores } : {}), settings: { ...config, dualControl } });
  const identity = createIdentityService({ storage, run: service.run, clock: systemClock, scope, root });
  const callers = createCallerDirectory({ storage });
  const rootOperations = createRootOperations({ run: service.run, root, ...(sealable ? { sealable } : {}), forgetMaterial: () => {
    service.materialCache.clear();
    auditRuntime.keyring.forget();
    pki.forget();
  } });
  const rootMigrations = createRootMigrations({
    run: service.run,
    storage,
    ring: root,
    backends,
    clock: systemClock,
    scope,
    batchSize: config.jobBatchSize,
    onError: (err) => logger.error({ err }, 'root re-wrap job failed'),
  });

  const pki = createCertificateAuthority({ storage, root, ...(opened.signingKeys ? { signingKeys: opened.signingKeys } : {}), run: service.run, clock: systemClock });
  const tlsOptions = await builtInTlsOptions(config, { ca: pki, tlsDir: paths.tlsDir, sealed, scope, logger, now: () => systemClock.now() });
  const prepared = await prepareServerTls(tlsOptions);
  const tls = { caCertFile: prepared.caCertFile };
  if (!config.dev && !config.tlsCertFile) logger.warn(`No TLS certificate configured: serving one from the built-in CA; clients trust ${tls.caCertFile}.`);
  const app = createHttpServer({ tls: prepared.material, logger });
  let tlsUpkeep: ReturnType<typeof maintainServerTls> | undefined;
  // Every process competes (every worker, every node on one database): the jobs run where the lease is held.
  const jobLease = await startLeaderLease({ store: storage, name: KEY_JOBS_LEASE, durationMs: config.jobLeaseMs, renewMs: config.jobLeaseRenewMs, logger });
  const serving = () => tlsUpkeep?.serving() ?? { ...prepared.serving, renewAt: null };
  const health = async (): Promise<HealthReport> => {
    const auditOk = audit.healthy();
    // The root answers, and (unsealed) it is a live generation of the ring: a server left on a retired root fails
    // every key operation, so it must not look healthy to a load balancer.
    const rootOk = (await opened.health()) === 'ok' && (sealed() || (await root.view().then(() => true, () => false)));
    const status = sealed() ? 'sealed' : auditOk && rootOk ? 'ok' : 'degraded';
    const current = serving();
    const certificate = { source: current.source, notAfter: current.notAfter.toISOString(), renewAt: current.renewAt?.toISOString() ?? null };
    return { status, version: VERSION, storage: storage.kind, rootOfTrust: root.kind, root: rootOk ? 'ok' : 'unavailable', audit: auditOk ? 'ok' : 'unavailable', certificate, jobLeader: jobLease.isLeader() };
  };
  await app.register(restApi, {
    service,
    identity,
    root: rootOperations,
    rootMigrations,
    authenticate: createBearerAuthenticator({ storage, callers, clock: systemClock }),
    authenticateCertificate: createCertificateAuthenticator({ storage, callers, clock: systemClock }),
    health,
    metrics: (role.exposeMetrics ?? exposeLocally)(createServerMetrics({ health, serving, caBundle: () => pki.caBundle() })),
    pki: { ca: pki, serving: () => tlsUpkeep?.serving() },
  });
  await app.register(awsKmsApi, { service, authenticate: createSigV4Authenticator({ storage, callers, root, clock: systemClock, region: config.region }) });
  await app.listen({ host: config.host, port: config.port });
  tlsUpkeep = maintainServerTls(tlsOptions, createTlsSwitch(app.server, prepared.material), prepared);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const endpoint = endpointOf(config.host, port);

  if (config.dev) {
    await ensureDevCredentials({ storage, root, scope, now: systemClock.now(), file: paths.devCredentialsFile, endpoint, caCertFile: tls.caCertFile });
  }
  const jobs = runWhileLeader(jobLease, (notLeader) =>
    startKeyJobs({
      service,
      intervalMs: config.jobIntervalSeconds * 1000,
      batchSize: config.jobBatchSize,
      batchPauseMs: config.jobBatchPauseMs,
      batchDestroys: storage.batchDestroys,
      pruneChanges: () => storage.pruneMetadataChanges(new Date(systemClock.now().getTime() - PRUNE_AFTER_MS)),
      logger,
      paused: () => sealed() || notLeader(),
    }),
  );
  const archiveJob = auditArchiver
    ? runWhileLeader(jobLease, (notLeader) =>
        startAuditArchiveJob({ archive: () => service.auditTrail.archive(jobContext(scope), { dryRun: false }), logger, paused: () => sealed() || notLeader() }),
      )
    : undefined;
  opened.onSealed?.(service.materialCache.clear);
  opened.onSealed?.(pki.forget);
  opened.onSealed?.(auditRuntime.keyring.forget);
  const readyMessage = config.dev
    ? `DataDefender ready on ${endpoint} (dev mode; credentials in ${paths.devCredentialsFile})`
    : `DataDefender ready on ${endpoint} (root of trust: ${root.kind}${sealed() ? '; SEALED: unseal it with datadefender operator unseal' : ''})`;

  return {
    endpoint,
    credentialsFile: config.dev ? paths.devCredentialsFile : undefined,
    readyMessage,
    async close() {
      await rootMigrations.close();
      await tlsUpkeep?.stop();
      await app.close();
      await jobs.stop();
      await archiveJob?.stop();
      await jobLease.stop();
      await service.customKeyStores.closeConnections();
      await auditRuntime.close();
      await storage.close();
      await backends.close();
      await opened.close();
    },
  };
}

/** What `operator init` produced: the shares to hand out (local-sealed) and the first administrator's credentials. */
export interface Initialization {
  rootOfTrust: string;
  shares: string[];
  /** Break-glass recovery shares, when asked for. */
  recoveryShares: string[];
  credentials: InitialCredentials & { endpoint: string; region: string; accountId: string; caCertFile: string; principalArn: string };
}

/**
 * `operator init`, offline (the server is stopped): creates the root of trust (a sealed root key and its unseal
 * shares, or the HSM key object if asked), the built-in TLS CA when no certificate is configured, and the first
 * administrator with a token and an access key.
 * @throws ValidationError in dev mode (it initializes itself); ConflictError when the deployment has principals;
 * AlreadyExistsError when a seal file exists.
 */
export async function initializeDeployment(
  config: ServerConfig,
  options: RootInitOptions & { administrator: string; recovery?: { shares: number; threshold: number } },
): Promise<Initialization> {
  if (config.dev) throw new ValidationError('Dev mode initializes itself at start; operator init is for production deployments.');
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const storage = await openStorage(config);
  try {
    await assertNoPrincipals(storage);
    const { opened, shares } = await initializeConfiguredRoot(config, options);
    const backends = createRootBackends(config, { configured: opened });
    try {
      const ring = createRootRing({ storage, backends, clock: systemClock, kind: opened.root.kind });
      // Escrow starts before anything is wrapped, so every key and credential is recoverable.
      const recoveryShares = options.recovery ? await enableRootRecovery(ring, options.recovery) : [];
      const scope = { region: config.region, accountId: config.accountId };
      const { principal, credentials } = await createFirstAdministrator({ storage, root: ring, scope, now: systemClock.now(), name: options.administrator });
      const tls = await tlsMaterial(config);
      return {
        rootOfTrust: rootOf(config),
        shares,
        recoveryShares,
        credentials: { endpoint: endpointOf(config.host, config.port), ...scope, ...credentials, caCertFile: tls.caCertFile, principalArn: principal.arn },
      };
    } finally {
      await backends.close();
      await opened.sealable?.seal();
      await opened.close();
    }
  } finally {
    await storage.close();
  }
}

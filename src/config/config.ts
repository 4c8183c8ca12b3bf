import { availableParallelism } from 'node:os';
import { resolve, join } from 'node:path';
import { z } from 'zod';
import { ValidationError } from '../errors/index.js';

/**
 * The server configuration: one schema, validated once at start, frozen, handed down in slices.
 * Sources, highest first: command-line flags, DATADEFENDER_* environment variables, defaults.
 * Secure defaults; no default secrets; dev mode only with an explicit flag.
 */
/** Operations under dual control by default (PCI DSS 3.6.1.2 / 3.7.6): destructive key operations and identity changes that grant decryption. */
export const DEFAULT_DUAL_CONTROL_OPERATIONS = [
  'ScheduleKeyDeletion',
  'DisableKey',
  'PutKeyPolicy',
  'CreateKey',
  'CreateGrant',
  'ImportKeyMaterial',
  'DeleteImportedKeyMaterial',
  'CreatePrincipal',
  'EnablePrincipal',
  'AddPrincipalRole',
  'AttachPrincipalPolicy',
  'UpdatePolicy',
  'CreateAccessKey',
  'UpdateAccessKey',
  'CreateToken',
  'MapClientCertificate',
  'RotateRoot',
  'MigrateRoot',
  'RekeyRoot',
] as const;

/** The roots of trust: `local` (dev mode: a key in a file), `local-sealed` (Shamir-sealed), `pkcs11` (an HSM), `aws-kms` (upstream). */
export const ROOTS_OF_TRUST = ['local', 'local-sealed', 'pkcs11', 'aws-kms'] as const;
export type RootOfTrustKind = (typeof ROOTS_OF_TRUST)[number];

/** The root of trust in use: as configured, else `local` in dev mode and `local-sealed` otherwise. */
export function rootOf(c: { dev: boolean; rootOfTrust?: RootOfTrustKind | undefined }): RootOfTrustKind {
  return c.rootOfTrust ?? (c.dev ? 'local' : 'local-sealed');
}

const listenSchema = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT');

const schema = z
  .object({
    dev: z.boolean(),
    dataDir: z.string().min(1),
    listen: listenSchema,
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS-style region such as us-east-1'),
    accountId: z.string().regex(/^\d{12}$/, 'expected 12 digits'),
    databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL').optional(),
    databaseSchema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).default('public'),
    tlsCertFile: z.string().optional(),
    tlsKeyFile: z.string().optional(),
    /** Mutual TLS: off, optional (a certificate is asked for, not required), required (refused at the handshake without one). */
    tlsClientAuth: z.enum(['off', 'optional', 'required']),
    /** PEM CA bundle client certificates must chain to (default: the built-in CA). */
    tlsClientCaFile: z.string().min(1).optional(),
    /** Lifetime of the server certificates the built-in CA issues itself; renewed at two thirds of it. */
    tlsCertificateLifetimeSeconds: z.number().int().min(30).max(397 * 86_400),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    defaultRotationPeriodDays: z.number().int().min(90).max(2560),
    jobIntervalSeconds: z.number().int().min(1).max(86_400),
    jobBatchSize: z.number().int().min(1).max(10_000),
    /** Pause between two batches of one job pass, so request latency stays flat while a large pass runs. */
    jobBatchPauseMs: z.number().int().min(0).max(60_000),
    /** Leader election of the jobs: the lease's lifetime, and how often its holder renews it (and others retry). */
    jobLeaseMs: z.number().int().min(500).max(3_600_000),
    jobLeaseRenewMs: z.number().int().min(100).max(1_200_000),
    keyCacheSize: z.number().int().min(0).max(10_000_000),
    keyCacheTtlSeconds: z.number().int().min(0).max(86_400),
    metadataCacheMs: z.number().int().min(0).max(60_000),
    /** Parsed policy documents kept in memory, per kind (identity, key): the compiled-policy cache's bound. */
    policyCacheSize: z.number().int().min(1).max(1_000_000),
    dualControl: z.boolean(),
    dualControlOperations: z.array(z.string().regex(/^[A-Za-z]{1,64}$/, 'expected operation names such as ScheduleKeyDeletion')).min(1),
    approvalTtlSeconds: z.number().int().min(60).max(7 * 86_400),
    workers: z.number().int().min(1).max(256),
    rootOfTrust: z.enum(ROOTS_OF_TRUST).optional(),
    sealFile: z.string().min(1).optional(),
    pkcs11Module: z.string().min(1).optional(),
    pkcs11TokenLabel: z.string().min(1).max(32).optional(),
    pkcs11Slot: z.number().int().min(0).optional(),
    pkcs11KeyLabel: z.string().min(1).max(128).optional(),
    pkcs11PinFile: z.string().min(1).optional(),
    pkcs11PinEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected the name of an environment variable').optional(),
    awsKmsKeyId: z.string().min(1).optional(),
    awsKmsRegion: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/).optional(),
    awsKmsEndpoint: z.string().regex(/^https:\/\//, 'expected an https:// URL').optional(),
    awsKmsCaFile: z.string().min(1).optional(),
    auditCheckpointEvents: z.number().int().min(1).max(1_000_000),
    auditCheckpointSeconds: z.number().int().min(1).max(86_400),
    /** Streaming followers of the audit trail: `-` (stdout), a file path (JSON lines), `syslog://host:port`. */
    auditStreams: z.array(z.string().min(1)).max(8),
    /** Audit retention in days: events older are archived to files that still verify, then deleted; 0 keeps everything. */
    auditRetentionDays: z.number().int().min(0).max(36_500),
    /** Where audit archive files go (required with a retention). */
    auditArchiveDir: z.string().min(1).optional(),
  })
  .strict()
  .refine((c) => c.jobLeaseRenewMs * 2 <= c.jobLeaseMs, { message: 'renew the job lease at most every half of its lifetime', path: ['jobLeaseRenewMs'] })
  .refine((c) => !c.tlsCertFile === !c.tlsKeyFile, { message: 'give both tlsCertFile and tlsKeyFile', path: ['tlsCertFile'] })
  .refine((c) => c.dev || c.rootOfTrust !== 'local', { message: 'the local root (a key in a file) is for dev mode only', path: ['rootOfTrust'] })
  .refine((c) => rootOf(c) !== 'pkcs11' || (c.pkcs11Module && c.pkcs11KeyLabel && (c.pkcs11TokenLabel === undefined) !== (c.pkcs11Slot === undefined)), {
    message: 'the pkcs11 root needs pkcs11Module, pkcs11KeyLabel and exactly one of pkcs11TokenLabel and pkcs11Slot',
    path: ['rootOfTrust'],
  })
  .refine((c) => rootOf(c) !== 'pkcs11' || (c.pkcs11PinFile === undefined) !== (c.pkcs11PinEnv === undefined), {
    message: 'the pkcs11 root needs its PIN from exactly one of pkcs11PinFile and pkcs11PinEnv (never in the configuration itself)',
    path: ['pkcs11PinFile'],
  })
  .refine((c) => rootOf(c) !== 'aws-kms' || c.awsKmsKeyId !== undefined, { message: 'the aws-kms root needs awsKmsKeyId', path: ['awsKmsKeyId'] })
  .refine((c) => c.auditRetentionDays === 0 || c.auditRetentionDays >= 365, {
    message: 'an audit retention must be at least 365 days (PCI DSS 10.5.1 keeps 12 months of audit history), or 0 to keep everything',
    path: ['auditRetentionDays'],
  })
  .refine((c) => c.auditRetentionDays === 0 || c.auditArchiveDir !== undefined, { message: 'an audit retention needs auditArchiveDir (where archived segments go)', path: ['auditArchiveDir'] });

export type ServerConfig = Readonly<z.infer<typeof schema>> & {
  readonly host: string;
  readonly port: number;
};

/** Flags as the CLI parsed them; undefined means "not given". */
export interface ServerFlags {
  dev?: boolean;
  dataDir?: string;
  listen?: string;
  databaseUrl?: string;
  dualControl?: boolean;
  rootOfTrust?: string;
  workers?: number;
}

const ENV: Record<string, keyof z.input<typeof schema>> = {
  DATADEFENDER_DATA_DIR: 'dataDir',
  DATADEFENDER_LISTEN: 'listen',
  DATADEFENDER_REGION: 'region',
  DATADEFENDER_ACCOUNT_ID: 'accountId',
  DATADEFENDER_DATABASE_URL: 'databaseUrl',
  DATADEFENDER_DATABASE_SCHEMA: 'databaseSchema',
  DATADEFENDER_TLS_CERT_FILE: 'tlsCertFile',
  DATADEFENDER_TLS_KEY_FILE: 'tlsKeyFile',
  DATADEFENDER_TLS_CLIENT_AUTH: 'tlsClientAuth',
  DATADEFENDER_TLS_CLIENT_CA_FILE: 'tlsClientCaFile',
  DATADEFENDER_TLS_CERTIFICATE_LIFETIME_SECONDS: 'tlsCertificateLifetimeSeconds',
  DATADEFENDER_LOG_LEVEL: 'logLevel',
  DATADEFENDER_DEFAULT_ROTATION_DAYS: 'defaultRotationPeriodDays',
  DATADEFENDER_JOB_INTERVAL_SECONDS: 'jobIntervalSeconds',
  DATADEFENDER_JOB_BATCH_SIZE: 'jobBatchSize',
  DATADEFENDER_JOB_BATCH_PAUSE_MS: 'jobBatchPauseMs',
  DATADEFENDER_JOB_LEASE_MS: 'jobLeaseMs',
  DATADEFENDER_JOB_LEASE_RENEW_MS: 'jobLeaseRenewMs',
  DATADEFENDER_KEY_CACHE_SIZE: 'keyCacheSize',
  DATADEFENDER_KEY_CACHE_TTL_SECONDS: 'keyCacheTtlSeconds',
  DATADEFENDER_METADATA_CACHE_MS: 'metadataCacheMs',
  DATADEFENDER_POLICY_CACHE_SIZE: 'policyCacheSize',
  DATADEFENDER_DUAL_CONTROL: 'dualControl',
  DATADEFENDER_DUAL_CONTROL_OPERATIONS: 'dualControlOperations',
  DATADEFENDER_APPROVAL_TTL_SECONDS: 'approvalTtlSeconds',
  DATADEFENDER_ROOT_OF_TRUST: 'rootOfTrust',
  DATADEFENDER_WORKERS: 'workers',
  DATADEFENDER_SEAL_FILE: 'sealFile',
  DATADEFENDER_PKCS11_MODULE: 'pkcs11Module',
  DATADEFENDER_PKCS11_TOKEN_LABEL: 'pkcs11TokenLabel',
  DATADEFENDER_PKCS11_SLOT: 'pkcs11Slot',
  DATADEFENDER_PKCS11_KEY_LABEL: 'pkcs11KeyLabel',
  DATADEFENDER_PKCS11_PIN_FILE: 'pkcs11PinFile',
  DATADEFENDER_PKCS11_PIN_ENV: 'pkcs11PinEnv',
  DATADEFENDER_AWS_KMS_KEY_ID: 'awsKmsKeyId',
  DATADEFENDER_AWS_KMS_REGION: 'awsKmsRegion',
  DATADEFENDER_AWS_KMS_ENDPOINT: 'awsKmsEndpoint',
  DATADEFENDER_AWS_KMS_CA_FILE: 'awsKmsCaFile',
  DATADEFENDER_AUDIT_CHECKPOINT_EVENTS: 'auditCheckpointEvents',
  DATADEFENDER_AUDIT_CHECKPOINT_SECONDS: 'auditCheckpointSeconds',
  DATADEFENDER_AUDIT_STREAMS: 'auditStreams',
  DATADEFENDER_AUDIT_RETENTION_DAYS: 'auditRetentionDays',
  DATADEFENDER_AUDIT_ARCHIVE_DIR: 'auditArchiveDir',
};

const NUMERIC = new Set(['tlsCertificateLifetimeSeconds', 'defaultRotationPeriodDays', 'jobIntervalSeconds', 'jobBatchSize', 'jobBatchPauseMs', 'jobLeaseMs', 'jobLeaseRenewMs', 'keyCacheSize', 'keyCacheTtlSeconds', 'metadataCacheMs', 'policyCacheSize', 'approvalTtlSeconds', 'pkcs11Slot', 'auditCheckpointEvents', 'auditCheckpointSeconds', 'workers', 'auditRetentionDays']);
const BOOLEAN = new Set(['dualControl']);
const LIST = new Set(['auditStreams', 'dualControlOperations']);

/** An environment value as the schema expects it: numbers, on/off/true/false, comma-separated lists. */
function fromEnvValue(field: string, value: string): unknown {
  if (NUMERIC.has(field)) return Number(value);
  if (BOOLEAN.has(field)) return ({ on: true, true: true, '1': true, off: false, false: false, '0': false } as Record<string, boolean>)[value.toLowerCase()] ?? value;
  if (LIST.has(field)) return value.split(',').map((v) => v.trim()).filter((v) => v !== '');
  return value;
}

const DEFAULTS = {
  dev: false,
  dataDir: './data',
  listen: '127.0.0.1:8443',
  region: 'us-east-1',
  accountId: '111122223333',
  logLevel: 'info',
  tlsClientAuth: 'optional',
  tlsCertificateLifetimeSeconds: 30 * 86_400,
  defaultRotationPeriodDays: 180,
  jobIntervalSeconds: 60,
  jobBatchSize: 500,
  jobBatchPauseMs: 0,
  jobLeaseMs: 30_000,
  jobLeaseRenewMs: 10_000,
  keyCacheSize: 100_000,
  keyCacheTtlSeconds: 300,
  metadataCacheMs: 1000,
  policyCacheSize: 10_000,
  dualControl: false,
  dualControlOperations: [...DEFAULT_DUAL_CONTROL_OPERATIONS],
  approvalTtlSeconds: 86_400,
  auditCheckpointEvents: 1000,
  auditCheckpointSeconds: 60,
  auditStreams: [],
  auditRetentionDays: 0,
  /** One worker per core (issue #8): the primary serves no requests, so N workers use N cores. */
  workers: availableParallelism(),
} as const;

/**
 * Builds the frozen server configuration.
 * @throws ValidationError (ERR_VALIDATION) naming every invalid setting.
 */
export function loadServerConfig(flags: ServerFlags, env: Record<string, string | undefined>): ServerConfig {
  const fromEnv: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(ENV)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    fromEnv[field] = fromEnvValue(field, value);
  }
  const fromFlags = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  const parsed = schema.safeParse({ ...DEFAULTS, ...fromEnv, ...fromFlags });
  if (!parsed.success) {
    const reasons = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);
    throw new ValidationError(`Invalid configuration: ${reasons.join('; ')}`);
  }
  const config = parsed.data;
  const separator = config.listen.lastIndexOf(':');
  const host = config.listen.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(config.listen.slice(separator + 1));
  if (port > 65_535) throw new ValidationError('Invalid configuration: listen: port out of range');
  return Object.freeze({ ...config, dataDir: resolve(config.dataDir), host, port });
}

/** Where dev mode keeps its files. */
export function dataPaths(config: Pick<ServerConfig, 'dataDir'>) {
  return {
    sqliteFile: join(config.dataDir, 'datadefender.db'),
    rootKeyFile: join(config.dataDir, 'root.key'),
    tlsDir: join(config.dataDir, 'tls'),
    devCredentialsFile: join(config.dataDir, 'dev-credentials.json'),
    sealFile: join(config.dataDir, 'seal.json'),
  };
}

/**
 * The roots of trust behind the root ring (core/root-ring.ts), built from the server's configuration: which root
 * anchors the registry, how each generation's root opens, and how a new generation's root is made (rotate-root,
 * migrate-root, recover). With main.ts and roots.ts, the only place that picks root-of-trust adapters; every root
 * opens through roots.ts (openConfiguredRoot / initializeConfiguredRoot) with the configuration's own settings.
 *
 * Invariants:
 * - the trust anchor is the root the configuration opens: a generation anchors the registry only if it is in the
 *   same seal (local-sealed), the same HSM token (pkcs11: every key object in our token is ours), the same upstream
 *   key ARN (aws-kms: another key, even in our account, could be someone else's) or the same data directory (local);
 * - a generation in another adapter is opened from the configuration's settings for that adapter, never from
 *   anything but the non-secret descriptor in the (verified) registry: a descriptor can name a key label or an ARN,
 *   never a module, a token or credentials;
 * - rotate-root: local-sealed adds a root key to the seal file (same unseal key); pkcs11 creates a key object
 *   labelled `<keyLabel>-g<generation>` in the configured token; aws-kms needs a new upstream key id; local (dev)
 *   writes `root-g<generation>.key`;
 * - everything this opened is closed by close().
 */
import { dirname, join } from 'node:path';
import type { LocalSealedRoot } from './adapters/root-of-trust/local-sealed/index.js';
import { isLocalSealedRoot, openSealedRoot } from './adapters/root-of-trust/local-sealed/index.js';
import { openPostgresStorage } from './adapters/storage/postgres/index.js';
import { openSqliteStorage } from './adapters/storage/sqlite/index.js';
import { dataPaths, rootOf, ROOTS_OF_TRUST, type RootOfTrustKind, type ServerConfig } from './config/config.js';
import type { CreatedRoot, RootBackends, RootCreateRequest } from './core/root-ring.js';
import { DependencyError, UnsupportedError, ValidationError } from './errors/index.js';
import type { RootOfTrust } from './ports/root-of-trust.js';
import type { RootDescriptor, RootGenerationRecord } from './ports/root-ring-storage.js';
import type { Storage } from './ports/storage.js';
import { initializeConfiguredRoot, openConfiguredRoot, type OpenedRoot } from './roots.js';

export interface ConfiguredRootBackends extends RootBackends {
  /** Closes every root this opened (not the configured root handed in). */
  close(): Promise<void>;
}

export interface RootBackendOptions {
  /** The configured root, already opened (main.ts); null when it is lost (operator recover). */
  configured: OpenedRoot | null;
  env?: NodeJS.ProcessEnv;
  /** Offline commands: unseal shares of a local-sealed seal that is not the configured root (a resumed recovery). */
  unsealShares?: readonly string[];
}

const isKind = (kind: string): kind is RootOfTrustKind => (ROOTS_OF_TRUST as readonly string[]).includes(kind);

const tokenOf = (config: ServerConfig): string =>
  config.pkcs11TokenLabel !== undefined ? `label:${config.pkcs11TokenLabel}` : `slot:${config.pkcs11Slot ?? ''}`;

function requireSettings(config: ServerConfig, kind: RootOfTrustKind): void {
  const missing =
    kind === 'pkcs11'
      ? !config.pkcs11Module || !config.pkcs11KeyLabel || (config.pkcs11TokenLabel === undefined) === (config.pkcs11Slot === undefined) || (config.pkcs11PinFile === undefined) === (config.pkcs11PinEnv === undefined)
      : kind === 'aws-kms'
        ? config.awsKmsKeyId === undefined
        : kind === 'local'
          ? !config.dev
          : false;
  if (missing) {
    throw new ValidationError(
      kind === 'local'
        ? 'The local root (a key in a file) is for dev mode only.'
        : `The server configuration has no complete ${kind} settings (see README: roots of trust); add them to use the ${kind} root.`,
    );
  }
}

/** The configuration with the settings of `kind` pointed at one key (a descriptor's key label, ARN or file). */
function configFor(config: ServerConfig, kind: RootOfTrustKind, descriptor?: RootDescriptor): ServerConfig {
  const over: Record<string, unknown> = { rootOfTrust: kind };
  if (descriptor && kind === 'pkcs11') over.pkcs11KeyLabel = String(descriptor.keyLabel);
  if (descriptor && kind === 'aws-kms') over.awsKmsKeyId = String(descriptor.keyArn);
  return { ...config, ...over } as ServerConfig;
}

/** The roots of trust of `config` for the ring. */
export function createRootBackends(config: ServerConfig, options: RootBackendOptions): ConfiguredRootBackends {
  const env = options.env ?? process.env;
  const configured = options.configured;
  const configuredKind = rootOf(config);
  const sealFile = config.sealFile ?? dataPaths(config).sealFile;
  const opened: OpenedRoot[] = [];
  let anchorDescriptor: RootDescriptor | undefined;

  const sealed = (): LocalSealedRoot | undefined => (isLocalSealedRoot(configured?.root) ? configured.root : undefined);

  const track = (o: OpenedRoot): RootOfTrust => {
    opened.push(o);
    return o.root;
  };

  async function descriptorOfConfigured(): Promise<RootDescriptor> {
    if (!configured) throw new DependencyError(`The configured root of trust (${configuredKind}) is not open.`);
    switch (configuredKind) {
      case 'local':
        return { file: dataPaths(config).rootKeyFile };
      case 'local-sealed': {
        const sealId = sealed()?.sealId || (await openSealedRoot(sealFile)).sealId;
        return { sealId, rootKey: 1 };
      }
      case 'pkcs11':
        return { token: tokenOf(config), keyLabel: config.pkcs11KeyLabel! };
      case 'aws-kms': {
        const arn = (configured.root as { keyArn?: string }).keyArn;
        return { keyArn: arn ?? config.awsKmsKeyId! };
      }
    }
  }

  const anchors = (g: Pick<RootGenerationRecord, 'kind' | 'descriptor'>): boolean => {
    const a = anchorDescriptor;
    if (!a || g.kind !== configuredKind) return false;
    switch (configuredKind) {
      case 'local':
        return typeof g.descriptor.file === 'string' && dirname(g.descriptor.file) === config.dataDir;
      case 'local-sealed':
        return g.descriptor.sealId === a.sealId;
      case 'pkcs11':
        return g.descriptor.token === a.token && typeof g.descriptor.keyLabel === 'string';
      case 'aws-kms':
        return g.descriptor.keyArn === a.keyArn;
    }
  };

  async function openGeneration(g: Pick<RootGenerationRecord, 'generation' | 'kind' | 'descriptor'>): Promise<RootOfTrust> {
    if (!isKind(g.kind)) throw new ValidationError(`Unknown root of trust kind ${g.kind}.`);
    if (configured && anchors(g)) {
      switch (configuredKind) {
        case 'local-sealed': {
          const n = Number(g.descriptor.rootKey);
          if (n === 1) return configured.root;
          const s = sealed();
          if (!s) throw new UnsupportedError('Root key generations of the local-sealed root are only available in the process that holds the seal.');
          return s.rootKeyView(n);
        }
        case 'pkcs11':
          return g.descriptor.keyLabel === config.pkcs11KeyLabel ? configured.root : track(await openConfiguredRoot(configFor(config, 'pkcs11', g.descriptor), 'pkcs11', env));
        case 'aws-kms':
          return configured.root;
        case 'local':
          return g.descriptor.file === dataPaths(config).rootKeyFile ? configured.root : openLocalFile(String(g.descriptor.file));
      }
    }
    requireSettings(config, g.kind);
    switch (g.kind) {
      case 'pkcs11':
        if (g.descriptor.token !== tokenOf(config)) throw new DependencyError(`Root generation ${g.generation} is in another HSM token (${String(g.descriptor.token)}) than the configured one.`);
        return track(await openConfiguredRoot(configFor(config, 'pkcs11', g.descriptor), 'pkcs11', env));
      case 'aws-kms':
        return track(await openConfiguredRoot(configFor(config, 'aws-kms', g.descriptor), 'aws-kms', env));
      case 'local-sealed': {
        const o = await openConfiguredRoot(configFor(config, 'local-sealed'), 'local-sealed', env);
        const root = o.sealable as LocalSealedRoot;
        if (root.sealId !== g.descriptor.sealId) throw new DependencyError(`Root generation ${g.generation} is in another seal than the configured seal file.`);
        for (const share of options.unsealShares ?? []) {
          if (!root.status().sealed) break;
          await root.submitShare(share, root.status().nonce ?? undefined);
        }
        opened.push(o);
        if (root.status().sealed) {
          // Not the configured root, so nobody can unseal it here: say why, not just "sealed".
          throw new DependencyError(
            `Root generation ${g.generation} (local-sealed) is sealed in this process, and data still wrapped under it cannot be read. ` +
              'If a migration away from it is unfinished, finish it with the configuration that names local-sealed, then switch.',
          );
        }
        const n = Number(g.descriptor.rootKey);
        return n === 1 ? root : root.rootKeyView(n);
      }
      case 'local':
        return openLocalFile(String(g.descriptor.file));
    }
  }

  async function openLocalFile(file: string): Promise<RootOfTrust> {
    const { openLocalRootOfTrust } = await import('./adapters/root-of-trust/local/local-root-of-trust.js');
    return openLocalRootOfTrust(file);
  }

  async function create(request: RootCreateRequest): Promise<CreatedRoot> {
    const kind = request.kind;
    if (!isKind(kind)) throw new ValidationError(`Unknown root of trust ${kind}: expected one of ${ROOTS_OF_TRUST.join(', ')}.`);
    requireSettings(config, kind);
    if (request.mode === 'rotate') {
      switch (kind) {
        case 'local-sealed': {
          const s = sealed();
          if (!s || configuredKind !== 'local-sealed') throw new UnsupportedError('rotate-root of the local-sealed root runs in the process that holds the seal (the server, or its primary).');
          const n = await s.addRootKey();
          return { descriptor: { sealId: s.sealId, rootKey: n }, root: s.rootKeyView(n) };
        }
        case 'pkcs11': {
          const keyLabel = `${config.pkcs11KeyLabel!}-g${request.generation}`;
          const { opened: o } = await initializeConfiguredRoot({ ...configFor(config, 'pkcs11'), pkcs11KeyLabel: keyLabel } as ServerConfig, { createKey: true, shares: 1, threshold: 1 }, env);
          return { descriptor: { token: tokenOf(config), keyLabel }, root: track(o) };
        }
        case 'aws-kms': {
          if (!request.awsKmsKeyId) throw new ValidationError('rotate-root on the aws-kms root needs the new upstream key (--aws-kms-key-id): DataDefender cannot create keys upstream.');
          const o = await openConfiguredRoot({ ...configFor(config, 'aws-kms'), awsKmsKeyId: request.awsKmsKeyId } as ServerConfig, 'aws-kms', env);
          const keyArn = (o.root as { keyArn?: string }).keyArn ?? request.awsKmsKeyId;
          if (anchorDescriptor?.keyArn === keyArn) {
            await o.close();
            throw new ValidationError('The new upstream key is the one in use; rotate-root needs another key.');
          }
          return { descriptor: { keyArn }, root: track(o) };
        }
        case 'local': {
          const file = join(config.dataDir, `root-g${request.generation}.key`);
          return { descriptor: { file }, root: await openLocalFile(file) };
        }
      }
    }
    // migrate-root and recover: the adapter's root as the configuration names it (made when asked to).
    switch (kind) {
      case 'local-sealed': {
        const { opened: o, shares } = await initializeConfiguredRoot(configFor(config, 'local-sealed'), {
          shares: request.shares ?? 5,
          threshold: request.threshold ?? 3,
          createKey: false,
        }, env);
        const root = o.sealable as LocalSealedRoot;
        opened.push(o);
        return { descriptor: { sealId: root.sealId, rootKey: 1 }, root, shares };
      }
      case 'pkcs11': {
        const { opened: o } = await initializeConfiguredRoot(configFor(config, 'pkcs11'), { createKey: request.createKey === true, shares: 1, threshold: 1 }, env);
        return { descriptor: { token: tokenOf(config), keyLabel: config.pkcs11KeyLabel! }, root: track(o) };
      }
      case 'aws-kms': {
        const c = request.awsKmsKeyId ? ({ ...configFor(config, 'aws-kms'), awsKmsKeyId: request.awsKmsKeyId } as ServerConfig) : configFor(config, 'aws-kms');
        const o = await openConfiguredRoot(c, 'aws-kms', env);
        return { descriptor: { keyArn: (o.root as { keyArn?: string }).keyArn ?? c.awsKmsKeyId! }, root: track(o) };
      }
      case 'local': {
        const file = join(config.dataDir, `root-g${request.generation}.key`);
        return { descriptor: { file }, root: await openLocalFile(file) };
      }
    }
  }

  return {
    async anchor() {
      if (!configured) throw new DependencyError(`The configured root of trust (${configuredKind}) is not open.`);
      anchorDescriptor ??= await descriptorOfConfigured();
      return { kind: configuredKind, descriptor: anchorDescriptor, root: configured.root };
    },
    anchors,
    open: async (g) => {
      if (configured && !anchorDescriptor) anchorDescriptor = await descriptorOfConfigured();
      return openGeneration(g);
    },
    create: async (request) => {
      if (configured && !anchorDescriptor) anchorDescriptor = await descriptorOfConfigured();
      return create(request);
    },
    async close() {
      for (const o of opened.splice(0)) {
        o.sealable?.seal();
        await o.close().catch(() => undefined);
      }
    },
  };
}

/** The configured storage (as main.ts opens it), for offline commands. */
export function openConfiguredStorage(config: ServerConfig): Promise<Storage> {
  return config.databaseUrl
    ? openPostgresStorage({ connectionString: config.databaseUrl, schema: config.databaseSchema })
    : openSqliteStorage({ file: dataPaths(config).sqliteFile });
}

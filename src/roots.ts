/**
 * Composition of the roots of trust: opens (and, for `operator init`, creates) the configured adapter.
 * With main.ts, the only place that picks root-of-trust adapters. Secrets (the PKCS#11 PIN) come from a file or an
 * environment variable named by the configuration, never from the configuration itself.
 */
import { readFile } from 'node:fs/promises';
import { openAwsKmsRootOfTrust } from './adapters/root-of-trust/aws-kms/index.js';
import { openLocalRootOfTrust } from './adapters/root-of-trust/local/local-root-of-trust.js';
import { initSealedRoot, openSealedRoot } from './adapters/root-of-trust/local-sealed/index.js';
import { createPkcs11RootKey, openPkcs11RootOfTrust } from './adapters/root-of-trust/pkcs11/index.js';
import { dataPaths, rootOf, type RootOfTrustKind, type ServerConfig } from './config/config.js';
import { NotFoundError, ValidationError } from './errors/index.js';
import type { RootOfTrust, SealableRoot } from './ports/root-of-trust.js';
import type { SigningKeyStore } from './ports/signing-key-store.js';

/** A root of trust opened from the configuration, with what the server needs around it. */
export interface OpenedRoot {
  root: RootOfTrust;
  /** Present for roots that operators seal and unseal (local-sealed). */
  sealable?: SealableRoot;
  /** Present for roots in an HSM (pkcs11): the CA and audit checkpoint keys are generated and used inside it. */
  signingKeys?: SigningKeyStore;
  /** `unavailable` when the HSM or the upstream KMS does not answer. Never throws. */
  health(): Promise<'ok' | 'unavailable'>;
  close(): Promise<void>;
  /** Present when the root can be sealed by another process (a worker's view of the primary's root). */
  onSealed?(listener: () => void): void;
}

const healthy = async () => 'ok' as const;
const nothingToClose = async () => {};

async function pkcs11Pin(config: ServerConfig, env: NodeJS.ProcessEnv): Promise<string> {
  const pin = config.pkcs11PinFile ? (await readFile(config.pkcs11PinFile, 'utf8')).replace(/\r?\n$/, '') : env[config.pkcs11PinEnv ?? ''];
  if (!pin) throw new ValidationError(`Invalid configuration: the pkcs11 PIN ${config.pkcs11PinFile ? `file ${config.pkcs11PinFile} is empty` : `variable ${config.pkcs11PinEnv} is not set`}.`);
  return pin;
}

const pkcs11Token = async (config: ServerConfig, env: NodeJS.ProcessEnv) => ({
  modulePath: config.pkcs11Module!,
  ...(config.pkcs11TokenLabel !== undefined ? { tokenLabel: config.pkcs11TokenLabel } : { slot: config.pkcs11Slot! }),
  pin: await pkcs11Pin(config, env),
  keyLabel: config.pkcs11KeyLabel!,
});

/** How each root of trust opens from the configuration (the settings were checked by loadServerConfig). */
const ROOT_OPENERS: Record<RootOfTrustKind, (config: ServerConfig, env: NodeJS.ProcessEnv) => Promise<OpenedRoot>> = {
  local: async (config) => ({ root: await openLocalRootOfTrust(dataPaths(config).rootKeyFile), health: healthy, close: nothingToClose }),
  'local-sealed': async (config) => {
    const file = config.sealFile ?? dataPaths(config).sealFile;
    const root = await openSealedRoot(file).catch((err: unknown) => {
      if (err instanceof NotFoundError) throw new ValidationError(`There is no seal file at ${file}: run datadefender operator init first.`);
      throw err;
    });
    return { root, sealable: root, health: healthy, close: nothingToClose };
  },
  pkcs11: async (config, env) => {
    // A PIN file can be corrected while the server runs; an environment variable cannot change under it.
    const rereadPin = config.pkcs11PinFile ? { rereadPin: () => pkcs11Pin(config, env) } : {};
    const root = await openPkcs11RootOfTrust({ ...(await pkcs11Token(config, env)), ...rereadPin });
    return { root, signingKeys: root.signingKeys, health: () => root.health(), close: () => root.close() };
  },
  'aws-kms': async (config) => {
    const root = await openAwsKmsRootOfTrust({
      keyId: config.awsKmsKeyId!,
      region: config.awsKmsRegion ?? config.region,
      ...(config.awsKmsEndpoint ? { endpoint: config.awsKmsEndpoint } : {}),
      ...(config.awsKmsCaFile ? { caBundlePem: await readFile(config.awsKmsCaFile, 'utf8') } : {}),
    });
    return { root, health: () => root.health(), close: () => root.close() };
  },
};

/** Opens the root of trust `kind` (default: the configured one) from the configuration. Secrets come from files or the environment. */
export function openConfiguredRoot(config: ServerConfig, kind: RootOfTrustKind = rootOf(config), env: NodeJS.ProcessEnv = process.env): Promise<OpenedRoot> {
  return ROOT_OPENERS[kind](config, env);
}

/** What `operator init` asks of the root of trust. */
export interface RootInitOptions {
  /** local-sealed: unseal shares to issue and how many unseal. */
  shares: number;
  threshold: number;
  /** pkcs11: create the root key object in the token (otherwise it must exist). */
  createKey: boolean;
}

/** How each root of trust is created by `operator init`; returns the unseal shares (local-sealed only). */
const ROOT_CREATORS: Record<RootOfTrustKind, (config: ServerConfig, options: RootInitOptions, env: NodeJS.ProcessEnv) => Promise<string[]>> = {
  local: async () => [],
  'local-sealed': (config, options) => initSealedRoot(config.sealFile ?? dataPaths(config).sealFile, options),
  pkcs11: async (config, options, env) => {
    if (options.createKey) await createPkcs11RootKey(await pkcs11Token(config, env));
    return [];
  },
  'aws-kms': async () => [],
};

/**
 * Creates the configured root of trust (`operator init`) and opens it, unsealed, so the first administrator's
 * secret can be wrapped. The caller closes (and for local-sealed seals) it.
 * @throws AlreadyExistsError when a seal file exists; the adapters' errors when the HSM key exists or is missing.
 */
export async function initializeConfiguredRoot(config: ServerConfig, options: RootInitOptions, env: NodeJS.ProcessEnv = process.env): Promise<{ opened: OpenedRoot; shares: string[] }> {
  const kind = rootOf(config);
  const shares = await ROOT_CREATORS[kind](config, options, env);
  const opened = await openConfiguredRoot(config, kind, env);
  for (const share of shares.slice(0, options.threshold)) await opened.sealable?.submitShare(share, opened.sealable.status().nonce ?? undefined);
  return { opened, shares };
}

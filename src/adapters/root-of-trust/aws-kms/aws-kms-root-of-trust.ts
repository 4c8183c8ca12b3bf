/**
 * The `aws-kms` root of trust: the root key is a symmetric key in an upstream AWS KMS (or any server speaking its
 * API, such as another DataDefender); wrap is the upstream's Encrypt and unwrap its Decrypt, both under an encryption
 * context that binds the caller's AAD (formats and context in aws-kms-format.ts).
 *
 * Invariants:
 * - the root key never leaves the upstream; material of more than 4096 bytes (AWS KMS Encrypt's limit) is wrapped
 *   under a fresh AES-256 data-encryption key that the upstream encrypts (format v2), so the upstream still guards
 *   every byte;
 * - the upstream key is resolved once, at open, to its ARN (DescribeKey: a SYMMETRIC_DEFAULT ENCRYPT_DECRYPT key in
 *   state Enabled); every Encrypt and Decrypt names that ARN, so Decrypt of a blob made under any other key is
 *   refused by the upstream (IncorrectKeyException) — with an alias, a later change of its target does not move
 *   this process to another key;
 * - every unwrap failure caused by the input (version byte, lengths, an upstream InvalidCiphertextException or
 *   IncorrectKeyException, the local AES-GCM tag of format v2) is InvalidCiphertextError with its one message;
 *   anything else is DependencyError naming the upstream problem, never the upstream's message (aws-kms-errors.ts);
 * - each operation ends within `timeoutMs`, all retries included (a deadline aborts the request); the SDK's
 *   standard retry mode retries throttling, 5xx and network errors up to `maxAttempts`;
 * - TLS is always verified (rejectUnauthorized is set explicitly, so NODE_TLS_REJECT_UNAUTHORIZED=0 does not turn
 *   it off); `caBundlePem` replaces the default trust store for this client only;
 * - plaintext handed to the SDK is the caller's own buffer (`reveal()`, no copy is kept here); plaintext the SDK
 *   returns is copied into a SecretBytes and the SDK's buffer zeroed; a v2 data-encryption key is destroyed after
 *   use. Not covered: the SDK's request and response bodies carry the plaintext as base64 text in JavaScript
 *   strings, which cannot be zeroed and live until garbage collection.
 */
import { DecryptCommand, DescribeKeyCommand, EncryptCommand, KMSClient, type KeyMetadata } from '@aws-sdk/client-kms';
import { Agent } from 'node:https';
import { performance } from 'node:perf_hooks';
import { SecretBytes, randomSecret, unwrapKey, wrapKey } from '../../../crypto/index.js';
import { DependencyError, InvalidCiphertextError, ValidationError } from '../../../errors/index.js';
import type { RootOfTrust } from '../../../ports/root-of-trust.js';
import { upstreamError, upstreamTimeout, type UpstreamOperation } from './aws-kms-errors.js';
import {
  DEK_BYTES,
  FORMAT_DIRECT,
  FORMAT_ENVELOPE,
  MAX_DIRECT_PLAINTEXT,
  MAX_UPSTREAM_BLOB,
  encodeDirect,
  encodeEnvelope,
  encryptionContextFor,
  envelopeAad,
  parseWrapped,
} from './aws-kms-format.js';
import { validateAwsKmsOptions, type AwsKmsRootOfTrustOptions, type ValidAwsKmsOptions } from './aws-kms-options.js';

export type AwsKmsHealth = 'ok' | 'unavailable';

/** A RootOfTrust backed by an upstream AWS KMS key, with a cheap cached health probe and a close. */
export type AwsKmsRootOfTrust = RootOfTrust & {
  readonly kind: 'aws-kms';
  /** The ARN of the upstream key, resolved at open. */
  readonly keyArn: string;
  /** `ok` when the upstream answers DescribeKey and the key is Enabled; the answer is reused for `healthCacheMs`. Never throws. */
  health(): Promise<AwsKmsHealth>;
  /** Destroys the SDK client (its sockets); later operations throw DependencyError. */
  close(): Promise<void>;
};

const SYMMETRIC_DEFAULT = 'SYMMETRIC_DEFAULT';
const USER_AGENT = 'datadefender-root-of-trust/aws-kms';
/** The SDK's own default for its Node handler. */
const MAX_SOCKETS = 50;

const closedError = () => new DependencyError('The aws-kms root of trust is closed.');
const unexpectedAnswer = (op: UpstreamOperation) => new DependencyError(`The upstream KMS answered ${op} with an unexpected response.`);

function createClient(o: ValidAwsKmsOptions): KMSClient {
  const httpsAgent = new Agent({
    keepAlive: true,
    maxSockets: MAX_SOCKETS,
    minVersion: 'TLSv1.2',
    rejectUnauthorized: true,
    ...(o.caBundlePem === undefined ? {} : { ca: o.caBundlePem }),
  });
  return new KMSClient({
    region: o.region,
    ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint }),
    ...(o.credentials === undefined ? {} : { credentials: { ...o.credentials } }),
    maxAttempts: o.maxAttempts,
    customUserAgent: USER_AGENT,
    requestHandler: { httpsAgent, connectionTimeout: o.timeoutMs, requestTimeout: o.timeoutMs, throwOnRequestTimeout: true },
  });
}

/** Runs one upstream call under the operation's deadline; every failure comes out as a DataDefenderError. */
async function withDeadline<T>(op: UpstreamOperation, timeoutMs: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(upstreamTimeout(op, timeoutMs));
      controller.abort();
    }, timeoutMs);
  });
  try {
    return await Promise.race([call(controller.signal), deadline]);
  } catch (err) {
    throw upstreamError(op, err, timeoutMs);
  } finally {
    clearTimeout(timer);
  }
}

/** Why the key cannot serve as a root, or null when it can. */
function unsuitable(meta: KeyMetadata): { error: 'validation' | 'dependency'; reason: string } | null {
  const spec = meta.KeySpec ?? meta.CustomerMasterKeySpec;
  if (spec !== SYMMETRIC_DEFAULT || meta.KeyUsage !== 'ENCRYPT_DECRYPT') {
    return { error: 'validation', reason: `is not a SYMMETRIC_DEFAULT ENCRYPT_DECRYPT key (it is ${safeWord(spec)} ${safeWord(meta.KeyUsage)})` };
  }
  if (meta.KeyState !== 'Enabled') return { error: 'dependency', reason: `is not usable: its state is ${safeWord(meta.KeyState)}` };
  return null;
}

const safeWord = (x: unknown): string => (typeof x === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(x) ? x : 'unknown');

class AwsKmsRoot implements AwsKmsRootOfTrust {
  readonly kind = 'aws-kms' as const;
  readonly #client: KMSClient;
  readonly #options: ValidAwsKmsOptions;
  #closed = false;
  #health: { value: AwsKmsHealth; at: number } | undefined;
  #probe: Promise<AwsKmsHealth> | undefined;

  constructor(
    client: KMSClient,
    readonly keyArn: string,
    options: ValidAwsKmsOptions,
  ) {
    this.#client = client;
    this.#options = options;
  }

  /** @throws ValidationError (empty material), DependencyError (upstream unavailable, key unusable, closed) */
  async wrap(plaintext: SecretBytes, aad: Uint8Array): Promise<Uint8Array> {
    checkAad(aad);
    if (!(plaintext instanceof SecretBytes) || plaintext.length === 0) throw new ValidationError('The key material to wrap must not be empty.');
    return this.#observe(async () => {
      if (plaintext.length <= MAX_DIRECT_PLAINTEXT) {
        return encodeDirect(await this.#encrypt(plaintext.reveal(), encryptionContextFor(FORMAT_DIRECT, aad)));
      }
      const dek = randomSecret(DEK_BYTES);
      try {
        const upstreamBlob = await this.#encrypt(dek.reveal(), encryptionContextFor(FORMAT_ENVELOPE, aad));
        return encodeEnvelope(upstreamBlob, wrapKey(dek, plaintext, envelopeAad(aad)));
      } finally {
        dek.destroy();
      }
    });
  }

  /** @throws InvalidCiphertextError (any failure caused by `wrapped` or `aad`), DependencyError (upstream unavailable, key unusable, closed) */
  async unwrap(wrapped: Uint8Array, aad: Uint8Array): Promise<SecretBytes> {
    checkAad(aad);
    const parsed = parseWrapped(wrapped);
    if (!parsed) throw new InvalidCiphertextError();
    return this.#observe(async () => {
      if (parsed.format === FORMAT_DIRECT) return this.#decrypt(parsed.upstreamBlob, encryptionContextFor(FORMAT_DIRECT, aad));
      const dek = await this.#decrypt(parsed.upstreamBlob, encryptionContextFor(FORMAT_ENVELOPE, aad));
      try {
        if (dek.length !== DEK_BYTES) throw new InvalidCiphertextError();
        return unwrapKey(dek, parsed.localWrap, envelopeAad(aad));
      } finally {
        dek.destroy();
      }
    });
  }

  health(): Promise<AwsKmsHealth> {
    if (this.#closed) return Promise.resolve('unavailable');
    const cached = this.#health;
    if (cached && performance.now() - cached.at < this.#options.healthCacheMs) return Promise.resolve(cached.value);
    this.#probe ??= this.#describe()
      .then((meta) => (meta.Arn === this.keyArn && unsuitable(meta) === null ? 'ok' : 'unavailable') as AwsKmsHealth)
      .catch((): AwsKmsHealth => 'unavailable')
      .then((value) => {
        this.#health = { value, at: performance.now() };
        return value;
      })
      .finally(() => {
        this.#probe = undefined;
      });
    return this.#probe;
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#client.destroy();
    }
    return Promise.resolve();
  }

  /** A success proves the upstream healthy; an upstream failure drops the cached health so the next probe asks. */
  async #observe<T>(operation: () => Promise<T>): Promise<T> {
    try {
      const result = await operation();
      this.#health = { value: 'ok', at: performance.now() };
      return result;
    } catch (err) {
      if (err instanceof DependencyError) this.#health = undefined;
      throw err;
    }
  }

  #describe(): Promise<KeyMetadata> {
    return describeKey(this.#client, this.#options, this.keyArn, () => this.#closed);
  }

  // AWS KMS Encrypt: KeyId, Plaintext (1 to 4096 bytes), EncryptionContext -> CiphertextBlob, KeyId (the key ARN).
  async #encrypt(plaintext: Buffer, context: Record<string, string>): Promise<Uint8Array> {
    if (this.#closed) throw closedError();
    const { timeoutMs } = this.#options;
    const out = await withDeadline('Encrypt', timeoutMs, (abortSignal) =>
      this.#client.send(
        new EncryptCommand({ KeyId: this.keyArn, Plaintext: plaintext, EncryptionContext: context, EncryptionAlgorithm: SYMMETRIC_DEFAULT }),
        { abortSignal },
      ),
    );
    const blob = out.CiphertextBlob;
    if (!(blob instanceof Uint8Array) || blob.length < 1 || blob.length > MAX_UPSTREAM_BLOB || (out.KeyId !== undefined && out.KeyId !== this.keyArn)) {
      throw unexpectedAnswer('Encrypt');
    }
    return blob;
  }

  // AWS KMS Decrypt: KeyId pinned (a blob of another key -> IncorrectKeyException), the same EncryptionContext
  // (another -> InvalidCiphertextException) -> Plaintext, KeyId (the key ARN).
  async #decrypt(blob: Uint8Array, context: Record<string, string>): Promise<SecretBytes> {
    if (this.#closed) throw closedError();
    const { timeoutMs } = this.#options;
    const out = await withDeadline('Decrypt', timeoutMs, (abortSignal) =>
      this.#client.send(
        new DecryptCommand({ KeyId: this.keyArn, CiphertextBlob: blob, EncryptionContext: context, EncryptionAlgorithm: SYMMETRIC_DEFAULT }),
        { abortSignal },
      ),
    );
    const plaintext = out.Plaintext;
    if (!(plaintext instanceof Uint8Array)) throw unexpectedAnswer('Decrypt');
    const secret = SecretBytes.copyOf(plaintext);
    plaintext.fill(0);
    if (secret.length === 0 || (out.KeyId !== undefined && out.KeyId !== this.keyArn)) {
      secret.destroy();
      throw unexpectedAnswer('Decrypt');
    }
    return secret;
  }
}

function checkAad(aad: Uint8Array): void {
  if (!(aad instanceof Uint8Array)) throw new ValidationError('The AAD must be bytes.');
}

// AWS KMS DescribeKey: KeyId (id, ARN, alias name or alias ARN) -> KeyMetadata (Arn, KeySpec, KeyUsage, KeyState).
async function describeKey(client: KMSClient, o: ValidAwsKmsOptions, keyId: string, closed: () => boolean = () => false): Promise<KeyMetadata> {
  if (closed()) throw closedError();
  const out = await withDeadline('DescribeKey', o.timeoutMs, (abortSignal) => client.send(new DescribeKeyCommand({ KeyId: keyId }), { abortSignal }));
  const meta = out.KeyMetadata;
  if (!meta || typeof meta.Arn !== 'string' || !meta.Arn.startsWith('arn:')) throw unexpectedAnswer('DescribeKey');
  return meta;
}

/**
 * Opens the aws-kms root of trust: validates the options, creates the SDK client and checks the upstream key with
 * DescribeKey (a SYMMETRIC_DEFAULT ENCRYPT_DECRYPT key in state Enabled), which also resolves it to its ARN.
 * @throws ValidationError (ERR_VALIDATION) for invalid options or a key of the wrong spec or usage;
 * DependencyError (ERR_DEPENDENCY) when the upstream cannot be reached, refuses the credentials, does not know the
 * key, or the key is not Enabled.
 */
export async function openAwsKmsRootOfTrust(options: AwsKmsRootOfTrustOptions): Promise<AwsKmsRootOfTrust> {
  const valid = validateAwsKmsOptions(options);
  const client = createClient(valid);
  try {
    const meta = await describeKey(client, valid, valid.keyId);
    const problem = unsuitable(meta);
    if (problem) {
      const message = `The upstream KMS key ${meta.Arn} ${problem.reason}.`;
      throw problem.error === 'validation' ? new ValidationError(message) : new DependencyError(message);
    }
    return new AwsKmsRoot(client, meta.Arn!, valid);
  } catch (err) {
    client.destroy();
    throw err;
  }
}

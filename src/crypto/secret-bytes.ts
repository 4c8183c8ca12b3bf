import { inspect } from 'node:util';

/**
 * Secret bytes (key material, data-key plaintext, root keys).
 * Invariants: never printed (toString, JSON and util.inspect show `<redacted>`); the bytes are reached
 * only through `reveal()`, which only crypto/ and root-of-trust adapters call; `destroy()` zeroes them.
 */
export class SecretBytes {
  readonly #bytes: Buffer;

  private constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  /** Takes ownership of `bytes`: the caller must not keep using the buffer. */
  static adopt(bytes: Buffer): SecretBytes {
    return new SecretBytes(bytes);
  }

  /** Copies `bytes` into a new secret. */
  static copyOf(bytes: Uint8Array): SecretBytes {
    return new SecretBytes(Buffer.from(bytes));
  }

  get length(): number {
    return this.#bytes.length;
  }

  /** The raw bytes. Only crypto/ and root-of-trust adapters may call this. */
  reveal(): Buffer {
    return this.#bytes;
  }

  /** Overwrites the bytes with zeros. */
  destroy(): void {
    this.#bytes.fill(0);
  }

  toString(): string {
    return '<redacted>';
  }

  toJSON(): string {
    return '<redacted>';
  }

  [inspect.custom](): string {
    return 'SecretBytes(<redacted>)';
  }
}

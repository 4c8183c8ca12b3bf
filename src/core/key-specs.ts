/**
 * Everything about one key spec in one place. Issue #3 adds HMAC, RSA and ECC specs to this table.
 */
export interface KeySpecInfo {
  keyUsages: readonly string[];
  defaultUsage?: string;
  /** Bytes of secret material per version. */
  materialBytes: number;
  /** Whether automatic and on-demand rotation apply. */
  rotatable: boolean;
  encryptionAlgorithms: readonly string[];
}

export const KEY_SPECS = {
  SYMMETRIC_DEFAULT: {
    keyUsages: ['ENCRYPT_DECRYPT'],
    defaultUsage: 'ENCRYPT_DECRYPT',
    materialBytes: 32,
    rotatable: true,
    encryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
  },
} as const satisfies Record<string, KeySpecInfo>;

export type KeySpec = keyof typeof KEY_SPECS;

export function isKeySpec(value: string): value is KeySpec {
  return Object.hasOwn(KEY_SPECS, value);
}

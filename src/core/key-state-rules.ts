/**
 * Which key states allow which operations, and the exact error otherwise.
 * AWS KMS Developer Guide, key-state.md (../shared/reference/aws-kms-protocol.md §2.6): a disabled key answers
 * DisabledException "<ARN> is disabled."; a key pending deletion answers KMSInvalidStateException
 * "<ARN> is pending deletion." for crypto and management alike; a key waiting for imported material answers
 * "<ARN> is pending import." for use and enable/disable; CancelKeyDeletion on a key not pending deletion answers
 * "<ARN> is not pending deletion.".
 */
import { DataDefenderError, InvalidStateError, KeyDisabledError } from '../errors/index.js';
import { KEY_STATES, type KeyState } from '../ports/storage.js';

type Refusal = (arn: string) => DataDefenderError;

const disabled: Refusal = (arn) => new KeyDisabledError(`${arn} is disabled.`);
const pendingDeletion: Refusal = (arn) => new InvalidStateError(`${arn} is pending deletion.`);
const notPendingDeletion: Refusal = (arn) => new InvalidStateError(`${arn} is not pending deletion.`);
const pendingImport: Refusal = (arn) => new InvalidStateError(`${arn} is pending import.`);

export const STATE_RULES = {
  /** Encrypt, Decrypt, ReEncrypt, GenerateDataKey*, Sign, Verify, GenerateMac, CreateGrant, RotateKeyOnDemand. */
  use: { Disabled: disabled, PendingDeletion: pendingDeletion, PendingImport: pendingImport },
  /** Enable/DisableKeyRotation. */
  configureRotation: { Disabled: disabled, PendingDeletion: pendingDeletion, PendingImport: pendingImport },
  /** EnableKey, DisableKey. */
  toggle: { PendingDeletion: pendingDeletion, PendingImport: pendingImport },
  /** UpdateKeyDescription, Tag/UntagResource, CreateAlias target, ScheduleKeyDeletion. */
  manage: { PendingDeletion: pendingDeletion },
  /** CancelKeyDeletion. */
  cancelDeletion: { Enabled: notPendingDeletion, Disabled: notPendingDeletion, PendingImport: notPendingDeletion },
  /** ImportKeyMaterial, GetParametersForImport (AWS: allowed while Enabled, Disabled or PendingImport). */
  importMaterial: { PendingDeletion: pendingDeletion },
  /** DescribeKey, ListKeys, GetKeyRotationStatus, ListKeyRotations, DeleteAlias. */
  read: {},
} as const satisfies Record<string, Partial<Record<KeyState, Refusal>>>;

export type StateRule = keyof typeof STATE_RULES;

/** @throws KeyDisabledError (ERR_KEY_DISABLED) or InvalidStateError (ERR_INVALID_STATE) per the table. */
export function assertState(rule: StateRule, state: KeyState, arn: string): void {
  const refuse = (STATE_RULES[rule] as Partial<Record<KeyState, Refusal>>)[state];
  if (refuse) throw refuse(arn);
}

/** The states in which `rule` allows the operation (for conditional updates in storage). */
export function allowedStates(rule: StateRule): KeyState[] {
  const refused = STATE_RULES[rule] as Partial<Record<KeyState, Refusal>>;
  return KEY_STATES.filter((s) => !refused[s]);
}

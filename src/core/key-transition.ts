/**
 * A key change applied only while the key's state still allows it: the state rule is checked by the storage's
 * conditional update, so a concurrent change (say, a deletion scheduled in another process) cannot slip past it.
 */
import { ConflictError, NotFoundError } from '../errors/index.js';
import type { KeyPatch, KeyRecord } from '../ports/storage.js';
import { keyArn } from './arn.js';
import { describeRecord, type KeyContext, type KeyDescription } from './key-context.js';
import { allowedStates, assertState, type StateRule } from './key-state-rules.js';

/** @throws NotFoundError, KeyDisabledError or InvalidStateError per the rule, ConflictError on a lost race */
export async function applyTransition(kc: KeyContext, key: KeyRecord, rule: StateRule, patch: KeyPatch): Promise<KeyDescription> {
  const arn = keyArn(kc.scope, key.id);
  const updated = await kc.storage.updateKey(key.id, patch, allowedStates(rule));
  if (updated) return describeRecord(kc.scope, updated);
  const current = await kc.storage.getKey(key.id);
  if (!current) throw new NotFoundError(`Key '${arn}' does not exist`);
  assertState(rule, current.state, arn);
  throw new ConflictError(`${arn} changed concurrently; retry the request.`);
}

// The messages between server workers and the primary process that holds a sealable root of trust for all of them
// (`server --workers N` on the local-sealed root). Bytes travel as base64 over the cluster IPC channel, an OS pipe
// between the primary and its own child processes; nothing else can read it.
import type { SealStatus } from '../../../ports/root-of-trust.js';

export type RootOperation = 'wrap' | 'unwrap' | 'submitShare' | 'resetUnseal' | 'seal' | 'rekey' | 'addRootKey';

export interface RootRequest {
  dd: 'root-request';
  id: number;
  op: RootOperation;
  /**
   * wrap/unwrap: [bytes base64, aad base64, root key number (absent: root key 1)]; submitShare: [share, nonce?];
   * rekey: [shares, {shares, threshold}]; addRootKey: [].
   */
  args: unknown[];
}

export type RootReply =
  | { dd: 'root-reply'; id: number; ok: true; value: unknown }
  | { dd: 'root-reply'; id: number; ok: false; code: string; message: string };

/** Sent by the primary to every worker whenever the seal status or the root keys change, and to each worker when it starts. */
export interface RootStatusMessage {
  dd: 'root-status';
  status: SealStatus;
  sealId: string;
  /** The root key numbers in the seal file (1, then one per rotate-root). */
  rootKeys: number[];
}

/** One end of the channel: a worker's `process`, or the primary's handle on one worker. */
export interface RootChannel {
  send(message: RootRequest | RootReply | RootStatusMessage): void;
  onMessage(listener: (message: unknown) => void): void;
}

const isObject = (m: unknown): m is Record<string, unknown> => typeof m === 'object' && m !== null;
export const isRootRequest = (m: unknown): m is RootRequest => isObject(m) && m.dd === 'root-request' && typeof m.id === 'number' && Array.isArray(m.args);
export const isRootReply = (m: unknown): m is RootReply => isObject(m) && m.dd === 'root-reply' && typeof m.id === 'number';
export const isRootStatus = (m: unknown): m is RootStatusMessage => isObject(m) && m.dd === 'root-status' && isObject(m.status);

/** One AWS KMS operation: its input members (shapes.ts) and how it calls the core. */
import type { KeyService } from '../../core/key-service.js';
import type { RequestContext } from '../../core/request-context.js';
import type { Members } from './shapes.js';

export interface AwsOperation {
  readonly input: Members;
  run(service: KeyService, ctx: RequestContext, input: Record<string, unknown>): Promise<object>;
}

/** Declares an operation; `I` is the validated input's type (the shapes guarantee it). */
export function operation<I>(input: Members, run: (service: KeyService, ctx: RequestContext, input: I) => Promise<object>): AwsOperation {
  return { input, run: run as AwsOperation['run'] };
}

/** Encryption contexts and other string maps as the shapes return them. */
export type StringMap = Record<string, string>;

/** `{ [name]: value }` when the value is present, `{}` otherwise (for exactOptionalPropertyTypes-safe spreads). */
export const optionalField = <K extends string, V>(name: K, value: V | undefined): Partial<Record<K, V>> =>
  value === undefined ? {} : ({ [name]: value } as Record<K, V>);

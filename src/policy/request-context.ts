/**
 * The request context: the condition keys a request carries (`kms:EncryptionContext:<k>`, `kms:CallerAccount`,
 * `aws:SourceIp`, ...), as policy conditions see them.
 * Invariants:
 * - keys are the lower-cased condition-key names: the whole name, including the encryption-context key part after
 *   `kms:EncryptionContext:`, is case-insensitive (aws-kms-protocol.md §6.3; AWS KMS Developer Guide,
 *   "kms:EncryptionContext:context-key"); values keep their case;
 * - a key is present only as an own property with a value other than undefined/null; an empty list is the
 *   empty set, i.e. absent (AWS IAM User Guide, "ForAllValues": "resolves to an empty data set");
 * - lookups never reach Object.prototype (`constructor`, `__proto__` are ordinary, absent keys).
 */

/** One value of a condition key in the request. Dates may also be ISO 8601 strings or epoch seconds. */
export type ContextScalar = string | number | boolean | Date;

/** A single-valued key holds a scalar; a multivalued key (e.g. `kms:EncryptionContextKeys`) a list. */
export type ContextValue = ContextScalar | readonly ContextScalar[];

/** Condition keys of one request, by lower-cased key name. Build one with {@link toRequestContext}. */
export type RequestContext = Readonly<Record<string, ContextValue | undefined>>;

/** An empty context, shared. */
export const EMPTY_CONTEXT: RequestContext = Object.freeze(Object.create(null) as Record<string, ContextValue>);

/**
 * Builds a request context from condition keys spelled in any case (`kms:EncryptionContext:Tenant`), lower-casing
 * the names. Returns a frozen object without a prototype. When two names differ only in case, the last one wins.
 */
export function toRequestContext(values: Readonly<Record<string, ContextValue | undefined>>): RequestContext {
  const out = Object.create(null) as Record<string, ContextValue>;
  for (const [name, value] of Object.entries(values)) if (value !== undefined && value !== null) out[name.toLowerCase()] = value;
  return Object.freeze(out);
}

/** The value of a lower-cased key, or undefined when absent (including an empty list). */
export function lookupContext(context: RequestContext, key: string): ContextValue | undefined {
  if (!Object.hasOwn(context, key)) return undefined;
  const value = context[key];
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value) && value.length === 0) return undefined;
  return value;
}

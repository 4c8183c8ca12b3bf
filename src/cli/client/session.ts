/**
 * What every client command's action shares: the session (global options, a lazily configured API client, output),
 * reading files named on the command line, checking the shape of the server's answers, and paging through lists.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadClientConfig, type GlobalOptions } from './client-config.js';
import { formatJson, printable } from './format.js';
import { createApiClient, type ApiClient } from './http-client.js';
import { CliError, type CliIo } from './io.js';

/** Encodes one URL path segment (names, ids and alias names may contain `/`, `+`, `=`, `@`, ...). */
export const seg = encodeURIComponent;

/** What an action needs: the resolved global options, a lazily configured API client, and output. */
export interface Session {
  readonly json: boolean;
  /** `anonymous`: a token is used if configured but not required (the public operator endpoints). */
  api(options?: { anonymous?: boolean }): Promise<ApiClient>;
  /** Prints `response` as JSON under --json, else `human()`. */
  print(response: unknown, human: () => string): void;
}

export function session(command: Command, io: CliIo): Session {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const json = globals.json === true;
  return {
    json,
    api: async (options) => createApiClient(await loadClientConfig(globals, io, options)),
    print: (response, human) => io.stdout(json ? formatJson(response) : human()),
  };
}

/** Reads a file named on the command line (relative to the working directory). @throws CliError */
export async function readInput(io: CliIo, file: string, what: string): Promise<Buffer> {
  const path = resolve(io.cwd, file);
  try {
    return await io.readFile(path);
  } catch (err) {
    const code = typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : String(err);
    throw new CliError(`Cannot read ${what} ${path}: ${code}.`, { cause: err });
  }
}

/** Exactly one of two options must be given. @throws CliError */
export function exactlyOne(a: unknown, b: unknown, names: string): void {
  if ((a === undefined) === (b === undefined)) throw new CliError(`Give exactly one of ${names}.`);
}

const fieldOf = (response: unknown, field: string): unknown =>
  typeof response === 'object' && response !== null ? (response as Record<string, unknown>)[field] : undefined;

/** @throws CliError when the server's answer lacks a string field the command prints. */
export function expectString(response: unknown, field: string, endpoint: string): string {
  const value = fieldOf(response, field);
  if (typeof value !== 'string') throw new CliError(`Unexpected answer from ${endpoint}: no "${field}".`);
  return value;
}

/**
 * The object under `field` of the server's answer, which must have the string property `idField`.
 * @throws CliError when it is missing.
 */
export function expectObject<T>(response: unknown, field: string, idField: string, endpoint: string): T {
  const value = fieldOf(response, field);
  if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof (value as Record<string, unknown>)[idField] !== 'string') {
    throw new CliError(`Unexpected answer from ${endpoint}: no "${field}".`);
  }
  return value as T;
}

/** The array under `field` of the server's answer. @throws CliError when it is missing. */
export function expectArray<T>(response: unknown, field: string, endpoint: string): T[] {
  const value = fieldOf(response, field);
  if (!Array.isArray(value)) throw new CliError(`Unexpected answer from ${endpoint}: no "${field}".`);
  return value as T[];
}

/** The paging options of a list command. */
export interface PageOptions {
  limit?: number;
  marker?: string;
  all?: boolean;
}

/**
 * GETs `path` (with `extra` query parameters and limit/marker) and, with `all`, follows nextMarker through every
 * page. Returns the items and the answer to print: the page as is, or with `all` the pages merged into one answer
 * of the same shape.
 * @throws CliError when an answer lacks `field` or the server repeats a marker; ApiError.
 */
export async function fetchPages<T>(
  api: ApiClient,
  path: string,
  field: string,
  opts: PageOptions,
  extra: Record<string, string> = {},
): Promise<{ items: T[]; answer: unknown; nextMarker: string | undefined }> {
  const items: T[] = [];
  const seen = new Set<string>();
  let marker = opts.marker;
  for (;;) {
    const query = new URLSearchParams(extra);
    if (opts.limit !== undefined) query.set('limit', String(opts.limit));
    if (marker !== undefined) query.set('marker', marker);
    const qs = query.toString();
    const page = await api.request<Record<string, unknown>>('GET', `${path}${qs ? `?${qs}` : ''}`);
    items.push(...expectArray<T>(page, field, api.endpoint));
    const next = typeof page.nextMarker === 'string' && page.nextMarker !== '' ? page.nextMarker : undefined;
    if (!opts.all) return { items, answer: page, nextMarker: next };
    if (next === undefined) return { items, answer: { [field]: items }, nextMarker: undefined };
    if (seen.has(next)) throw new CliError(`The server at ${api.endpoint} returned the same nextMarker twice; stopping.`);
    seen.add(next);
    marker = next;
  }
}

/** Tells, on stderr and only for human output, how to get the page after this one. */
export function hintNextPage(io: CliIo, s: Session, what: string, nextMarker: string | undefined): void {
  if (!s.json && nextMarker !== undefined) io.stderr(`More ${what}: pass --all, or --marker ${printable(nextMarker)}\n`);
}

/** Prints the outcome of a request answered with 204 No Content: `message` for humans, nothing under --json. */
export function printDone(s: Session, io: CliIo, message: string): void {
  if (!s.json) io.stdout(`${printable(message)}\n`);
}

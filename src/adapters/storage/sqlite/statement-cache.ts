/**
 * better-sqlite3 behind Kysely with prepared statements cached by SQL text: Kysely asks the driver to prepare
 * every query anew, and preparing costs more than running a small query. Kysely generates the same text for the
 * same query shape, so a small bounded cache serves the hot path.
 * Invariant: statements are never streamed (iterate) by our queries, so one statement is never in use twice.
 */
import type Database from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

const MAX_STATEMENTS = 256;

export function withStatementCache(database: Database.Database): SqliteDatabase {
  const statements = new Map<string, Database.Statement>();
  return {
    close: () => {
      statements.clear();
      database.close();
    },
    prepare: (sql: string) => {
      let statement = statements.get(sql);
      if (!statement) {
        statement = database.prepare(sql);
        if (statements.size >= MAX_STATEMENTS) statements.delete(statements.keys().next().value as string);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

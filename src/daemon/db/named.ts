import { hash } from 'node:crypto';
import type { CustomTypesConfig, QueryResult, QueryResultRow } from 'pg';
import type { Queryable } from './queryable.ts';

/**
 * A query pg sends as a named prepared statement: the server parses and plans it once
 * per connection, then only binds and runs it. For a contact list on the embedded PGlite
 * that is ~400 µs of CPU instead of ~1,000–1,700 (planning was most of it); on
 * PostgreSQL it saves the parse and plan too. The name is the text's hash, so a name
 * always means the same text (pg refuses a name reused with another text), and dynamic
 * SQL — a list with or without a search — gets one statement per shape. Only for
 * statements whose text comes from code, never from input: each shape is kept per
 * connection for the connection's life.
 */
/**
 * What every name given here starts with: the embedded database's wire server runs
 * statements of ours on generic plans (services/pgliteWire.ts), and only those.
 */
export const NAMED_STATEMENT_PREFIX = 'wuz_';

export function named(text: string, values: unknown[]): { name?: string; text: string; values: unknown[] } {
  if (!enabled) return { text, values };
  let name = names.get(text);
  if (name === undefined) {
    name = `${NAMED_STATEMENT_PREFIX}${hash('sha1', text, 'hex').slice(0, 16)}`;
    names.set(text, name);
  }
  return { name, text, values };
}

const names = new Map<string, string>();

/**
 * On for the embedded PGlite and, unless DATABASE_PREPARED_STATEMENTS=off, for an external
 * PostgreSQL: a statement parsed and planned once per connection saves both the worker and
 * the server (`npm run bench:api -- --mode external --scenario uncached-read`: +6–19 %
 * requests/s). Off in the CLI's short-lived processes, where nothing is run twice.
 */
let enabled = false;

/** Told once when a pooler lost a statement and named statements went off (the daemon logs it). */
let onLost: ((error: unknown) => void) | undefined;

export function setNamedStatements(on: boolean, lost?: (error: unknown) => void): void {
  enabled = on;
  onLost = lost;
}

/**
 * What PostgreSQL answers when the server connection is not the one the statement was
 * parsed on: unknown there (26000), or parsed there by another client (42P05).
 */
const LOST_STATEMENT = new Set(['26000', '42P05']);

/**
 * Runs `text` as a named statement when they are on. A pooler in transaction mode that
 * does not carry prepared statements between transactions (PgBouncer without
 * `max_prepared_statements`, older poolers) gives the next transaction another server
 * connection: the first such error turns named statements off for this process (said once
 * through `lost`) and the query runs again unnamed — never twice in effect: the error
 * comes at Parse or Bind, before anything ran. Inside a transaction the error has aborted
 * it and goes to the caller; the next one runs unnamed.
 */
export async function queryNamed<R extends QueryResultRow>(
  db: Queryable,
  text: string,
  values: unknown[],
  /** pg's type parsers for this query's rows (jsonRows.ts); absent: pg's defaults. */
  types?: CustomTypesConfig,
): Promise<QueryResult<R>> {
  const statement = { ...named(text, values), types };
  if (!statement.name) return db.query<R>(statement);
  try {
    return await db.query<R>(statement);
  } catch (error) {
    if (!LOST_STATEMENT.has((error as { code?: string }).code ?? '')) throw error;
    if (enabled) {
      enabled = false;
      onLost?.(error);
    }
    return db.query<R>({ text, values, types });
  }
}

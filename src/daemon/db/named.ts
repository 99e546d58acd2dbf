import { hash } from 'node:crypto';

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
 * Off unless the process's database is the embedded PGlite (the daemon's children are
 * told so in their configuration). An external DATABASE_URL may be a pooler in
 * transaction mode — PgBouncer without `max_prepared_statements`, Supabase's pooler on
 * port 6543 — where a statement prepared on one server connection is missing on the
 * next; PostgreSQL's own planning of these queries is also far cheaper than PGlite's.
 */
let enabled = false;

export function setNamedStatements(on: boolean): void {
  enabled = on;
}

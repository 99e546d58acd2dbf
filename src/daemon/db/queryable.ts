import type pg from 'pg';

/** Anything that runs a query: the pool, or one client inside a transaction. */
export interface Queryable {
  // biome-ignore lint/suspicious/noExplicitAny: rows are typed by each repository's callers
  query<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** A named prepared statement (db/named.ts), and/or the rows' own type parsers (db/jsonRows.ts). */
  // biome-ignore lint/suspicious/noExplicitAny: as above
  query<R extends pg.QueryResultRow = any>(query: {
    name?: string;
    text: string;
    values: unknown[];
    types?: pg.CustomTypesConfig;
  }): Promise<pg.QueryResult<R>>;
}

/**
 * Runs `work` in one transaction on one client. On the embedded database this is safe
 * too: the wire server (pgliteWire.ts) serves only the connection that holds an open
 * transaction until it ends.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/**
 * A page whose rows carry `count(*) OVER () AS total_count`: the rows without that column,
 * and the total (0 for an empty page).
 */
export function pageWithTotal<T>(rows: Array<Record<string, unknown>>): { rows: T[]; total: number } {
  const total = Number(rows[0]?.total_count ?? 0);
  for (const row of rows) delete row.total_count;
  return { rows: rows as T[], total };
}

/** The PostgreSQL error code of a failed query (e.g. 23505 unique_violation), if any. */
export function pgErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export function pgConstraint(error: unknown): string | undefined {
  const constraint = (error as { constraint?: unknown })?.constraint;
  return typeof constraint === 'string' ? constraint : undefined;
}

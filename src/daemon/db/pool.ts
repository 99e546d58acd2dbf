import pg from 'pg';
import { withTimeout } from '../services/redis.ts';
import { errorMessage, retry } from '../services/retry.ts';

export type Pool = pg.Pool;

export function createPool(url: string, max = 10): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client's error (database restarted) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  return pool;
}

export function databaseAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Waits until the database answers `SELECT 1`, with backoff; the error names the address. */
export async function connectDatabase(url: string, attempts = 6): Promise<pg.Pool> {
  const pool = createPool(url);
  try {
    await retry(() => pool.query('SELECT 1'), { attempts });
    return pool;
  } catch (error) {
    await pool.end().catch(() => {});
    throw new Error(`PostgreSQL at ${databaseAddress(url)} did not answer: ${errorMessage(error)}`);
  }
}

export async function databaseHealthy(pool: pg.Pool, timeoutMs = 1000): Promise<string | null> {
  try {
    await withTimeout(pool.query('SELECT 1'), timeoutMs, 'SELECT 1 timed out');
    return null;
  } catch (error) {
    return errorMessage(error);
  }
}

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { packageRoot } from '../../paths.ts';

export const migrationsDir = path.join(packageRoot, 'src', 'daemon', 'db', 'migrations');

/**
 * Applies `NNNN_name.sql` files in order, each in its own transaction, recording each in
 * `schema_migrations`. An advisory lock makes concurrent daemons on one database take
 * turns instead of racing. A small module instead of a library: forward-only SQL files
 * are all this project needs, and it keeps the embedded (PGlite) path identical.
 */
export async function migrate(pool: pg.Pool, dir = migrationsDir): Promise<string[]> {
  const client = await pool.connect();
  try {
    return await applyMigrations(client, dir);
  } finally {
    client.release();
  }
}

/**
 * What applying migrations needs of a connection: a statement with parameters, or a whole
 * file without (PostgreSQL's simple protocol). A `pg` client is one; the PGlite template's
 * builder adapts PGlite to it, so the template's schema is made by this same code.
 */
export interface MigrationClient {
  query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

export async function applyMigrations(client: MigrationClient, dir = migrationsDir): Promise<string[]> {
  const files = await migrationFiles(dir);
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock(727274)');
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version text PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const done = new Set(
      (await client.query('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
    );
    for (const file of files) {
      const version = file.replace(/\.sql$/, '');
      if (done.has(version)) continue;
      const sql = await readFile(path.join(dir, file), 'utf8');
      try {
        await client.query('BEGIN');
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw new Error(`migration ${file} failed: ${(error as Error).message}`);
      }
      applied.push(version);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(727274)').catch(() => {});
  }
  return applied;
}

/** The migration files' names and contents, hashed: what a database built from them holds. */
export async function migrationsFingerprint(dir = migrationsDir): Promise<string> {
  const hash = createHash('sha256');
  for (const file of await migrationFiles(dir)) {
    hash.update(`${file}\n`).update(await readFile(path.join(dir, file)));
  }
  return hash.digest('hex');
}

async function migrationFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort();
}

import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate, migrationsDir } from '../../src/daemon/db/migrate.ts';
import { EmbeddedPostgres } from '../../src/daemon/services/embeddedPostgres.ts';
import { buildTemplate, copyTemplate } from '../../src/daemon/services/pgliteTemplate.ts';
import { tempDataDir } from '../helpers/daemon.ts';

const log = pino({ level: 'silent' });
const running: EmbeddedPostgres[] = [];
afterAll(async () => {
  for (const db of running) await db.stop();
});

async function query(db: EmbeddedPostgres, sql: string) {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('the PGlite template a new data dir is copied from', () => {
  it('gives a new data dir a working, private, writable, migrated database; a template of another PGlite version or other migrations is not used', async () => {
    const root = await tempDataDir();
    const template = path.join(root, 'template');
    await buildTemplate(template);

    const copied = path.join(root, 'copied', 'pg');
    const db = new EmbeddedPostgres(copied, 'secret-one', log, template);
    running.push(db);
    await db.start();
    expect(await readFile(path.join(copied, 'PG_VERSION'), 'utf8')).toMatch(/^\d+/);
    // The schema comes with it: every migration is applied already, and none has data.
    const versions = (await readdir(migrationsDir))
      .filter((f) => f.endsWith('.sql'))
      .map((f) => f.slice(0, -4));
    expect(
      (await query(db, 'SELECT version FROM schema_migrations ORDER BY version')).map((r) => r.version),
    ).toEqual(versions.sort());
    expect(await query(db, 'SELECT count(*)::int AS n FROM tenants')).toEqual([{ n: 0 }]);
    const pool = new pg.Pool({ connectionString: db.url });
    try {
      expect(await migrate(pool)).toEqual([]);
    } finally {
      await pool.end();
    }
    await query(db, 'CREATE TABLE t (x int)');
    await query(db, 'INSERT INTO t VALUES (1)');
    expect(await query(db, 'SELECT x FROM t')).toEqual([{ x: 1 }]);
    expect((await stat(copied)).mode & 0o077).toBe(0);
    // Nothing written to the copy reaches the template.
    await expect(copyTemplate(path.join(root, 'second', 'pg'), template)).resolves.toBe(true);
    const second = new EmbeddedPostgres(path.join(root, 'second', 'pg'), 'secret-two', log, template);
    running.push(second);
    await second.start();
    expect(await query(second, "SELECT to_regclass('t') AS t")).toEqual([{ t: null }]);

    // A template made from other migration files (they changed since the build): not copied.
    const marker = JSON.parse(await readFile(path.join(template, 'wuzctl-template.json'), 'utf8'));
    await writeFile(
      path.join(template, 'wuzctl-template.json'),
      `${JSON.stringify({ ...marker, migrations: 'an older schema' })}\n`,
    );
    expect(await copyTemplate(path.join(root, 'stale', 'pg'), template)).toBe(false);

    // A template made by another PGlite version: not copied, the database is created.
    await writeFile(path.join(template, 'wuzctl-template.json'), '{"pglite":"0.0.1"}\n');
    const other = path.join(root, 'other', 'pg');
    expect(await copyTemplate(other, template)).toBe(false);
    const fresh = new EmbeddedPostgres(other, 'secret-three', log, template);
    running.push(fresh);
    await fresh.start();
    expect(await query(fresh, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  }, 60_000);
});

import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { named, queryNamed, setNamedStatements } from '../../src/daemon/db/named.ts';
import { withTransaction } from '../../src/daemon/db/queryable.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/external.ts';

/**
 * Named statements on an external PostgreSQL, and what a pooler in transaction mode does
 * to them: the next transaction lands on a server connection that does not know the name
 * (26000) or where another client already parsed it (42P05). Both are made here on one
 * real connection, as the pooler would make them.
 */
const TEXT = 'SELECT id, name FROM things WHERE id <= $1 ORDER BY id';

let database: TestDatabase;
let pool: pg.Pool;
const lost: Array<{ code?: string }> = [];

beforeAll(async () => {
  database = await createTestDatabase();
  // One connection: the statements this test sees are the pool's.
  pool = new pg.Pool({ connectionString: database.url, max: 1 });
  await pool.query('CREATE TABLE things (id int PRIMARY KEY, name text NOT NULL)');
  await pool.query("INSERT INTO things SELECT n, 'thing ' || n FROM generate_series(1, 5) n");
});
afterAll(async () => {
  await pool?.end();
  await database?.drop();
});
afterEach(() => {
  setNamedStatements(false);
  lost.length = 0;
});

const prepared = async () =>
  (await pool.query<{ name: string }>('SELECT name FROM pg_prepared_statements')).rows.map((r) => r.name);

describe('named statements on an external PostgreSQL (db/named.ts)', () => {
  it('are parsed once per connection, then only bound and run', async () => {
    setNamedStatements(true, (error) => lost.push(error as { code?: string }));
    const name = named(TEXT, []).name as string;
    expect((await queryNamed(pool, TEXT, [2])).rows).toEqual([
      { id: 1, name: 'thing 1' },
      { id: 2, name: 'thing 2' },
    ]);
    expect(await prepared()).toContain(name);
    expect((await queryNamed(pool, TEXT, [1])).rows).toEqual([{ id: 1, name: 'thing 1' }]);
    expect(lost).toEqual([]);
  });

  it('a statement the server lost (26000): the query still answers, and this process names no more', async () => {
    setNamedStatements(true, (error) => lost.push(error as { code?: string }));
    await queryNamed(pool, TEXT, [1]);
    // The pooler's next transaction on another server connection: the name is unknown there.
    await pool.query('DEALLOCATE ALL');
    expect((await queryNamed(pool, TEXT, [3])).rows.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(lost.map((error) => error.code)).toEqual(['26000']);
    expect(named(TEXT, []).name).toBeUndefined();
    expect((await queryNamed(pool, TEXT, [2])).rowCount).toBe(2);
    expect(await prepared()).toEqual([]);
    expect(lost).toHaveLength(1); // said once
  });

  it('a name another client parsed on that server connection (42P05): answered all the same', async () => {
    await pool.query('DEALLOCATE ALL');
    setNamedStatements(true, (error) => lost.push(error as { code?: string }));
    const name = named(TEXT, []).name as string;
    await pool.query(`PREPARE ${name} (int) AS ${TEXT}`);
    // pg has not parsed it on this connection, so it sends Parse with a name the server has.
    const client = await pool.connect();
    try {
      expect((await queryNamed(client, TEXT, [1])).rows).toEqual([{ id: 1, name: 'thing 1' }]);
    } finally {
      client.release();
    }
    expect(lost.map((error) => error.code)).toEqual(['42P05']);
  });

  it('inside a transaction the loss aborts it: the caller gets the error, the next query runs unnamed', async () => {
    await pool.query('DEALLOCATE ALL');
    setNamedStatements(true, (error) => lost.push(error as { code?: string }));
    await queryNamed(pool, TEXT, [1]);
    await pool.query('DEALLOCATE ALL');
    await expect(withTransaction(pool, (client) => queryNamed(client, TEXT, [1]))).rejects.toMatchObject({
      code: '25P02',
    });
    expect(lost.map((error) => error.code)).toEqual(['26000']);
    expect((await queryNamed(pool, TEXT, [1])).rowCount).toBe(1);
  });
});

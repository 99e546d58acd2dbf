import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPgFloor } from '../../src/cli/bench/floor.ts';
import { migrate } from '../../src/daemon/db/migrate.ts';
import { createPool } from '../../src/daemon/db/pool.ts';
import { contactsTable, listOwned } from '../../src/daemon/db/repositories/owned.ts';
import { createOwner, createTestDatabase, type TestDatabase } from '../helpers/external.ts';

// `wuzctl bench pg-floor`'s server against a PostgreSQL database of this file's own: it
// must read the very page the uncached read lists (the floor is only a floor if both do
// the same database work), for the owner it was given and nobody else.

let database: TestDatabase;
let pool: pg.Pool;
const owners: Array<{ tenantId: string; userId: string }> = [];

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool(database.url, 4);
  await migrate(pool);
  for (const [i, count] of [25, 3].entries()) {
    const owner = await createOwner(pool, `floor-${i}-${randomUUID().slice(0, 8)}`);
    await pool.query(
      `INSERT INTO contacts (tenant_id, owner_id, phone, name, created_at)
       SELECT $1, $2, '+55319' || lpad(n::text, 8, '0'), 'Person ' || n, now() - n * interval '1 minute'
         FROM generate_series(1, $3::int) AS n`,
      [owner.tenantId, owner.userId, count],
    );
    owners.push(owner);
  }
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

describe('the pg floor', () => {
  it("answers the uncached read's page of its owner — the route's rows and count — from a cluster of its own", async () => {
    const [owner] = owners as [(typeof owners)[number]];
    const floor = await startPgFloor(database.url, owner, 2);
    try {
      const answers = await Promise.all(
        Array.from({ length: 4 }, async () => {
          const response = await fetch(`${floor.url}/floor`);
          expect(response.status).toBe(200);
          expect(response.headers.get('content-type')).toMatch(/^application\/json/);
          return response.json();
        }),
      );
      const page = await listOwned(pool, contactsTable, owner, [], { limit: 20, offset: 0 });
      const expected = JSON.parse(
        JSON.stringify({ data: page.rows, page: 1, per_page: 20, total: page.total }),
      );
      expect(expected.total).toBe(25);
      expect(expected.data).toHaveLength(20);
      for (const answer of answers) expect(answer).toEqual(expected);
    } finally {
      await floor.close();
    }
    // Closed: nothing listens on its port any more.
    await expect(fetch(`${floor.url}/floor`)).rejects.toThrow();
  });

  it('reads only the owner it was given', async () => {
    const owner = owners[1] as (typeof owners)[number];
    const floor = await startPgFloor(database.url, owner, 1);
    try {
      const answer = (await (await fetch(`${floor.url}/floor`)).json()) as { data: unknown[]; total: number };
      expect(answer.total).toBe(3);
      expect(answer.data).toHaveLength(3);
    } finally {
      await floor.close();
    }
  });
});

import { randomUUID } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/daemon/db/migrate.ts';
import { setNamedStatements } from '../../src/daemon/db/named.ts';
import type { Queryable } from '../../src/daemon/db/queryable.ts';
import { listCampaigns } from '../../src/daemon/db/repositories/campaigns.ts';
import { listImports } from '../../src/daemon/db/repositories/imports.ts';
import {
  agentsTable,
  contactsTable,
  findOwned,
  listOwned,
  type OwnedTable,
  rolesTable,
  teamsTable,
} from '../../src/daemon/db/repositories/owned.ts';
import { listReports } from '../../src/daemon/db/repositories/reports.ts';
import { EmbeddedPostgres } from '../../src/daemon/services/embeddedPostgres.ts';
import { tempDataDir } from '../helpers/daemon.ts';

/**
 * The embedded database runs our named statements on generic plans (pgliteWire.ts): one
 * plan, made without the values, kept for the connection's life — and PGlite never
 * ANALYZEs, so a plan made on an empty table is the plan for a big one. Safe only if each
 * of those statements finds its rows through the tenant's index whatever the table holds:
 * this checks the generic plan of every one of them (EXPLAIN (GENERIC_PLAN)), on the
 * migrated schema, empty and then with 6,000 rows across 60 tenants.
 */
let database: EmbeddedPostgres;
let pool: pg.Pool;

beforeAll(async () => {
  database = new EmbeddedPostgres(path.join(await tempDataDir(), 'pg'), 'plans', pino({ level: 'silent' }));
  await database.start();
  pool = new pg.Pool({ connectionString: database.url, max: 2 });
  await migrate(pool); // nothing to do when the data dir came from the migrated template
});

afterAll(async () => {
  await pool?.end();
  await database?.stop();
});

/** The SQL of each named statement the repositories send, captured instead of run. */
async function namedStatements(): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  const capture = {
    query: async (query: { name?: string; text: string } | string) => {
      if (typeof query === 'object' && query.name) seen.set(query.name, query.text);
      return { rows: [], rowCount: 0 };
    },
  } as unknown as Queryable;
  const owner = { tenantId: randomUUID(), userId: randomUUID() };
  const page = { limit: 20, offset: 0 };
  setNamedStatements(true);
  try {
    const tables: OwnedTable[] = [teamsTable, rolesTable, agentsTable, contactsTable];
    for (const table of tables) {
      await listOwned(capture, table, owner, [], page);
      await findOwned(capture, table, owner, randomUUID());
    }
    await listOwned(
      capture,
      contactsTable,
      owner,
      [{ sql: '(strpos(lower(name), lower($?)) > 0 OR strpos(phone, $?) > 0)', value: 'ana' }],
      page,
    );
    await listImports(capture, owner, page);
    await listReports(capture, owner, page);
    await listCampaigns(capture, owner, undefined, page);
  } finally {
    setNamedStatements(false);
  }
  return seen;
}

async function genericPlan(text: string): Promise<string> {
  const { rows } = await pool.query(`EXPLAIN (GENERIC_PLAN) ${text}`);
  return rows.map((row) => row['QUERY PLAN']).join('\n');
}

async function fill(): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (let t = 0; t < 60; t++) {
      const tenant = (
        await client.query(`INSERT INTO tenants (slug, name, plan) VALUES ($1, $1, 'pro') RETURNING id`, [
          `plans-${t}`,
        ])
      ).rows[0].id;
      const user = (
        await client.query(
          `INSERT INTO users (tenant_id, email, name, role) VALUES ($1, $2, 'u', 'user') RETURNING id`,
          [tenant, `u${t}@plans.test`],
        )
      ).rows[0].id;
      await client.query(
        `INSERT INTO contacts (tenant_id, owner_id, phone, name)
         SELECT $1, $2, '+5511' || lpad(g::text, 9, '0'), 'contact ' || g FROM generate_series(1, 100) g`,
        [tenant, user],
      );
      await client.query(
        `INSERT INTO teams (tenant_id, owner_id, name) SELECT $1, $2, 'team ' || g FROM generate_series(1, 100) g`,
        [tenant, user],
      );
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

describe('generic plans of our named statements', () => {
  it('read every table through an index, on empty tables and on full ones', async () => {
    const statements = await namedStatements();
    expect(statements.size).toBeGreaterThanOrEqual(12);
    for (const phase of ['empty', 'full']) {
      if (phase === 'full') await fill();
      for (const [name, text] of statements) {
        const plan = await genericPlan(text);
        expect(plan, `${name} (${phase}): ${text}\n${plan}`).not.toMatch(/Seq Scan/);
        expect(plan, `${name} (${phase})`).toMatch(/Index (Only )?Scan/);
      }
    }
  });
});

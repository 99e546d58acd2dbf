import { jsonRowTypes } from '../jsonRows.ts';
import { queryNamed } from '../named.ts';
import type { Queryable } from '../queryable.ts';

/**
 * The caller's own rows of one table (teams, roles, agents, contacts; imports, reports and
 * campaigns for their lists): every statement here is scoped by tenant_id AND owner_id, so a route
 * cannot forget either.
 */
export interface Owner {
  tenantId: string;
  userId: string;
}

export interface OwnedTable {
  table: 'teams' | 'roles' | 'agents' | 'contacts' | 'imports' | 'reports' | 'campaigns';
  /** The SELECT list of the API's shape of a row. */
  columns: string;
  /** Columns a PATCH may set; the route's schema decides which keys reach here. */
  updatable: readonly string[];
  /** Whether the table has updated_at. */
  touch: boolean;
  orderBy: string;
}

/** A table read only as a list, newest first (imports, reports, campaigns): nothing to PATCH. */
export const newestFirst = (table: OwnedTable['table'], columns: string): OwnedTable => ({
  table,
  columns,
  updatable: [],
  touch: false,
  orderBy: 'created_at DESC, id DESC',
});

/** One extra WHERE condition with its value; `$?` is replaced by its parameter number. */
export interface Condition {
  sql: string;
  value: unknown;
}

export async function listOwned<T>(
  db: Queryable,
  spec: OwnedTable,
  owner: Owner,
  conditions: Condition[],
  page: { limit: number; offset: number },
): Promise<{ rows: T[]; total: number }> {
  const params: unknown[] = [owner.tenantId, owner.userId];
  const where = ['tenant_id = $1', 'owner_id = $2'];
  for (const condition of conditions) {
    params.push(condition.value);
    where.push(condition.sql.replaceAll('$?', `$${params.length}`));
  }
  const whereSql = where.join(' AND ');
  // The rows go straight into a JSON answer: timestamps come as the text JSON prints (jsonRows.ts).
  const { rows } = await queryNamed(
    db,
    pageSql(spec, whereSql, params.length),
    [...params, page.limit, page.offset],
    jsonRowTypes,
  );
  let total = rows[0]?.total_count ?? 0;
  if (rows.length === 0 && page.offset > 0) {
    const count = await db.query(
      `SELECT count(*)::int AS total FROM ${spec.table} WHERE ${whereSql}`,
      params,
    );
    total = count.rows[0]?.total ?? 0;
  }
  // New objects without the count, not `delete`: a deleted property turns a row into a
  // dictionary-mode object that JSON.stringify walks slower (~25 % of a 20-row page's).
  return { rows: rows.map(({ total_count: _, ...row }) => row) as T[], total };
}

/**
 * One page of `spec`'s rows matching `whereSql` (which uses `$1`…`$paramCount`), each with
 * the count of all matching rows as `total_count`; LIMIT and OFFSET are the next two
 * parameters. One round trip, one snapshot: the count is a scalar subquery run once. A
 * window count (count(*) OVER ()) would instead carry every matching row through a
 * WindowAgg and sort them all for the page: on PGlite 1.3× the cost at 40 rows, 2.3× at
 * 2,000. Only a page past the end (no rows to carry the count) needs a second query.
 * Also the statement of `wuzctl bench pg-floor`, so the floor reads what the route reads.
 */
export function pageSql(spec: OwnedTable, whereSql: string, paramCount: number): string {
  return `SELECT ${spec.columns}, (SELECT count(*) FROM ${spec.table} WHERE ${whereSql})::int AS total_count
       FROM ${spec.table} WHERE ${whereSql}
      ORDER BY ${spec.orderBy} LIMIT $${paramCount + 1} OFFSET $${paramCount + 2}`;
}

export async function findOwned<T>(
  db: Queryable,
  spec: OwnedTable,
  owner: Owner,
  id: string,
): Promise<T | null> {
  const { rows } = await queryNamed(
    db,
    `SELECT ${spec.columns} FROM ${spec.table} WHERE tenant_id = $1 AND owner_id = $2 AND id = $3`,
    [owner.tenantId, owner.userId, id],
  );
  return (rows[0] as T) ?? null;
}

export async function insertOwned<T>(
  db: Queryable,
  spec: OwnedTable,
  owner: Owner,
  values: Record<string, unknown>,
): Promise<T> {
  const keys = Object.keys(values).filter((key) => spec.updatable.includes(key));
  const params = [owner.tenantId, owner.userId, ...keys.map((key) => values[key])];
  const { rows } = await db.query(
    `INSERT INTO ${spec.table} (tenant_id, owner_id${keys.map((k) => `, ${k}`).join('')})
     VALUES ($1, $2${keys.map((_, i) => `, $${i + 3}`).join('')})
     RETURNING ${spec.columns}`,
    params,
  );
  return rows[0] as T;
}

/** Applies a partial update; resolves to null when the row is not the caller's. */
export async function updateOwned<T>(
  db: Queryable,
  spec: OwnedTable,
  owner: Owner,
  id: string,
  patch: Record<string, unknown>,
): Promise<T | null> {
  const keys = Object.keys(patch).filter((key) => spec.updatable.includes(key) && patch[key] !== undefined);
  if (keys.length === 0) return findOwned<T>(db, spec, owner, id);
  const sets = keys.map((key, i) => `${key} = $${i + 4}`);
  if (spec.touch) sets.push('updated_at = now()');
  const { rows } = await db.query(
    `UPDATE ${spec.table} SET ${sets.join(', ')}
      WHERE tenant_id = $1 AND owner_id = $2 AND id = $3 RETURNING ${spec.columns}`,
    [owner.tenantId, owner.userId, id, ...keys.map((key) => patch[key])],
  );
  return (rows[0] as T) ?? null;
}

export async function deleteOwned(
  db: Queryable,
  spec: OwnedTable,
  owner: Owner,
  id: string,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `DELETE FROM ${spec.table} WHERE tenant_id = $1 AND owner_id = $2 AND id = $3`,
    [owner.tenantId, owner.userId, id],
  );
  return (rowCount ?? 0) > 0;
}

/** The agents that use a team or role: the 409 of a delete names them. */
export async function agentsUsing(
  db: Queryable,
  owner: Owner,
  column: 'team_id' | 'role_id',
  id: string,
): Promise<{ agents: number; agent_ids: string[] }> {
  const { rows } = await db.query<{ agents: number; agent_ids: string[] }>(
    `SELECT count(*)::int AS agents, coalesce((array_agg(id ORDER BY created_at))[1:10], '{}') AS agent_ids
       FROM agents WHERE tenant_id = $1 AND owner_id = $2 AND ${column} = $3`,
    [owner.tenantId, owner.userId, id],
  );
  return rows[0] ?? { agents: 0, agent_ids: [] };
}

export const teamsTable: OwnedTable = {
  table: 'teams',
  columns: 'id, name, created_at, updated_at',
  updatable: ['name'],
  touch: true,
  orderBy: 'lower(name), id',
};

export const rolesTable: OwnedTable = {
  table: 'roles',
  columns: 'id, name, permissions, created_at, updated_at',
  updatable: ['name', 'permissions'],
  touch: true,
  orderBy: 'lower(name), id',
};

export const agentsTable: OwnedTable = {
  table: 'agents',
  columns: 'id, name, email, status, team_id, role_id, created_at, updated_at',
  updatable: ['name', 'email', 'status', 'team_id', 'role_id'],
  touch: true,
  orderBy: 'created_at DESC, id DESC',
};

export const contactsTable: OwnedTable = {
  table: 'contacts',
  columns: 'id, phone, name, variables, created_at',
  updatable: ['phone', 'name', 'variables'],
  touch: false,
  orderBy: 'created_at DESC, id DESC',
};

export interface NewContact {
  phone: string;
  name: string;
  variables: Record<string, string>;
}

/**
 * Inserts many contacts in one statement; phones the caller already has (or that repeat
 * within the batch) are skipped, not failed. Returns the created rows and the skipped
 * indexes, in input order.
 */
export async function insertContacts(
  db: Queryable,
  owner: Owner,
  contacts: NewContact[],
): Promise<{ created: unknown[]; skipped: Array<{ index: number; phone: string; reason: 'duplicate' }> }> {
  const { rows } = await db.query(
    `INSERT INTO contacts (tenant_id, owner_id, phone, name, variables)
     SELECT $1, $2, c.phone, c.name, c.variables
       FROM unnest($3::text[], $4::text[], $5::jsonb[]) WITH ORDINALITY AS c(phone, name, variables, n)
      ORDER BY c.n
     ON CONFLICT (tenant_id, owner_id, phone) DO NOTHING
     RETURNING ${contactsTable.columns}`,
    [
      owner.tenantId,
      owner.userId,
      contacts.map((c) => c.phone),
      contacts.map((c) => c.name),
      contacts.map((c) => JSON.stringify(c.variables)),
    ],
  );
  const byPhone = new Map(rows.map((row) => [row.phone as string, row]));
  const created: unknown[] = [];
  const skipped: Array<{ index: number; phone: string; reason: 'duplicate' }> = [];
  contacts.forEach((contact, index) => {
    const row = byPhone.get(contact.phone);
    if (row) {
      created.push(row);
      byPhone.delete(contact.phone);
    } else skipped.push({ index, phone: contact.phone, reason: 'duplicate' });
  });
  return { created, skipped };
}

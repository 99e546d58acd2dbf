import type { Queryable } from '../queryable.ts';
import { listOwned, newestFirst, type Owner } from './owned.ts';

/** Contact imports: the uploaded CSV and what became of its rows. */
export const MAX_IMPORT_ROWS = 100_000;
/**
 * The limit as people read it ("100,000"), grouped by hand: `toLocaleString` would load
 * ICU's data into every worker that imports this module (~5 MB of RSS and ~20 ms of
 * start-up in each API worker, measured), only to print one constant.
 */
export const MAX_IMPORT_ROWS_TEXT = String(MAX_IMPORT_ROWS).replace(/\B(?=(\d{3})+$)/g, ',');
/** Rejected rows kept with their reason; the counts by reason cover all of them. */
export const KEPT_REJECTIONS = 1000;

const COLUMNS = `id, filename, bytes, status, total_rows, accepted, rejected, rejections, rejected_by_reason,
  job_id, error, created_at, finished_at`;

export async function insertImport(
  db: Queryable,
  owner: Owner,
  upload: { filename: string; source: string; bytes: number },
): Promise<{ id: string }> {
  const { rows } = await db.query(
    `INSERT INTO imports (tenant_id, owner_id, filename, source, bytes) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [owner.tenantId, owner.userId, upload.filename, upload.source, upload.bytes],
  );
  return rows[0];
}

export async function findImport(db: Queryable, owner: Owner, id: string) {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM imports WHERE tenant_id = $1 AND owner_id = $2 AND id = $3`,
    [owner.tenantId, owner.userId, id],
  );
  return rows[0] ?? null;
}

/** The list's shape: without the rejected rows, which only GET /api/imports/{id} returns. */
const importList = newestFirst(
  'imports',
  'id, filename, bytes, status, total_rows, accepted, rejected, job_id, error, created_at, finished_at',
);

export const listImports = (db: Queryable, owner: Owner, page: { limit: number; offset: number }) =>
  listOwned(db, importList, owner, [], page);

export async function loadImportSource(
  db: Queryable,
  tenantId: string,
  id: string,
): Promise<{ owner_id: string; source: string; status: string } | null> {
  const { rows } = await db.query(
    `UPDATE imports SET status = 'running' WHERE tenant_id = $1 AND id = $2 AND status IN ('queued', 'running')
     RETURNING owner_id, source, status`,
    [tenantId, id],
  );
  return rows[0] ?? null;
}

export interface ContactRow {
  phone: string;
  name: string;
  variables: Record<string, string>;
}

/** Inserts or updates a batch of the owner's contacts (by phone); returns how many were new. */
export async function upsertContacts(
  db: Queryable,
  owner: Owner,
  batch: ContactRow[],
): Promise<{ created: number; updated: number }> {
  if (batch.length === 0) return { created: 0, updated: 0 };
  const { rows } = await db.query(
    `INSERT INTO contacts (tenant_id, owner_id, phone, name, variables)
     SELECT $1, $2, b.phone, b.name, b.variables
       FROM jsonb_to_recordset($3::jsonb) AS b(phone text, name text, variables jsonb)
     ON CONFLICT (tenant_id, owner_id, phone)
       DO UPDATE SET name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE contacts.name END,
                     variables = contacts.variables || EXCLUDED.variables
     RETURNING (xmax = 0) AS created`,
    [owner.tenantId, owner.userId, JSON.stringify(batch)],
  );
  const created = rows.filter((row) => row.created).length;
  return { created, updated: rows.length - created };
}

export interface ImportOutcome {
  total_rows: number;
  accepted: number;
  created: number;
  updated: number;
  rejected: number;
  rejections: Array<{ line: number; reason: string; phone?: string }>;
  rejected_by_reason: Record<string, number>;
}

/** An import's counts before its first row. */
export const emptyImportOutcome = (): ImportOutcome => ({
  total_rows: 0,
  accepted: 0,
  created: 0,
  updated: 0,
  rejected: 0,
  rejections: [],
  rejected_by_reason: {},
});

export async function finishImport(
  db: Queryable,
  tenantId: string,
  id: string,
  outcome: ImportOutcome,
): Promise<void> {
  // The CSV is no longer needed once its rows are contacts: don't keep megabytes around.
  await db.query(
    `UPDATE imports SET status = 'completed', source = '', finished_at = now(), error = NULL,
            total_rows = $3, accepted = $4, rejected = $5, rejections = $6, rejected_by_reason = $7
      WHERE tenant_id = $1 AND id = $2`,
    [
      tenantId,
      id,
      outcome.total_rows,
      outcome.accepted,
      outcome.rejected,
      JSON.stringify(outcome.rejections),
      JSON.stringify(outcome.rejected_by_reason),
    ],
  );
}

export async function failImport(db: Queryable, tenantId: string, id: string, error: string): Promise<void> {
  await db.query(
    `UPDATE imports SET status = 'failed', error = $3, finished_at = now() WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id, error],
  );
}

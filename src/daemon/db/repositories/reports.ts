import type { Queryable } from '../queryable.ts';
import { listOwned, newestFirst, type Owner } from './owned.ts';
import { REPORT_KINDS, type ReportKind } from './reportKinds.ts';

export { REPORT_KINDS, type ReportKind };

/**
 * Reports: each kind is one SQL query over a period, scoped to the tenant (an admin's
 * report) or to the owner's own rows. The worker stores the rows and their CSV.
 */
export type ReportScope = 'tenant' | 'owner';

export interface ReportRequest {
  kind: ReportKind;
  scope: ReportScope;
  from: Date;
  to: Date;
}

const MONTHLY = `CASE WHEN p.interval = 'year' THEN round(p.price_cents / 12.0) ELSE p.price_cents END`;

/** Each kind's query: $1 tenant, $2 owner (or null for the whole tenant), $3 from, $4 to. */
const QUERIES: Record<ReportKind, { columns: string[]; sql: string }> = {
  campaign_delivery: {
    columns: [
      'campaign_id',
      'name',
      'status',
      'total',
      'sent',
      'failed',
      'cancelled',
      'pending',
      'delivery_rate',
      'started_at',
      'finished_at',
    ],
    sql: `SELECT id AS campaign_id, name, status, total, sent, failed, cancelled,
                 greatest(total - sent - failed - cancelled, 0) AS pending,
                 CASE WHEN sent + failed > 0 THEN round(sent::numeric / (sent + failed), 4)::float8 ELSE NULL END AS delivery_rate,
                 started_at, finished_at
            FROM campaigns
           WHERE tenant_id = $1 AND ($2::uuid IS NULL OR owner_id = $2)
             AND created_at >= $3 AND created_at < $4
           ORDER BY created_at, id`,
  },
  subscriptions: {
    columns: [
      'plan',
      'active',
      'trialing',
      'past_due',
      'canceled',
      'new_in_period',
      'canceled_in_period',
      'mrr_cents',
    ],
    sql: `SELECT p.name AS plan,
                 count(s.id) FILTER (WHERE s.status = 'active')::int AS active,
                 count(s.id) FILTER (WHERE s.status = 'trialing')::int AS trialing,
                 count(s.id) FILTER (WHERE s.status = 'past_due')::int AS past_due,
                 count(s.id) FILTER (WHERE s.status = 'canceled')::int AS canceled,
                 count(s.id) FILTER (WHERE s.created_at >= $3 AND s.created_at < $4)::int AS new_in_period,
                 count(s.id) FILTER (WHERE s.canceled_at >= $3 AND s.canceled_at < $4)::int AS canceled_in_period,
                 coalesce(sum(${MONTHLY}) FILTER (WHERE s.status IN ('active', 'past_due')), 0)::bigint AS mrr_cents
            FROM plans p
            LEFT JOIN subscriptions s ON s.tenant_id = p.tenant_id AND s.plan_id = p.id
                  AND ($2::uuid IS NULL OR s.user_id = $2)
           WHERE p.tenant_id = $1
           GROUP BY p.id, p.name ORDER BY p.name`,
  },
  usage: {
    columns: ['day', 'messages_sent', 'messages_failed', 'contacts_created', 'campaigns_created'],
    sql: `WITH days AS (
            SELECT generate_series(($3::timestamptz AT TIME ZONE 'UTC')::date,
                                   (($4::timestamptz - interval '1 microsecond') AT TIME ZONE 'UTC')::date,
                                   interval '1 day')::date AS day),
          sends AS (
            -- A failed recipient's day is that of its last attempt (its claim).
            SELECT (coalesce(r.sent_at, r.claimed_at) AT TIME ZONE 'UTC')::date AS day,
                   count(*) FILTER (WHERE r.status = 'sent') AS sent,
                   count(*) FILTER (WHERE r.status = 'failed') AS failed
              FROM campaign_recipients r JOIN campaigns c ON c.tenant_id = r.tenant_id AND c.id = r.campaign_id
             WHERE r.tenant_id = $1 AND ($2::uuid IS NULL OR c.owner_id = $2) AND r.status IN ('sent', 'failed')
               AND coalesce(r.sent_at, r.claimed_at) >= $3 AND coalesce(r.sent_at, r.claimed_at) < $4
             GROUP BY 1),
          new_contacts AS (
            SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n FROM contacts
             WHERE tenant_id = $1 AND ($2::uuid IS NULL OR owner_id = $2) AND created_at >= $3 AND created_at < $4
             GROUP BY 1),
          new_campaigns AS (
            SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n FROM campaigns
             WHERE tenant_id = $1 AND ($2::uuid IS NULL OR owner_id = $2) AND created_at >= $3 AND created_at < $4
             GROUP BY 1)
          SELECT to_char(d.day, 'YYYY-MM-DD') AS day,
                 coalesce(s.sent, 0)::int AS messages_sent, coalesce(s.failed, 0)::int AS messages_failed,
                 coalesce(nc.n, 0)::int AS contacts_created, coalesce(ncp.n, 0)::int AS campaigns_created
            FROM days d
            LEFT JOIN sends s ON s.day = d.day
            LEFT JOIN new_contacts nc ON nc.day = d.day LEFT JOIN new_campaigns ncp ON ncp.day = d.day
           ORDER BY d.day`,
  },
};

export function reportColumns(kind: ReportKind): string[] {
  return QUERIES[kind].columns;
}

export async function computeReport(
  db: Queryable,
  tenantId: string,
  ownerId: string,
  request: ReportRequest,
): Promise<Array<Record<string, unknown>>> {
  const query = QUERIES[request.kind];
  const { rows } = await db.query(query.sql, [
    tenantId,
    request.scope === 'owner' ? ownerId : null,
    request.from,
    request.to,
  ]);
  return rows.map((row) => {
    for (const [key, value] of Object.entries(row)) {
      if (value instanceof Date) row[key] = value.toISOString();
      else if (typeof value === 'bigint' || (key.endsWith('_cents') && typeof value === 'string'))
        row[key] = Number(value);
    }
    return row;
  });
}

const COLUMNS = `id, kind, scope, period_from, period_to, status, columns, row_count, job_id, error, created_at, finished_at`;

export async function insertReport(
  db: Queryable,
  owner: Owner,
  request: ReportRequest,
): Promise<{ id: string }> {
  const { rows } = await db.query(
    `INSERT INTO reports (tenant_id, owner_id, kind, scope, period_from, period_to) VALUES ($1, $2, $3, $4, $5, $6)
     RETURNING id`,
    [owner.tenantId, owner.userId, request.kind, request.scope, request.from, request.to],
  );
  return rows[0];
}

/** A report the caller may read: their own, or any of the tenant's for an admin. */
export async function findReport(
  db: Queryable,
  owner: Owner,
  isAdmin: boolean,
  id: string,
  withRows: boolean,
) {
  const { rows } = await db.query(
    `SELECT ${COLUMNS}${withRows ? ', rows' : ''} FROM reports
      WHERE tenant_id = $1 AND id = $3 AND ($4::boolean OR owner_id = $2)`,
    [owner.tenantId, owner.userId, id, isAdmin],
  );
  return rows[0] ?? null;
}

/**
 * `length` characters of a report's CSV from `offset` (0-based); '' past its end. The
 * download reads it in pieces, so neither the worker nor the client holds all of it.
 */
export async function readReportCsv(
  db: Queryable,
  tenantId: string,
  id: string,
  offset: number,
  length: number,
): Promise<string> {
  const { rows } = await db.query<{ piece: string | null }>(
    'SELECT substr(csv, $3::int, $4::int) AS piece FROM reports WHERE tenant_id = $1 AND id = $2',
    [tenantId, id, offset + 1, length],
  );
  return rows[0]?.piece ?? '';
}

const reportList = newestFirst('reports', COLUMNS);

export const listReports = (db: Queryable, owner: Owner, page: { limit: number; offset: number }) =>
  listOwned(db, reportList, owner, [], page);

export async function loadReportRequest(
  db: Queryable,
  tenantId: string,
  id: string,
): Promise<(ReportRequest & { owner_id: string }) | null> {
  const { rows } = await db.query(
    `UPDATE reports SET status = 'running' WHERE tenant_id = $1 AND id = $2 AND status IN ('queued', 'running')
     RETURNING owner_id, kind, scope, period_from AS "from", period_to AS "to"`,
    [tenantId, id],
  );
  return rows[0] ?? null;
}

export async function finishReport(
  db: Queryable,
  tenantId: string,
  id: string,
  report: { columns: string[]; rows: unknown[]; csv: string },
): Promise<void> {
  await db.query(
    `UPDATE reports SET status = 'completed', columns = $3, rows = $4, csv = $5, row_count = $6, error = NULL,
            finished_at = now()
      WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id, report.columns, JSON.stringify(report.rows), report.csv, report.rows.length],
  );
}

export async function failReport(db: Queryable, tenantId: string, id: string, error: string): Promise<void> {
  await db.query(
    `UPDATE reports SET status = 'failed', error = $3, finished_at = now() WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id, error],
  );
}

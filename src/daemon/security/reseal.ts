import type { Queryable } from '../db/queryable.ts';
import type { Logger } from '../logger.ts';
import { type SecretBox, SecretUnreadableError, secretContext } from './secretBox.ts';

/**
 * Brings every stored secret under the current key, at each start (after migrations):
 * rows written in plaintext by an earlier version, and rows sealed under a previous key
 * after a rotation (docs/SECURITY.md). Idempotent and cheap when nothing is left: one
 * indexed-free scan per table that returns no row. A row this daemon cannot open (its
 * key is not configured) is left as it is and reported.
 */
export interface ResealReport {
  resealed: number;
  unreadable: number;
}

const BATCH = 500;

interface SecretColumn {
  table: 'stripe_settings' | 'campaigns';
  key: 'tenant_id' | 'id';
  column: string;
  context: Parameters<typeof secretContext>[0];
}

const COLUMNS: SecretColumn[] = [
  { table: 'stripe_settings', key: 'tenant_id', column: 'secret_key', context: 'stripe.secret_key' },
  { table: 'stripe_settings', key: 'tenant_id', column: 'webhook_secret', context: 'stripe.webhook_secret' },
  { table: 'campaigns', key: 'id', column: 'session_token', context: 'campaign.session_token' },
];

export async function resealSecrets(db: Queryable, box: SecretBox, log: Logger): Promise<ResealReport> {
  const report: ResealReport = { resealed: 0, unreadable: 0 };
  const pattern = `${box.currentPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  for (const { table, key, column, context } of COLUMNS) {
    const skipped = new Set<string>();
    for (;;) {
      // Every secret is bound to its tenant; `key` finds the row to update.
      const { rows } = await db.query<{ row_key: string; tenant_id: string; value: string }>(
        `SELECT ${key}::text AS row_key, tenant_id::text, ${column} AS value FROM ${table}
          WHERE ${column} NOT LIKE $1 AND NOT (${key}::text = ANY($2::text[])) LIMIT ${BATCH}`,
        [pattern, [...skipped]],
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        const where = secretContext(context, row.tenant_id);
        try {
          const sealed = box.seal(box.open(row.value, where), where);
          await db.query(`UPDATE ${table} SET ${column} = $1 WHERE ${key}::text = $2 AND ${column} = $3`, [
            sealed,
            row.row_key,
            row.value,
          ]);
          report.resealed++;
        } catch (error) {
          if (!(error instanceof SecretUnreadableError)) throw error;
          skipped.add(row.row_key);
          report.unreadable++;
        }
      }
    }
  }
  if (report.resealed > 0)
    log.info({ resealed: report.resealed }, 'secrets at rest encrypted under the current key');
  if (report.unreadable > 0) {
    log.error(
      { unreadable: report.unreadable },
      'stored secrets sealed under a key this daemon does not have: add it to WUZ_SECRET_KEY_PREVIOUS',
    );
  }
  return report;
}

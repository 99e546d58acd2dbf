import type { Queryable } from '../queryable.ts';

/** What leaves the server: the secrets only as their last 4 characters. */
export interface StripeSettingsView {
  configured: boolean;
  publishable_key: string | null;
  secret_key_last4: string | null;
  webhook_secret_last4: string | null;
  currency: string;
  updated_at: Date | null;
}

interface StripeSettingsRow {
  publishable_key: string;
  secret_key: string;
  webhook_secret: string;
  currency: string;
  updated_at: Date;
}

export function toView(row: StripeSettingsRow | null): StripeSettingsView {
  if (!row) {
    return {
      configured: false,
      publishable_key: null,
      secret_key_last4: null,
      webhook_secret_last4: null,
      currency: 'usd',
      updated_at: null,
    };
  }
  return {
    configured: true,
    publishable_key: row.publishable_key,
    secret_key_last4: row.secret_key.slice(-4),
    webhook_secret_last4: row.webhook_secret.slice(-4),
    currency: row.currency,
    updated_at: row.updated_at,
  };
}

/** The stored row, secrets included: for the server's own use, never for a response. */
export async function readStripeSettings(
  db: Queryable,
  tenantId: string,
  { forUpdate = false } = {},
): Promise<StripeSettingsRow | null> {
  const { rows } = await db.query<StripeSettingsRow>(
    `SELECT publishable_key, secret_key, webhook_secret, currency, updated_at
       FROM stripe_settings WHERE tenant_id = $1 ${forUpdate ? 'FOR UPDATE' : ''}`,
    [tenantId],
  );
  return rows[0] ?? null;
}

export async function saveStripeSettings(
  db: Queryable,
  tenantId: string,
  settings: Omit<StripeSettingsRow, 'updated_at'>,
): Promise<StripeSettingsRow> {
  const { rows } = await db.query<StripeSettingsRow>(
    `INSERT INTO stripe_settings (tenant_id, publishable_key, secret_key, webhook_secret, currency)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id) DO UPDATE SET publishable_key = EXCLUDED.publishable_key,
       secret_key = EXCLUDED.secret_key, webhook_secret = EXCLUDED.webhook_secret,
       currency = EXCLUDED.currency, updated_at = now()
     RETURNING publishable_key, secret_key, webhook_secret, currency, updated_at`,
    [tenantId, settings.publishable_key, settings.secret_key, settings.webhook_secret, settings.currency],
  );
  return rows[0] as StripeSettingsRow;
}

import { type SecretBox, secretContext } from '../../security/secretBox.ts';
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

/** The settings with their secrets in plaintext: for the server's own use, never for a response. */
export interface StripeSettings {
  publishable_key: string;
  secret_key: string;
  webhook_secret: string;
  currency: string;
}

const NOT_CONFIGURED: StripeSettingsView = {
  configured: false,
  publishable_key: null,
  secret_key_last4: null,
  webhook_secret_last4: null,
  currency: 'usd',
  updated_at: null,
};

const VIEW_COLUMNS = `true AS configured, publishable_key, secret_key_last4, webhook_secret_last4, currency, updated_at`;

/** The view: read without decrypting anything (the last 4 characters are stored apart). */
export async function readStripeView(db: Queryable, tenantId: string): Promise<StripeSettingsView> {
  const { rows } = await db.query<StripeSettingsView>(
    `SELECT ${VIEW_COLUMNS} FROM stripe_settings WHERE tenant_id = $1`,
    [tenantId],
  );
  return rows[0] ?? NOT_CONFIGURED;
}

/** The stored settings, secrets decrypted. */
export async function readStripeSettings(
  db: Queryable,
  box: SecretBox,
  tenantId: string,
  { forUpdate = false } = {},
): Promise<StripeSettings | null> {
  const { rows } = await db.query<StripeSettings>(
    `SELECT publishable_key, secret_key, webhook_secret, currency
       FROM stripe_settings WHERE tenant_id = $1 ${forUpdate ? 'FOR UPDATE' : ''}`,
    [tenantId],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    ...row,
    secret_key: box.open(row.secret_key, secretContext('stripe.secret_key', tenantId)),
    webhook_secret: box.open(row.webhook_secret, secretContext('stripe.webhook_secret', tenantId)),
  };
}

export async function saveStripeSettings(
  db: Queryable,
  box: SecretBox,
  tenantId: string,
  settings: StripeSettings,
): Promise<StripeSettingsView> {
  const { rows } = await db.query<StripeSettingsView>(
    `INSERT INTO stripe_settings (tenant_id, publishable_key, secret_key, webhook_secret, currency,
                                  secret_key_last4, webhook_secret_last4)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (tenant_id) DO UPDATE SET publishable_key = EXCLUDED.publishable_key,
       secret_key = EXCLUDED.secret_key, webhook_secret = EXCLUDED.webhook_secret,
       secret_key_last4 = EXCLUDED.secret_key_last4, webhook_secret_last4 = EXCLUDED.webhook_secret_last4,
       currency = EXCLUDED.currency, updated_at = now()
     RETURNING ${VIEW_COLUMNS}`,
    [
      tenantId,
      settings.publishable_key,
      box.seal(settings.secret_key, secretContext('stripe.secret_key', tenantId)),
      box.seal(settings.webhook_secret, secretContext('stripe.webhook_secret', tenantId)),
      settings.currency,
      settings.secret_key.slice(-4),
      settings.webhook_secret.slice(-4),
    ],
  );
  return rows[0] as StripeSettingsView;
}

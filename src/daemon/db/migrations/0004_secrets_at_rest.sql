-- Secrets at rest are encrypted (security/secretBox.ts): the database can no longer
-- compute their last 4 characters, so they are kept beside them, as the API shows them.
-- Expand-only: the secret columns keep their names and type (text holds the ciphertext);
-- the daemon encrypts rows still in plaintext at start-up.
ALTER TABLE stripe_settings ADD COLUMN secret_key_last4 text;
ALTER TABLE stripe_settings ADD COLUMN webhook_secret_last4 text;
UPDATE stripe_settings SET secret_key_last4 = right(secret_key, 4), webhook_secret_last4 = right(webhook_secret, 4);
ALTER TABLE stripe_settings ALTER COLUMN secret_key_last4 SET NOT NULL;
ALTER TABLE stripe_settings ALTER COLUMN webhook_secret_last4 SET NOT NULL;

ALTER TABLE campaigns ADD COLUMN session_token_last4 text;
UPDATE campaigns SET session_token_last4 = right(session_token, 4);
ALTER TABLE campaigns ALTER COLUMN session_token_last4 SET NOT NULL;

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deriveKey, type Keyring, keyId } from './keyring.ts';

/**
 * Secrets at rest (Stripe secret keys, webhook secrets, WuzAPI session tokens): sealed
 * with AES-256-GCM under a key derived from the current secret key, stored as
 * `wz1:<key id>:<base64url(iv | ciphertext | tag)>`. The additional data binds a value to
 * where it belongs (`stripe_settings.secret_key` of tenant X), so a ciphertext copied into
 * another row or tenant does not open. A value sealed under a previous key still opens
 * while that key is configured; `needsReseal` finds it so it is re-encrypted (rotation).
 */
const PREFIX = 'wz1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A stored secret that cannot be read here: its key is not configured, or it was tampered with. */
export class SecretUnreadableError extends Error {}

export class SecretBox {
  private readonly current: { id: string; key: Buffer };
  private readonly keys: Map<string, Buffer>;

  constructor(keyring: Keyring) {
    const all = [keyring.current, ...keyring.previous].map((key) => ({
      id: keyId(key),
      key: deriveKey(key, 'secrets-at-rest v1'),
    }));
    this.current = all[0] as { id: string; key: Buffer };
    this.keys = new Map(all.map(({ id, key }) => [id, key]));
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(context));
    const sealed = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${PREFIX}${this.current.id}:${sealed.toString('base64url')}`;
  }

  /** The plaintext. A value stored before encryption existed (no prefix) is returned as is. */
  open(stored: string, context: string): string {
    if (!stored.startsWith(PREFIX)) return stored;
    const [id, data] = stored.slice(PREFIX.length).split(':') as [string, string | undefined];
    const key = this.keys.get(id);
    if (!key || !data) {
      throw new SecretUnreadableError(
        `a secret was encrypted with key ${id}, which is not configured: add it to WUZ_SECRET_KEY_PREVIOUS`,
      );
    }
    const sealed = Buffer.from(data, 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const body = sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      // GCM's tag check: the bytes were changed, or moved from another row or tenant.
      throw new SecretUnreadableError(
        `a stored secret (${context.split(':')[0]}) does not decrypt: it was altered`,
      );
    }
  }

  /** What every value sealed under the current key starts with (a LIKE pattern finds the others). */
  get currentPrefix(): string {
    return `${PREFIX}${this.current.id}:`;
  }
}

/** Where a secret lives: the additional data its ciphertext is bound to. */
export const secretContext = (
  column: 'stripe.secret_key' | 'stripe.webhook_secret' | 'campaign.session_token',
  rowKey: string,
) => `${column}:${rowKey}`;

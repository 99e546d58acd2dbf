import { createHmac, hkdfSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dataDirCredential } from './credentials.ts';

/**
 * The daemon's secret key: what encrypts secrets at rest (Stripe keys, webhook secrets,
 * WuzAPI session tokens) and signs the auth cache. One key is current; older ones are
 * kept for reading only, which is how a key is rotated (docs/SECURITY.md).
 *
 * Where it comes from, first match wins:
 *   WUZ_SECRET_KEY        the current key (environment only: never a flag, never logged)
 *   WUZ_SECRET_KEY_FILE   a file holding it, one key per line, the first one current
 *   <data-dir>/secrets/secret.key, generated on first use (the embedded default)
 * plus WUZ_SECRET_KEY_PREVIOUS: older keys, comma-separated, still accepted for reading.
 * A key is 32 random bytes written as base64url (43 characters) or hex (64):
 * `openssl rand -base64 32` works too.
 */
export interface Keyring {
  current: Buffer;
  previous: Buffer[];
  /** Where the current key came from, for the start-up banner (never the key itself). */
  source: 'WUZ_SECRET_KEY' | 'WUZ_SECRET_KEY_FILE' | 'data dir';
}

/** The keys as they travel to a child process (in its environment, like its other settings). */
export interface KeyringText {
  current: string;
  previous: string[];
  source: Keyring['source'];
}

export class KeyringError extends Error {}

export function decodeKey(text: string, where: string): Buffer {
  const value = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(value)
    ? Buffer.from(value, 'hex')
    : /^[A-Za-z0-9+/_-]{43}=?$/.test(value)
      ? Buffer.from(value.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url')
      : null;
  if (key?.length !== 32) {
    throw new KeyringError(
      `${where} is not a 32-byte key (base64 or hex); make one with: openssl rand -base64 32`,
    );
  }
  return key;
}

export async function loadKeyring(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<Keyring> {
  const previous = (env.WUZ_SECRET_KEY_PREVIOUS ?? '')
    .split(',')
    .map((text) => text.trim())
    .filter(Boolean)
    .map((text, i) => decodeKey(text, `WUZ_SECRET_KEY_PREVIOUS (key ${i + 1})`));
  if (env.WUZ_SECRET_KEY) {
    return { current: decodeKey(env.WUZ_SECRET_KEY, 'WUZ_SECRET_KEY'), previous, source: 'WUZ_SECRET_KEY' };
  }
  if (env.WUZ_SECRET_KEY_FILE) {
    const file = env.WUZ_SECRET_KEY_FILE;
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new KeyringError(`WUZ_SECRET_KEY_FILE ${file}: ${error.code ?? error.message}`);
    });
    const keys = text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'))
      .map((line, i) => decodeKey(line, `${file} (line ${i + 1})`));
    if (keys.length === 0) throw new KeyringError(`WUZ_SECRET_KEY_FILE ${file} holds no key`);
    return {
      current: keys[0] as Buffer,
      previous: [...keys.slice(1), ...previous],
      source: 'WUZ_SECRET_KEY_FILE',
    };
  }
  const generated = await dataDirCredential(dataDir, 'secret.key');
  return { current: decodeKey(generated, 'the data dir secret key'), previous, source: 'data dir' };
}

export function keyringToText(keyring: Keyring): KeyringText {
  return {
    current: keyring.current.toString('base64url'),
    previous: keyring.previous.map((key) => key.toString('base64url')),
    source: keyring.source,
  };
}

export function keyringFromText(text: KeyringText): Keyring {
  return {
    current: Buffer.from(text.current, 'base64url'),
    previous: text.previous.map((key) => Buffer.from(key, 'base64url')),
    source: text.source,
  };
}

/** A key for one purpose, so that the encryption key and the MAC key are never the same. */
export function deriveKey(key: Buffer, purpose: 'secrets-at-rest v1' | 'auth-cache-mac v1'): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `wuzctl ${purpose}`, 32));
}

/** A short public name of a key (8 hex characters), stored beside what it encrypted. */
export function keyId(key: Buffer): string {
  return createHmac('sha256', key).update('wuzctl key id').digest('hex').slice(0, 8);
}

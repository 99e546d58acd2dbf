import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CacheSeal } from '../../src/daemon/security/cacheSeal.ts';
import { decodeKey, type Keyring } from '../../src/daemon/security/keyring.ts';
import { SecretBox, SecretUnreadableError, secretContext } from '../../src/daemon/security/secretBox.ts';

const keyring = (current: Buffer, ...previous: Buffer[]): Keyring => ({
  current,
  previous,
  source: 'data dir',
});
const [k1, k2] = [randomBytes(32), randomBytes(32)];
const here = secretContext('stripe.secret_key', 'tenant-a');

describe('SecretBox (secrets at rest)', () => {
  it('seals to a ciphertext that names its key and holds nothing of the plaintext, and opens it', () => {
    const box = new SecretBox(keyring(k1));
    const sealed = box.seal('sk_live_verysecret', here);
    expect(sealed.startsWith(box.currentPrefix)).toBe(true);
    expect(sealed).not.toContain('verysecret');
    expect(box.seal('sk_live_verysecret', here)).not.toBe(sealed); // a fresh IV each time
    expect(box.open(sealed, here)).toBe('sk_live_verysecret');
  });

  it('refuses a ciphertext moved to another row or tenant, or altered', () => {
    const box = new SecretBox(keyring(k1));
    const sealed = box.seal('sk_live_verysecret', here);
    expect(() => box.open(sealed, secretContext('stripe.secret_key', 'tenant-b'))).toThrow(
      SecretUnreadableError,
    );
    expect(() => box.open(sealed, secretContext('stripe.webhook_secret', 'tenant-a'))).toThrow(
      SecretUnreadableError,
    );
    const flipped = `${sealed.slice(0, -2)}${sealed.at(-2) === 'A' ? 'B' : 'A'}${sealed.at(-1)}`;
    expect(() => box.open(flipped, here)).toThrow(SecretUnreadableError);
  });

  it('rotates: a previous key still opens, the current one seals; without the old key the value is unreadable', () => {
    const old = new SecretBox(keyring(k1)).seal('whsec_old', here);
    const rotated = new SecretBox(keyring(k2, k1));
    expect(rotated.open(old, here)).toBe('whsec_old');
    expect(old.startsWith(rotated.currentPrefix)).toBe(false);
    expect(() => new SecretBox(keyring(k2)).open(old, here)).toThrow(
      /not configured: add it to WUZ_SECRET_KEY_PREVIOUS/,
    );
  });

  it('reads a value stored before encryption as it is', () => {
    expect(new SecretBox(keyring(k1)).open('sk_test_plain', here)).toBe('sk_test_plain');
  });
});

describe('secret keys', () => {
  it('accepts 32 bytes as base64, base64url or hex, and refuses anything else with a way to make one', () => {
    const raw = randomBytes(32);
    for (const text of [raw.toString('base64'), raw.toString('base64url'), raw.toString('hex')]) {
      expect(decodeKey(text, 'WUZ_SECRET_KEY').equals(raw)).toBe(true);
    }
    for (const bad of ['short', randomBytes(16).toString('hex'), randomBytes(48).toString('base64')]) {
      expect(() => decodeKey(bad, 'WUZ_SECRET_KEY')).toThrow(/openssl rand -base64 32/);
    }
  });
});

describe('CacheSeal (auth cache entries)', () => {
  it('opens what it sealed, and nothing forged, moved or sealed under another key', () => {
    const seal = new CacheSeal(keyring(k1));
    const entry = seal.seal('wuz:auth:aaaaaaaaaaaa', '{"role":"user"}');
    expect(seal.open('wuz:auth:aaaaaaaaaaaa', entry)).toBe('{"role":"user"}');
    expect(seal.open('wuz:auth:bbbbbbbbbbbb', entry)).toBeNull();
    expect(seal.open('wuz:auth:aaaaaaaaaaaa', entry.replace('user', 'admin'))).toBeNull();
    expect(seal.open('wuz:auth:aaaaaaaaaaaa', '{"role":"admin"}')).toBeNull();
    expect(new CacheSeal(keyring(k2)).open('wuz:auth:aaaaaaaaaaaa', entry)).toBeNull();
  });
});

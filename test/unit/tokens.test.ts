import { describe, expect, it } from 'vitest';
import {
  bearerToken,
  generateToken,
  hashSecret,
  parseToken,
  secretMatches,
} from '../../src/daemon/auth/tokens.ts';

describe('API tokens', () => {
  it('generates distinct tokens that parse back to their prefix and secret', () => {
    const a = generateToken();
    const b = generateToken();
    expect(a.token).not.toBe(b.token);
    expect(a.token).toMatch(/^wuz_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const parsed = parseToken(a.token);
    expect(parsed?.prefix).toBe(a.prefix);
    expect(parsed && secretMatches(parsed.secret, a.secretHash)).toBe(true);
  });

  it('stores only a hash: the secret is not in it', () => {
    const { token, secretHash } = generateToken();
    const secret = parseToken(token)?.secret as string;
    expect(secretHash.length).toBe(32);
    expect(secretHash.toString('utf8')).not.toContain(secret);
    expect(secretHash.equals(hashSecret(secret))).toBe(true);
  });

  it('rejects a wrong secret, a missing row and a hash of the wrong length', () => {
    const { token, secretHash } = generateToken();
    const other = parseToken(generateToken().token)?.secret as string;
    expect(secretMatches(other, secretHash)).toBe(false);
    expect(secretMatches(parseToken(token)?.secret as string, null)).toBe(false);
    expect(secretMatches(parseToken(token)?.secret as string, Buffer.alloc(3))).toBe(false);
  });

  it.each([
    '',
    'wuz_',
    'Bearer wuz_0123456789ab_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    'wuz_0123456789AB_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    'wuz_0123456789ab_aaaa',
    'wuz_0123456789ab_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=',
    "wuz_0123456789ab_' OR 1=1 --aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  ])('refuses the malformed token %j', (token) => {
    expect(parseToken(token)).toBeNull();
  });

  it('reads the token of an Authorization header, in any case of "Bearer", and nothing else', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('  bearer   abc  ')).toBe('abc');
    expect(bearerToken(undefined)).toBeNull();
    expect(bearerToken('')).toBeNull();
    expect(bearerToken('Basic abc')).toBeNull();
    expect(bearerToken('Bearer')).toBeNull();
    expect(bearerToken('Bearer a b')).toBeNull();
    expect(bearerToken('Bearerabc')).toBeNull();
  });
});

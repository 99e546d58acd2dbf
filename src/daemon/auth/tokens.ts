import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API tokens look like `wuz_<prefix>_<secret>`: the 12-hex-char prefix is public and finds
 * the row; only the SHA-256 of the 256-bit secret is stored. A slow hash (bcrypt, scrypt)
 * protects low-entropy passwords; a random 256-bit secret needs none, and SHA-256 keeps
 * authentication off the request's critical path.
 */
const TOKEN_PATTERN = /^wuz_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface NewToken {
  token: string;
  prefix: string;
  secretHash: Buffer;
}

export function generateToken(): NewToken {
  const prefix = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { token: `wuz_${prefix}_${secret}`, prefix, secretHash: hashSecret(secret) };
}

export function parseToken(token: string): { prefix: string; secret: string } | null {
  const match = TOKEN_PATTERN.exec(token);
  return match ? { prefix: match[1] as string, secret: match[2] as string } : null;
}

/** The token of an `Authorization: Bearer <token>` header, or null when there is none. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer +(\S+)$/i.exec(header?.trim() ?? '');
  return match ? (match[1] as string) : null;
}

export function hashSecret(secret: string): Buffer {
  // The one-shot form: a third cheaper than a Hash object, and it runs on every request.
  return hash('sha256', secret, 'buffer');
}

// Compared against when no row matched, so a miss costs the same as a wrong secret.
const DUMMY_HASH = hashSecret('no such token');

/** Constant-time comparison of a presented secret with a stored hash (or none). */
export function secretMatches(secret: string, storedHash: Buffer | null): boolean {
  const presented = hashSecret(secret);
  const stored = storedHash && storedHash.length === presented.length ? storedHash : DUMMY_HASH;
  return timingSafeEqual(presented, stored) && stored !== DUMMY_HASH;
}

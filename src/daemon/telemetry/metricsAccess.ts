import type http from 'node:http';
import { isIP } from 'node:net';
import { bearerToken, hashSecret, secretMatches } from '../auth/tokens.ts';

export interface AccessRefusal {
  status: 401 | 403;
  code: string;
  message: string;
}

/** Loopback in every spelling a socket reports: 127.0.0.0/8, ::1 and IPv4-mapped 127.x. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return address === '::1';
}

/**
 * Who may read /metrics. With a token: exactly the callers that send it as a Bearer
 * token (compared on SHA-256 digests with timingSafeEqual, so neither the content nor the
 * length leaks through timing). Without one: only clients on this machine, so a daemon
 * bound to 0.0.0.0 does not publish its internals by accident.
 */
export function metricsAccess(
  token: string | undefined,
): (req: http.IncomingMessage) => AccessRefusal | null {
  const expected = token ? hashSecret(token) : null;
  return (req) => {
    if (!expected) {
      if (isLoopback(req.socket.remoteAddress)) return null;
      return {
        status: 403,
        code: 'forbidden',
        message: 'metrics are served to loopback clients only; set METRICS_TOKEN to allow remote scrapers',
      };
    }
    const presented = bearerToken(req.headers.authorization);
    if (presented && secretMatches(presented, expected)) return null;
    return { status: 401, code: 'unauthorized', message: 'send Authorization: Bearer <METRICS_TOKEN>' };
  };
}

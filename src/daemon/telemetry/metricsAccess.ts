import type http from 'node:http';
import { isIP } from 'node:net';
import type { ApiErrorCode } from '../api/errorCatalogue.ts';
import { clientAddressOf, looksForwarded, type TrustProxy } from '../api/trustProxy.ts';
import { bearerToken, hashSecret, secretMatches } from '../auth/tokens.ts';

export interface AccessRefusal {
  code: Extract<ApiErrorCode, 'unauthorized' | 'forbidden'>;
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
 *
 * "On this machine" means the client, not the last hop: a reverse proxy on the same
 * host connects from loopback for everyone. With --trust-proxy the client is the one the
 * proxy names; without it, a loopback request that carries a forwarding header
 * (X-Forwarded-For, Forwarded, X-Real-IP, CF-Connecting-IP) is a proxied one, and refused.
 */
export function metricsAccess(
  token: string | undefined,
  trustProxy: TrustProxy = false,
): (req: http.IncomingMessage) => AccessRefusal | null {
  const expected = token ? hashSecret(token) : null;
  const clientOf = clientAddressOf(trustProxy);
  return (req) => {
    if (!expected) {
      const local = isLoopback(clientOf(req)) && (trustProxy !== false || !looksForwarded(req));
      if (local) return null;
      return {
        code: 'forbidden',
        message:
          'metrics are served to clients on this machine only; set METRICS_TOKEN to allow remote scrapers',
      };
    }
    const presented = bearerToken(req.headers.authorization);
    if (presented && secretMatches(presented, expected)) return null;
    return { code: 'unauthorized', message: 'send Authorization: Bearer <METRICS_TOKEN>' };
  };
}

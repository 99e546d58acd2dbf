import type http from 'node:http';
import { isIP } from 'node:net';
import proxyaddr from 'proxy-addr';
import { CLOUDFLARE_RANGES, isCloudflareAddress } from './cloudflare.ts';

/**
 * Which proxies may say who the client is (`--trust-proxy`). Off by default: then the
 * client is the socket's peer and X-Forwarded-For is ignored, so nobody can pick the
 * address per-address limits and the /metrics check see. Behind a proxy, name it — by
 * hop count, or better by address (a list of IPs, CIDRs and proxy-addr's names
 * `loopback`, `linklocal`, `uniquelocal`, and `cloudflare` for Cloudflare's published
 * ranges) — and the client is the address that proxy reports. Express applies the same
 * setting (`trust proxy`) to `req.ip`; clientAddressOf() adds Cloudflare's own header.
 */
export type TrustProxy = false | number | string[];

/** Parses the option; throws with the reason (for the config error list). */
export function parseTrustProxy(value: string): TrustProxy {
  const text = value.trim().toLowerCase();
  if (text === 'off' || text === 'false' || text === '') return false;
  if (text === 'true' || text === 'all' || text === 'on') {
    throw new Error(
      'trusting every proxy lets any client pick its address: give a hop count or the proxy addresses',
    );
  }
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops < 1 || hops > 10) throw new Error('a hop count must be 1 to 10');
    return hops;
  }
  const list = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .flatMap((entry) => (entry === 'cloudflare' ? CLOUDFLARE_RANGES : [entry]));
  proxyaddr.compile(list); // throws "invalid IP address: …" for anything else
  return list;
}

/**
 * The client's address, for Express (`req.ip`, set by app.ts) and plain node:http alike:
 * the nearest untrusted address of the forwarding chain (X-Forwarded-For, as Express
 * reads it). One addition: when the chain ends at a trusted Cloudflare address — a proxy
 * between Cloudflare and us replaced X-Forwarded-For — Cloudflare's `CF-Connecting-IP`
 * names the client. It is never read from anyone else: a client cannot pick its address.
 */
export function clientAddressOf(setting: TrustProxy): (req: http.IncomingMessage) => string | undefined {
  if (setting === false) return (req) => req.socket.remoteAddress;
  // A hop count trusts the nearest n hops, as Express compiles it.
  const trust =
    typeof setting === 'number'
      ? (_address: string, hop: number) => hop < setting
      : proxyaddr.compile(setting);
  return (req) => {
    const request = req as Parameters<typeof proxyaddr>[0];
    const chain = proxyaddr.all(request);
    let hop = 0;
    while (hop < chain.length - 1 && trust(chain[hop] as string, hop)) hop++;
    const furthest = chain[hop] as string;
    const named = req.headers['cf-connecting-ip'];
    const viaCloudflare =
      trust(furthest, hop) &&
      isCloudflareAddress(furthest) &&
      typeof named === 'string' &&
      isIP(named.trim()) !== 0;
    return viaCloudflare ? named.trim() : furthest;
  };
}

/** Headers by which a proxy names the client; their presence means "this came through a proxy". */
export const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip', 'cf-connecting-ip'] as const;

export function looksForwarded(req: http.IncomingMessage): boolean {
  return FORWARDING_HEADERS.some((name) => req.headers[name] !== undefined);
}

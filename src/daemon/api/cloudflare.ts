import { BlockList } from 'node:net';

/**
 * Cloudflare's edge addresses, as published at https://www.cloudflare.com/ips/ (checked
 * 2026-12; they change rarely, and the page says so ahead of time). `--trust-proxy
 * cloudflare` trusts them; docs/CDN.md says how to keep them current.
 */
export const CLOUDFLARE_RANGES = [
  '173.245.48.0/20',
  '103.21.244.0/22',
  '103.22.200.0/22',
  '103.31.4.0/22',
  '141.101.64.0/18',
  '108.162.192.0/18',
  '190.93.240.0/20',
  '188.114.96.0/20',
  '197.234.240.0/22',
  '198.41.128.0/17',
  '162.158.0.0/15',
  '104.16.0.0/13',
  '104.24.0.0/14',
  '172.64.0.0/13',
  '131.0.72.0/22',
  '2400:cb00::/32',
  '2606:4700::/32',
  '2803:f800::/32',
  '2405:b500::/32',
  '2405:8100::/32',
  '2a06:98c0::/29',
  '2c0f:f248::/32',
];

const ranges = new BlockList();
for (const range of CLOUDFLARE_RANGES) {
  const [network, prefix] = range.split('/') as [string, string];
  ranges.addSubnet(network, Number(prefix), network.includes(':') ? 'ipv6' : 'ipv4');
}

/** Whether an address (IPv4, IPv6, or IPv4 mapped into IPv6 as Node reports it) is Cloudflare's. */
export function isCloudflareAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return ranges.check(mapped, 'ipv4');
  return ranges.check(address, address.includes(':') ? 'ipv6' : 'ipv4');
}

import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { isCloudflareAddress } from '../../src/daemon/api/cloudflare.ts';
import { clientAddressOf, parseTrustProxy } from '../../src/daemon/api/trustProxy.ts';

const request = (peer: string, headers: Record<string, string> = {}) =>
  ({
    socket: { remoteAddress: peer },
    connection: { remoteAddress: peer },
    headers,
  }) as unknown as http.IncomingMessage;

const EDGE = '173.245.48.10';
const CLIENT = '203.0.113.7';

describe('--trust-proxy cloudflare', () => {
  it("expands to Cloudflare's published ranges, IPv4, IPv6 and IPv4-mapped", () => {
    const list = parseTrustProxy('cloudflare') as string[];
    expect(list).toContain('173.245.48.0/20');
    expect(list).toContain('2606:4700::/32');
    expect(isCloudflareAddress(EDGE)).toBe(true);
    expect(isCloudflareAddress(`::ffff:${EDGE}`)).toBe(true);
    expect(isCloudflareAddress('2606:4700::6810:85e5')).toBe(true);
    expect(isCloudflareAddress('198.51.100.1')).toBe(false);
  });

  it('takes the client Cloudflare reports, straight from the edge', () => {
    const client = clientAddressOf(parseTrustProxy('cloudflare'));
    expect(client(request(EDGE, { 'x-forwarded-for': CLIENT, 'cf-connecting-ip': CLIENT }))).toBe(CLIENT);
    // A client's own X-Forwarded-For is to the left of what Cloudflare appended: ignored.
    expect(
      client(request(EDGE, { 'x-forwarded-for': `10.9.9.9, ${CLIENT}`, 'cf-connecting-ip': CLIENT })),
    ).toBe(CLIENT);
  });

  it('behind a local proxy that replaced X-Forwarded-For, reads CF-Connecting-IP', () => {
    const client = clientAddressOf(parseTrustProxy('loopback, cloudflare'));
    expect(client(request('127.0.0.1', { 'x-forwarded-for': EDGE, 'cf-connecting-ip': CLIENT }))).toBe(
      CLIENT,
    );
    expect(client(request('127.0.0.1', { 'x-forwarded-for': `${CLIENT}, ${EDGE}` }))).toBe(CLIENT);
  });

  it('never believes CF-Connecting-IP from anyone but a trusted Cloudflare address', () => {
    const client = clientAddressOf(parseTrustProxy('cloudflare'));
    expect(client(request('198.51.100.1', { 'cf-connecting-ip': '1.2.3.4' }))).toBe('198.51.100.1');
    const local = clientAddressOf(parseTrustProxy('loopback'));
    expect(local(request('127.0.0.1', { 'x-forwarded-for': EDGE, 'cf-connecting-ip': CLIENT }))).toBe(EDGE);
    const off = clientAddressOf(parseTrustProxy('off'));
    expect(off(request(EDGE, { 'cf-connecting-ip': CLIENT }))).toBe(EDGE);
    expect(client(request(EDGE, { 'cf-connecting-ip': 'not an address' }))).toBe(EDGE);
  });
});

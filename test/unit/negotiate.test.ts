import { describe, expect, it } from 'vitest';
import { negotiateEncoding } from '../../src/daemon/api/compression/negotiate.ts';

/** RFC 9110 §12.5.3, as a table: Accept-Encoding → the coding sent (null: 406). */
const CASES: Array<[string | undefined, ReturnType<typeof negotiateEncoding>]> = [
  [undefined, 'identity'],
  ['', 'identity'],
  ['br', 'br'],
  ['gzip', 'gzip'],
  ['x-gzip', 'gzip'],
  ['gzip, deflate, br', 'br'],
  ['gzip, deflate, br, zstd', 'br'],
  ['deflate', 'identity'],
  ['br;q=0, gzip', 'gzip'],
  ['br;q=0.5, gzip;q=0.8', 'gzip'],
  ['br;q=0.8, gzip;q=0.8', 'br'],
  ['BR;Q=1', 'br'],
  ['gzip;q=0.5, identity', 'identity'],
  ['gzip;q=1, identity;q=0.5', 'gzip'],
  ['*', 'br'],
  ['*;q=0.5, gzip', 'gzip'],
  ['*;q=0', null],
  ['*;q=0, identity', 'identity'],
  ['*;q=0, gzip', 'gzip'],
  ['identity;q=0', null],
  ['identity;q=0, deflate', null],
  ['identity;q=0, gzip', 'gzip'],
  ['identity', 'identity'],
  ['br;q=2, gzip', 'gzip'],
  ['br;q=abc', 'identity'],
  ['br;q=0.0001, gzip;q=0.9', 'gzip'],
  [' gzip ; q=0.9 , br ; q=1.000 ', 'br'],
  ['gzip;q=0, gzip;q=1', 'gzip'],
];

describe('content-coding negotiation', () => {
  it.each(CASES)('Accept-Encoding %j → %j', (header, expected) => {
    expect(negotiateEncoding(header)).toBe(expected);
  });

  it('chooses only among the codings a file has (the web app’s precompressed siblings)', () => {
    expect(negotiateEncoding('br, gzip', ['gzip'])).toBe('gzip');
    expect(negotiateEncoding('br', ['gzip'])).toBe('identity');
    expect(negotiateEncoding('br, identity;q=0', ['gzip'])).toBe(null);
    expect(negotiateEncoding('br, gzip', [])).toBe('identity');
  });

  it('gives the same answers once it remembers them, and after a flood of distinct headers', () => {
    for (let round = 0; round < 2; round++) {
      for (const [header, expected] of CASES) expect(negotiateEncoding(header)).toBe(expected);
      // More distinct values than it keeps, some longer than it keeps at all.
      for (let i = 0; i < 1000; i++) negotiateEncoding(`gzip;q=0.${i % 10}, x-${i}${'a'.repeat(i % 200)}`);
    }
    // A remembered answer for the server's codings is not given for a file's own list.
    expect(negotiateEncoding('br, gzip')).toBe('br');
    expect(negotiateEncoding('br, gzip', ['gzip'])).toBe('gzip');
  });
});

import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  brotliWindowBits,
  compressBody,
  oneShotChunkBytes,
} from '../../src/daemon/api/compression/oneShot.ts';

const config = { enabled: true, brotliLevel: 4, gzipLevel: 6, thresholdBytes: 1024, cacheBytes: 0 };

/** A JSON page like the API's: repetitive, as real answers are. */
function page(rows: number): Buffer {
  const items = Array.from({ length: rows }, (_, i) => ({
    id: `0c1d2e3f-0000-4000-8000-${String(i * 7919).padStart(12, '0')}`,
    phone: `+5511${90000000 + i * 37}`,
    name: `Contact ${i}`,
    created_at: new Date(1_800_000_000_000 - i * 3_600_000).toISOString(),
  }));
  return Buffer.from(JSON.stringify({ data: items, pagination: { total: rows } }));
}

describe('compressBody', () => {
  it('sizes brotli’s window to the body: the smallest that holds it, within brotli’s and the default’s bounds', () => {
    expect(brotliWindowBits(0)).toBe(zlib.constants.BROTLI_MIN_WINDOW_BITS);
    expect(brotliWindowBits(1000)).toBe(10);
    expect(brotliWindowBits(1024)).toBe(11);
    expect(brotliWindowBits(3774)).toBe(12);
    expect(brotliWindowBits(1009)).toBe(11); // 2^10 − 16 = 1008 bytes would not hold it
    expect(2 ** brotliWindowBits(200_000) - 16).toBeGreaterThanOrEqual(200_000);
    expect(brotliWindowBits(50_000_000)).toBe(zlib.constants.BROTLI_DEFAULT_WINDOW);
  });

  it('takes small answers’ output from the shared Buffer pool, many to a slab, not a 16 kB chunk each', () => {
    expect(oneShotChunkBytes(3_700)).toBe(1024);
    expect(oneShotChunkBytes(40_000)).toBe(10_000);
    expect(oneShotChunkBytes(1_000_000)).toBe(16 * 1024);
    const body = page(20);
    for (const coding of ['br', 'gzip'] as const) {
      const copies = Array.from({ length: 20 }, () => compressBody(body, coding, config));
      // zlib's default 16 kB chunk would take a new 64 kB slab every fourth answer (≥ 5 here).
      expect(new Set(copies.map((copy) => copy.buffer)).size).toBeLessThanOrEqual(2);
      for (const copy of copies) expect(copy.buffer.byteLength).toBe(Buffer.poolSize);
    }
  });

  it('gives back the same bytes, and a brotli copy no larger than the default window’s (+1 byte)', () => {
    const bodies = [page(1), page(20), page(200), page(3000), randomBytes(5000), Buffer.alloc(300_000, 'a')];
    for (const body of bodies) {
      const br = compressBody(body, 'br', config);
      expect(zlib.brotliDecompressSync(br).equals(body)).toBe(true);
      const defaultWindow = zlib.brotliCompressSync(body, {
        params: {
          [zlib.constants.BROTLI_PARAM_QUALITY]: 4,
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length,
        },
      });
      expect(br.length).toBeLessThanOrEqual(defaultWindow.length + 1);
      expect(zlib.gunzipSync(compressBody(body, 'gzip', config)).equals(body)).toBe(true);
    }
  });
});

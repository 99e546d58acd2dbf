import http from 'node:http';
import zlib from 'node:zlib';

export interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The bytes as they crossed the wire (still encoded). */
  wire: Buffer;
  /** The body after undoing Content-Encoding. */
  body: Buffer;
}

/** Undoes a Content-Encoding: what a client that asked for it would read. */
export function decode(wire: Buffer, encoding: string | undefined): Buffer {
  if (encoding === 'br') return zlib.brotliDecompressSync(wire);
  if (encoding === 'gzip') return zlib.gunzipSync(wire);
  return wire;
}

/**
 * A request through node:http, which (unlike fetch) neither sends its own Accept-Encoding
 * nor decodes the answer: the test sees exactly what the server put on the wire.
 */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const wire = Buffer.concat(chunks);
        const encoding = res.headers['content-encoding'];
        resolve({ status: res.statusCode ?? 0, headers: res.headers, wire, body: decode(wire, encoding) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

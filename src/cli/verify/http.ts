import type { Agent, IncomingHttpHeaders } from 'node:http';
import http from '../../nodeHttp.ts';

/** One API call as a gate sees it: status, the cache's verdict, the body and its latency. */
export interface Timed {
  status: number;
  cache: 'HIT' | 'MISS' | null;
  body: unknown;
  ms: number;
  headers: IncomingHttpHeaders;
}

/**
 * A keep-alive JSON client for workloads. Node's http with an Agent rather than fetch:
 * each gate can hold several independent connection pools (a write on one, the read that
 * checks it on another, so it may land on another API worker), and latency is measured
 * from the request to the last byte.
 */
export class ApiClient {
  private readonly base: URL;
  private readonly agent: Agent;

  /** `keepAlive: false`: a new connection per request (`Connection: close`), as simple clients do. */
  constructor(url: string, connections: number, keepAlive = true) {
    this.base = new URL(url);
    this.agent = new http.Agent({ keepAlive, maxSockets: connections });
  }

  /** A JSON body, or `{ text, type }` for a raw one (a CSV upload); `headers` are sent as well. */
  request(
    method: string,
    path: string,
    token: string,
    body?: unknown,
    raw?: { text: string; type: string },
    headers: Record<string, string> = {},
  ): Promise<Timed> {
    const payload = raw ? raw.text : body === undefined ? undefined : JSON.stringify(body);
    const type = raw ? raw.type : 'application/json';
    const began = performance.now();
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.base.hostname,
          port: this.base.port,
          method,
          path,
          agent: this.agent,
          timeout: 30_000,
          headers: {
            ...headers,
            authorization: `Bearer ${token}`,
            ...(payload ? { 'content-type': type, 'content-length': Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : null;
            } catch {
              // keep the text: a non-JSON answer is reported as it came
            }
            const header = res.headers['x-cache'];
            resolve({
              status: res.statusCode ?? 0,
              cache: header === 'HIT' || header === 'MISS' ? header : null,
              body: parsed,
              ms: performance.now() - began,
              headers: res.headers,
            });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out after 30 s`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Nearest-rank percentile of unsorted samples; null when there are none. */
export function percentile(samples: number[], p: number): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export const round = (value: number | null, digits = 2): number | null =>
  value === null ? null : Number(value.toFixed(digits));

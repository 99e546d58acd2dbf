import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from './http.ts';

/** One request of the mix: a read (cached or not), a write, or the health probe. */
export type Step = { method: 'GET' | 'POST'; path: string; body?: () => unknown; expect: number };

/**
 * Requests for as long as it runs, from keep-alive clients (a pool of sockets reused) and
 * one-connection-per-request clients, mixing cached and uncached reads with writes. Every
 * answer that is not the expected one, and every connection error or reset, is a failure,
 * kept with what it was: the figure of the reload gate.
 */
export class SteadyLoad {
  sent = 0;
  readonly failures: Record<string, number> = {};
  /** Every answer by route and status ("/api/contacts 503"), expected or not. */
  readonly answers: Record<string, number> = {};
  /** The first few failures in detail, for the report. */
  readonly examples: string[] = [];
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private readonly clients: ApiClient[] = [];

  /** `mix`: the requests each client cycles through (default: reads, a write, /healthz); `pauseMs` between two. */
  constructor(
    url: string,
    token: string,
    options: { keepAlive: number; oneShot: number; tag: string; mix?: Step[]; pauseMs?: number },
  ) {
    const phone = () =>
      `+5598${String(randomInt(10_000_000, 99_999_999))}${String(randomInt(0, 999)).padStart(3, '0')}`;
    const mix: Step[] = options.mix ?? [
      { method: 'GET', path: '/api/session/agents', expect: 200 },
      { method: 'GET', path: '/api/contacts?per_page=5', expect: 200 },
      {
        method: 'POST',
        path: '/api/contacts',
        body: () => ({ name: `load ${options.tag}`, phone: phone() }),
        expect: 201,
      },
      { method: 'GET', path: '/healthz', expect: 200 },
    ];
    const start = (client: ApiClient, offset: number) =>
      (async () => {
        for (let n = offset; this.running; n++) {
          const step = mix[n % mix.length] as Step;
          this.sent++;
          const route = `${step.method} ${step.path.split('?')[0]}`;
          const status = await client.request(step.method, step.path, token, step.body?.()).then(
            (answer) => answer.status,
            (error: NodeJS.ErrnoException) => error.code ?? error.message,
          );
          const answer = `${route} ${status}`;
          this.answers[answer] = (this.answers[answer] ?? 0) + 1;
          const outcome = status === step.expect ? null : answer;
          if (outcome) {
            this.failures[outcome] = (this.failures[outcome] ?? 0) + 1;
            if (this.examples.length < 10) this.examples.push(`${new Date().toISOString()} ${outcome}`);
          }
          if (options.pauseMs) await sleep(options.pauseMs);
        }
      })();
    const keepAlive = new ApiClient(url, options.keepAlive, true);
    const oneShot = new ApiClient(url, options.oneShot, false);
    this.clients.push(keepAlive, oneShot);
    for (let i = 0; i < options.keepAlive; i++) this.loops.push(start(keepAlive, i));
    for (let i = 0; i < options.oneShot; i++) this.loops.push(start(oneShot, i));
  }

  get failed(): number {
    return Object.values(this.failures).reduce((a, b) => a + b, 0);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    for (const client of this.clients) client.close();
  }
}

import autocannon from 'autocannon';
import type { CpuShare } from './cpuByProcess.ts';
import type { PlannedRequest } from './mixed.ts';

export interface BenchOptions {
  connections: number;
  durationSeconds: number;
  /** Requests per second in all (a fixed rate); undefined: as fast as it goes. */
  rate?: number;
  warmupSeconds: number;
}

/** One scenario's figures; latency counts 2xx answers only. */
export interface BenchResult {
  scenario: string;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** The share of the health floor's requests/s measured in the same invocation. */
  ratioToFloor: number | null;
  /** The share of the redis-floor scenario's requests/s (Express + one Redis GET), when it ran. */
  ratioToRedisFloor?: number | null;
  /** The share of the pg-floor scenario's requests/s (Express + one pg query of the same page), when it ran. */
  ratioToPgFloor?: number | null;
  requests: number;
  errors: number;
  timeouts: number;
  /** Answers that were not 2xx, by status. */
  non2xx: Record<string, number>;
  durationSeconds: number;
  /**
   * CPU per request by process (this one and those it started: the ephemeral daemon, the
   * floor), over the warm-up and the measurement; null without /proc.
   */
  cpu?: CpuShare[] | null;
}

/** Runs autocannon over `requests` (cycled), with a warm-up first; `onTick` gets req/s each second. */
export async function runBench(
  url: string,
  scenario: string,
  requests: PlannedRequest[],
  options: BenchOptions,
  onTick?: (requestsPerSecond: number, elapsedSeconds: number) => void,
): Promise<BenchResult> {
  const headers = (request: PlannedRequest) => ({
    ...(request.token ? { authorization: `Bearer ${request.token}` } : {}),
    ...(request.body || request.makeBody ? { 'content-type': 'application/json' } : {}),
    'accept-encoding': 'br, gzip',
  });
  const requestsOption = requests.map((request) => ({
    method: request.method,
    path: request.path,
    headers: headers(request),
    ...(request.body ? { body: request.body } : {}),
    ...(request.makeBody
      ? {
          setupRequest: (req: autocannon.Request) => ({ ...req, body: (request.makeBody as () => string)() }),
        }
      : {}),
  }));
  let finished!: (result: autocannon.Result) => void;
  let failed!: (error: Error) => void;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finished = resolve;
    failed = reject;
  });
  // The callback form returns the instance: its `tick` events drive the progress line.
  const instance = autocannon(
    {
      url,
      connections: options.connections,
      duration: options.durationSeconds,
      ...(options.rate ? { overallRate: options.rate } : {}),
      ...(options.warmupSeconds > 0
        ? { warmup: { connections: options.connections, duration: options.warmupSeconds } }
        : {}),
      requests: requestsOption,
      excludeErrorStats: true,
    },
    (error, result) => (error ? failed(error) : finished(result)),
  );
  let elapsed = 0;
  // autocannon 9 passes {counter, bytes} (the last second's) to `tick`; its types say nothing.
  instance.on('tick', (...args: unknown[]) => {
    elapsed++;
    onTick?.((args[0] as { counter?: number } | undefined)?.counter ?? 0, elapsed);
  });
  const result = await done;
  const non2xx: Record<string, number> = {};
  for (const [status, { count }] of Object.entries(result.statusCodeStats ?? {})) {
    if (!/^2/.test(status)) non2xx[status] = count ?? 0;
  }
  return {
    scenario,
    requestsPerSecond: Math.round(result.requests.average),
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    ratioToFloor: null,
    requests: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx,
    durationSeconds: result.duration,
  };
}

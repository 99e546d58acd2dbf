import type { MetricsSnapshot } from '../telemetry/metrics.ts';

/**
 * What the alert loop reads at one evaluation: cumulative HTTP counters summed over the
 * cluster (they never go down: the supervisor keeps a stopped worker's counts), the
 * memory the daemon's processes hold, and the health of Redis and the database.
 */
export interface Sample {
  at: number;
  requests: number;
  errors: number;
  /** Cumulative request counts per bucket upper bound (+Inf last), summed over routes. */
  buckets: { le: number; count: number }[];
  rssBytes: number;
  memoryLimitBytes: number;
  redisUp: boolean;
  databaseUp: boolean;
}

/** The HTTP figures over the last window: requests, 5xx and the latency histogram's increase. */
export interface WindowFigures {
  requests: number;
  errors: number;
  buckets: { le: number; count: number }[];
}

const HTTP_REQUESTS = 'http_requests_total';
const HTTP_DURATION_BUCKET = 'http_request_duration_seconds_bucket';
const RSS = 'process_resident_memory_bytes';

/** Reads the HTTP counters and the memory figure off an aggregated metrics snapshot. */
export function httpAndMemory(
  snapshot: MetricsSnapshot,
): Pick<Sample, 'requests' | 'errors' | 'buckets' | 'rssBytes'> {
  let requests = 0;
  let errors = 0;
  let rssBytes = 0;
  const byBound = new Map<number, number>();
  for (const metric of snapshot) {
    if (metric.name === HTTP_REQUESTS) {
      for (const { value, labels } of metric.values) {
        requests += value;
        if (/^5\d\d$/.test(String(labels.status ?? ''))) errors += value;
      }
    } else if (metric.name === 'http_request_duration_seconds') {
      for (const { value, labels, metricName } of metric.values as {
        value: number;
        labels: Record<string, string | number>;
        metricName?: string;
      }[]) {
        if (metricName !== HTTP_DURATION_BUCKET) continue;
        const le = labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(labels.le);
        byBound.set(le, (byBound.get(le) ?? 0) + value);
      }
    } else if (metric.name === RSS) {
      for (const { value } of metric.values) rssBytes += value;
    }
  }
  const buckets = [...byBound.entries()].sort(([a], [b]) => a - b).map(([le, count]) => ({ le, count }));
  return { requests, errors, buckets, rssBytes };
}

/**
 * The samples of the longest window any rule looks at. A window's figures are the
 * difference between the newest sample and the oldest one still inside the window (as
 * Prometheus' increase() over a range), so one evaluation costs no scan of history.
 */
export class SampleHistory {
  private samples: Sample[] = [];
  private readonly keepMs: number;

  constructor(keepMs: number) {
    this.keepMs = keepMs;
  }

  push(sample: Sample): void {
    this.samples.push(sample);
    // One sample older than the horizon stays: it is the base of the longest window.
    while (this.samples.length > 2 && (this.samples[1] as Sample).at <= sample.at - this.keepMs) {
      this.samples.shift();
    }
  }

  /** The time the samples cover: a window longer than this is not known yet. */
  spanMs(): number {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    return first && last ? last.at - first.at : 0;
  }

  latest(): Sample | undefined {
    return this.samples.at(-1);
  }

  /** The increase over the last `windowMs`; null before two samples exist. */
  window(windowMs: number): WindowFigures | null {
    const newest = this.samples.at(-1);
    if (!newest || this.samples.length < 2) return null;
    const base =
      this.samples.find((sample) => sample.at >= newest.at - windowMs && sample !== newest) ??
      (this.samples.at(-2) as Sample);
    if (base === newest) return null;
    // A counter that went down (a daemon restart loses nothing, but a test's registry may)
    // counts from zero, as Prometheus does for a reset.
    const increase = (now: number, then: number) => (now >= then ? now - then : now);
    const before = new Map(base.buckets.map((bucket) => [bucket.le, bucket.count]));
    return {
      requests: increase(newest.requests, base.requests),
      errors: increase(newest.errors, base.errors),
      buckets: newest.buckets.map(({ le, count }) => ({ le, count: increase(count, before.get(le) ?? 0) })),
    };
  }
}

/**
 * Prometheus' histogram_quantile: the bucket holding the q-th observation, linearly
 * interpolated within it; the +Inf bucket answers the highest finite bound.
 */
export function histogramQuantile(q: number, buckets: { le: number; count: number }[]): number | null {
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const { le, count } of buckets) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return lowerBound;
      const inBucket = count - lowerCount;
      return inBucket <= 0 ? le : lowerBound + (le - lowerBound) * ((rank - lowerCount) / inBucket);
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}

import { AggregatorRegistry, type Registry } from 'prom-client';
import type { MetricsSnapshot } from './metrics.ts';

export interface Exposition {
  contentType: string;
  body: string;
}

/** Counters and histograms only: what keeps meaning once the process that counted is gone. */
function monotonic(snapshot: MetricsSnapshot): MetricsSnapshot {
  // prom-client's typings call `type` an enum; at run time it is the exposition's word.
  return snapshot.filter((metric) => ['counter', 'histogram'].includes(String(metric.type)));
}

/**
 * The supervisor's view of every process's metrics. A scrape sums the supervisor's own
 * registry, each live child's latest snapshot and what retired children left behind: a
 * worker that restarts must not make a cluster-wide counter go down (Prometheus would read
 * that as a reset and count the rest twice). A retired child's gauges (its memory, its
 * event loop lag) are dropped with it.
 */
export class ClusterMetrics {
  private retired: MetricsSnapshot = [];
  private readonly own: Registry;

  constructor(own: Registry) {
    this.own = own;
  }

  /** Keeps the counters of a child that exited, added to those of earlier ones. */
  async retire(snapshot: MetricsSnapshot): Promise<void> {
    const kept = monotonic(snapshot);
    if (kept.length === 0) return;
    this.retired = (await AggregatorRegistry.aggregate([
      this.retired,
      kept,
    ]).getMetricsAsJSON()) as MetricsSnapshot;
  }

  /**
   * The children's sum (live and retired) as a snapshot, for the alert loop. The
   * supervisor's own registry is left out: its gauges probe Redis and the database on
   * collect, which the loop does itself.
   */
  async childrenSnapshot(children: MetricsSnapshot[]): Promise<MetricsSnapshot> {
    return (await AggregatorRegistry.aggregate([
      ...children,
      this.retired,
    ]).getMetricsAsJSON()) as MetricsSnapshot;
  }

  async render(children: MetricsSnapshot[]): Promise<Exposition> {
    const own = (await this.own.getMetricsAsJSON()) as MetricsSnapshot;
    const registry = AggregatorRegistry.aggregate([own, ...children, this.retired]);
    return { contentType: registry.contentType, body: await registry.metrics() };
  }
}

import { Counter, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../logger.ts';
import { type ChildSlot, ReplaceError, type Replacement } from './children.ts';

/** A rollout as `status` and `wuzctl reload` show it. */
export interface RolloutStatus {
  id: number;
  state: 'running' | 'done' | 'aborted' | 'cancelled';
  /** Why it aborted or was cancelled; null while running and when done. */
  reason: string | null;
  /** What asked for it: "wuzctl reload", "SIGHUP". */
  trigger: string;
  generation: number;
  startedAt: string;
  finishedAt: string | null;
  /** Migrations applied before the first new worker. */
  migrations: string[];
  /** Processes to replace, in order; `steps` are the ones replaced so far. */
  plan: string[];
  steps: Replacement[];
  /** The slot being replaced now. */
  replacing: string | null;
}

export interface RolloutTiming {
  readyTimeoutMs: number;
  stabilizeMs: number;
  drainDeadlineMs: number;
}

export interface RolloutMetrics {
  rollouts: Counter<'outcome'>;
  drains: Histogram<'role'>;
}

export function registerRolloutMetrics(registry: Registry): RolloutMetrics {
  const registers = [registry];
  const rollouts = new Counter({
    name: 'rollouts_total',
    help: 'Rolling reloads (wuzctl reload, SIGHUP) by outcome: done, aborted (a new worker failed; the old ones kept serving) or cancelled (a stop)',
    labelNames: ['outcome'],
    registers,
  });
  for (const outcome of ['done', 'aborted', 'cancelled']) rollouts.inc({ outcome }, 0);
  const drains = new Histogram({
    name: 'rollout_drain_seconds',
    help: 'How long an old worker took to finish what it held once replaced, by role',
    labelNames: ['role'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  for (const role of ['api', 'queue']) drains.zero({ role });
  return { rollouts, drains };
}

/**
 * One rolling reload: pending migrations first (a failure changes nothing), then every
 * API worker one at a time, then the queue workers — each replaced by a process of the
 * new generation that is ready before the old one drains, so the configured number of
 * ready workers never drops. The first step that fails stops the rollout; the slots not
 * yet replaced keep their old processes, and those replaced keep their new ones.
 */
export class Rollout {
  readonly status: RolloutStatus;
  private cancelReason?: string;
  private readonly slots: ChildSlot[];
  private readonly timing: RolloutTiming;
  private readonly log: Logger;
  private readonly metrics: RolloutMetrics;
  private readonly migrate: () => Promise<string[]>;

  constructor(options: {
    id: number;
    trigger: string;
    slots: ChildSlot[];
    timing: RolloutTiming;
    log: Logger;
    metrics: RolloutMetrics;
    migrate: () => Promise<string[]>;
  }) {
    this.slots = [...options.slots].sort((a, b) => Number(a.role === 'queue') - Number(b.role === 'queue'));
    this.timing = options.timing;
    this.log = options.log;
    this.metrics = options.metrics;
    this.migrate = options.migrate;
    this.status = {
      id: options.id,
      state: 'running',
      reason: null,
      trigger: options.trigger,
      generation: Math.max(...this.slots.map((slot) => slot.generation), 0) + 1,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      migrations: [],
      plan: this.slots.map((slot) => slot.name),
      steps: [],
      replacing: null,
    };
  }

  get running(): boolean {
    return this.status.state === 'running';
  }

  /** A stop: the step in progress ends when its processes are stopped; no further step starts. */
  cancel(reason: string): void {
    this.cancelReason ??= reason;
  }

  async run(): Promise<RolloutStatus> {
    const { status, log } = this;
    log.info(
      { rollout: status.id, generation: status.generation, trigger: status.trigger },
      'rollout started',
    );
    try {
      status.migrations = await this.migrate().catch((error: Error) => {
        throw new ReplaceError(`a migration failed, nothing was changed: ${error.message}`);
      });
      if (status.migrations.length) log.info({ applied: status.migrations }, 'database migrations applied');
      for (const slot of this.slots) {
        if (this.cancelReason) throw new ReplaceError(this.cancelReason);
        status.replacing = slot.name;
        const step = await slot.replace(
          status.generation,
          this.timing,
          () => this.cancelReason !== undefined,
        );
        status.steps.push(step);
        this.metrics.drains.observe({ role: slot.role }, step.drainMs / 1000);
        log.info({ rollout: status.id, ...step }, `rollout: ${slot.name} replaced`);
      }
      this.finish('done', null);
    } catch (error) {
      const reason = this.cancelReason ?? (error as Error).message;
      this.finish(this.cancelReason ? 'cancelled' : 'aborted', reason);
      if (!(error instanceof ReplaceError)) log.error({ err: error }, 'rollout failed');
      else log.error({ rollout: status.id, reason }, `rollout ${status.state}`);
    }
    return status;
  }

  private finish(state: 'done' | 'aborted' | 'cancelled', reason: string | null): void {
    this.status.state = state;
    this.status.reason = reason;
    this.status.replacing = null;
    this.status.finishedAt = new Date().toISOString();
    this.metrics.rollouts.inc({ outcome: state });
    if (state === 'done') {
      this.log.info({ rollout: this.status.id, generation: this.status.generation }, 'rollout done');
    }
  }
}

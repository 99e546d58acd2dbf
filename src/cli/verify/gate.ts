import type { z } from 'zod';
import type { CacheSummary } from '../../daemon/cache/summary.ts';
import type { DemoTenant } from '../../daemon/db/seed/demo.ts';

/**
 * The contract every gate of `wuzctl verify` keeps. A gate turns one acceptance criterion
 * of the plan into a measured figure and a pass/fail against a threshold.
 */
export interface GateResult {
  gate: string;
  pass: boolean;
  /** The measured value the threshold applies to; null when the gate could not run. */
  figure: number | null;
  threshold: number;
  unit: string;
  details: Record<string, unknown>;
}

/** What a gate may use: the daemon under test and the demo data seeded into it. */
export interface GateContext {
  /** Base URL of the daemon, e.g. http://127.0.0.1:40123 */
  url: string;
  /** Where the daemon serves Prometheus metrics (its --metrics-port, else `${url}/metrics`). */
  metricsUrl: string;
  /** Demo tenants with their tokens (from the seed, or --tokens). */
  tenants: Array<Pick<DemoTenant, 'slug' | 'plan' | 'admin_token' | 'user_tokens'>>;
  /** The daemon's own cache counters, or null when its control socket is out of reach. */
  cacheCounters: (() => Promise<CacheSummary>) | null;
  /**
   * Base URL of the fake WuzAPI the daemon sends through (its `/_fake/messages` tells what
   * arrived), or null when there is none (a daemon given by --url without --wuzapi).
   */
  fakeWuzapi: string | null;
  /**
   * Base URL of the OTLP receiver the daemon exports its spans to (`wuzctl traces`; its
   * `GET /api/traces` lists them), or null when there is none.
   */
  traces: string | null;
  /** One line of progress, on stderr. */
  progress: (message: string) => void;
  /** Waits, saying why (a countdown on a terminal): for waits a user would think hung. */
  wait: (message: string, ms: number) => Promise<void>;
}

/** A gate's settings from the config file: its threshold plus its own knobs. */
export interface Gate<Settings extends { threshold: number } = { threshold: number }> {
  name: string;
  description: string;
  unit: string;
  /** 'min': the figure must be ≥ threshold; 'max': ≤ threshold. Config may only tighten it. */
  direction: 'min' | 'max';
  /** The defaults (the plan's threshold) and the schema a config file is checked against. */
  settings: z.ZodType<Settings>;
  defaults: Settings;
  /**
   * Settings the ephemeral daemon needs for this gate to measure what it claims (the
   * cache gate turns rate limits off: 20,000 requests from six tenants would be 429s).
   * Gates with the same needs share one daemon.
   */
  daemonEnv?: Record<string, string>;
  /** The ephemeral daemon must send through a fake WuzAPI that the runner starts. */
  needsFakeWuzapi?: boolean;
  /**
   * The ephemeral daemon must export its spans (at sampling 1.0) to a trace receiver the
   * runner starts.
   */
  needsTraceReceiver?: boolean;
  /** false: the gate measures something else (the web build) and no daemon is started for it. */
  needsDaemon?: boolean;
  run(context: GateContext, settings: Settings): Promise<GateResult>;
}

/**
 * A gate as the registry holds it: any gate's settings type, checked at the one place a
 * gate's `run` meets the settings the config gave it. (Gate<S> is not a Gate: its `run`
 * takes only S.) The settings are parsed again with the gate's own schema, so a gate never
 * runs on settings it did not define.
 */
export function defineGate<Settings extends { threshold: number }>(gate: Gate<Settings>): Gate {
  return { ...gate, run: (context, settings) => gate.run(context, gate.settings.parse(settings)) };
}

/** The gate could not measure (a missing binary, an unreachable daemon): exit 2, with the reason. */
export class GateCannotRun extends Error {
  readonly hint?: string;
  constructor(message: string, hint?: string) {
    super(message);
    this.hint = hint;
  }
}

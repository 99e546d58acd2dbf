import { startFakeWuzapi } from '../../devtools/fakeWuzapi.ts';
import { startTraceReceiver } from '../../devtools/traces/receiver.ts';
import { CliError, exitCodes } from '../output.ts';
import { loadVerifyConfig, type VerifyConfig } from './config.ts';
import { type Gate, GateCannotRun, type GateResult } from './gate.ts';
import type { Progress } from './progress.ts';
import { GATES } from './registry.ts';
import type { Outcome } from './report.ts';
import { attach, checkUrl, startEphemeral, type Target } from './target.ts';

export interface VerifyOptions {
  gates: string[];
  url?: string;
  dataDir?: string;
  tokens?: string;
  config?: string;
  /** With --url/--data-dir: the fake WuzAPI that daemon sends through. */
  wuzapi?: string;
  /** With --url/--data-dir: the `wuzctl traces` receiver that daemon exports to. */
  traces?: string;
}

/** What a gate's target adds to the daemon: the fakes it sends to. */
type Attached = Target & { fakeWuzapi: string | null; traces: string | null };

/** Exit codes of `wuzctl verify`: every gate passed, one failed, one could not run. */
export const verifyExit = { pass: 0, fail: 1, couldNotRun: 2 } as const;

export function selectGates(names: string[]): Gate[] {
  if (names.length === 0) return GATES;
  const known = new Map(GATES.map((gate) => [gate.name, gate]));
  return names.map((name) => {
    const gate = known.get(name);
    if (!gate) {
      throw new CliError(
        `unknown gate "${name}"`,
        exitCodes.usage,
        `gates: ${GATES.map((g) => g.name).join(', ')}`,
      );
    }
    return gate;
  });
}

/** Runs the gates and returns one outcome per gate, in the order asked. */
export async function runGates(options: VerifyOptions, progress: Progress): Promise<Outcome[]> {
  const gates = selectGates(options.gates);
  if (options.url) checkUrl(options.url);
  const config = await loadVerifyConfig(options.config, gates);
  const outcomes = new Map<Gate, Outcome>();
  if (options.url || options.dataDir) {
    // A gate touches only what it needs: one that needs no daemon (the bundle) does not
    // seed or rotate the demo tokens of the live daemon named.
    const standalone = gates.filter((gate) => gate.needsDaemon === false);
    const attached = gates.filter((gate) => gate.needsDaemon !== false);
    if (standalone.length > 0) await onTarget(async () => noDaemon, standalone, config, progress, outcomes);
    if (attached.length > 0) {
      await onTarget(
        async () => ({
          ...(await attach(options, config.tenants, progress.line)),
          fakeWuzapi: options.wuzapi ?? null,
          traces: options.traces ?? null,
        }),
        attached,
        config,
        progress,
        outcomes,
      );
    }
  } else {
    // One ephemeral daemon per distinct set of daemon settings the gates ask for.
    const groups = new Map<string, Gate[]>();
    for (const gate of gates) {
      const key =
        gate.needsDaemon === false
          ? 'none'
          : JSON.stringify({
              env: gate.daemonEnv ?? {},
              fake: gate.needsFakeWuzapi ?? false,
              traces: gate.needsTraceReceiver ?? false,
            });
      groups.set(key, [...(groups.get(key) ?? []), gate]);
    }
    for (const [key, group] of groups) {
      if (key === 'none') {
        await onTarget(async () => noDaemon, group, config, progress, outcomes);
        continue;
      }
      const needs = JSON.parse(key) as { env: Record<string, string>; fake: boolean; traces: boolean };
      await onTarget(() => ephemeralWith(needs, config.tenants, progress), group, config, progress, outcomes);
    }
  }
  return gates.map((gate) => outcomes.get(gate) as Outcome);
}

/** The target of gates that need no daemon: nothing to start or stop. */
const noDaemon: Attached = {
  url: '',
  metricsUrl: '',
  tenants: [],
  cacheCounters: null,
  fakeWuzapi: null,
  traces: null,
  close: async () => {},
};

/**
 * An ephemeral daemon, sending through a fake WuzAPI of our own and exporting every span
 * to a trace receiver of our own when the gates need them.
 */
async function ephemeralWith(
  needs: { env: Record<string, string>; fake: boolean; traces: boolean },
  tenants: number,
  progress: Progress,
): Promise<Attached> {
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
  };
  const env = { ...needs.env };
  try {
    let fakeWuzapi: string | null = null;
    if (needs.fake) {
      const wuzapi = await startFakeWuzapi({ port: 0 });
      closers.push(() => wuzapi.close());
      progress.line(`fake WuzAPI at ${wuzapi.url}`);
      fakeWuzapi = wuzapi.url;
      env.WUZAPI_URL = wuzapi.url;
    }
    let traces: string | null = null;
    if (needs.traces) {
      const receiver = await startTraceReceiver({ port: 0, keep: 1000 });
      closers.push(() => receiver.close());
      progress.line(`trace receiver at ${receiver.url}`);
      traces = receiver.url;
      // Every span, exported within a fifth of a second: the gate reads them right after.
      Object.assign(env, {
        WUZ_TRACING: 'on',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_TRACES_SAMPLER: '',
        OTEL_TRACES_SAMPLER_ARG: '1',
        OTEL_BSP_SCHEDULE_DELAY: '200',
      });
    }
    const target = await startEphemeral(tenants, progress.line, env);
    return {
      ...target,
      fakeWuzapi,
      traces,
      close: async () => {
        await target.close();
        await closeAll();
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

async function onTarget(
  open: () => Promise<Attached>,
  gates: Gate[],
  config: VerifyConfig,
  progress: Progress,
  outcomes: Map<Gate, Outcome>,
): Promise<void> {
  let target: Attached;
  try {
    target = await open();
  } catch (error) {
    // No daemon, no gate: each of them could not run, for this reason.
    const reason = error instanceof Error ? error.message : String(error);
    const hint = error instanceof CliError ? error.hint : undefined;
    for (const gate of gates) {
      outcomes.set(gate, couldNotRun(gate, config.settings.get(gate.name)?.threshold ?? 0, reason, hint, 0));
    }
    return;
  }
  const interrupted = () => {
    progress.stop();
    void target.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    for (const gate of gates) outcomes.set(gate, await runOne(gate, target, config, progress));
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    if (target !== noDaemon) progress.line('stopping');
    await target.close();
    progress.stop();
  }
}

async function runOne(
  gate: Gate,
  target: Attached,
  config: VerifyConfig,
  progress: Progress,
): Promise<Outcome> {
  const settings = config.settings.get(gate.name) as { threshold: number };
  const began = performance.now();
  const seconds = () => (performance.now() - began) / 1000;
  progress.line(`${gate.name}: running`);
  try {
    const result: GateResult = await gate.run(
      {
        url: target.url,
        tenants: target.tenants,
        metricsUrl: target.metricsUrl,
        cacheCounters: target.cacheCounters,
        fakeWuzapi: target.fakeWuzapi,
        traces: target.traces,
        progress: progress.line,
        wait: progress.wait,
      },
      settings,
    );
    // A failure says why on the progress line too: a CI log shows only that stream.
    const why = result.pass ? [] : ((result.details.failures as string[] | undefined) ?? []);
    progress.done(
      `${gate.name}: ${result.pass ? 'pass' : 'FAIL'} (${result.unit} ${result.figure})${why.length ? `: ${why.join('; ')}` : ''}`,
      result.pass,
    );
    return { ...result, seconds: seconds() };
  } catch (error) {
    const hint = error instanceof GateCannotRun ? error.hint : undefined;
    const reason =
      error instanceof GateCannotRun ? error.message : `unexpected: ${(error as Error)?.message ?? error}`;
    progress.done(`${gate.name}: could not run: ${reason}`, false);
    return couldNotRun(gate, settings.threshold, reason, hint, seconds());
  }
}

function couldNotRun(
  gate: Gate,
  threshold: number,
  error: string,
  hint: string | undefined,
  seconds: number,
): Outcome {
  return {
    gate: gate.name,
    pass: false,
    figure: null,
    threshold,
    unit: gate.unit,
    details: {},
    error,
    hint,
    seconds,
  };
}

export function exitCodeOf(outcomes: Outcome[]): number {
  if (outcomes.some((o) => !o.pass && !o.error)) return verifyExit.fail;
  if (outcomes.some((o) => o.error)) return verifyExit.couldNotRun;
  return verifyExit.pass;
}

/** The `--json` shape, exactly `{pass, gates: [{gate, pass, figure, threshold, unit, details}]}`. */
export function toJson(outcomes: Outcome[]) {
  return {
    pass: outcomes.length > 0 && outcomes.every((o) => o.pass),
    gates: outcomes.map(({ gate, pass, figure, threshold, unit, details, error, hint, seconds }) => ({
      gate,
      pass,
      figure,
      threshold,
      unit,
      details: {
        ...details,
        seconds: Number(seconds.toFixed(2)),
        ...(error ? { error, ...(hint ? { hint } : {}) } : {}),
      },
    })),
  };
}

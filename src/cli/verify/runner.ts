import { startFakeWuzapi } from '../../devtools/fakeWuzapi.ts';
import { CliError, exitCodes } from '../output.ts';
import { loadVerifyConfig, type VerifyConfig } from './config.ts';
import { type Gate, GateCannotRun, type GateResult } from './gate.ts';
import type { Progress } from './progress.ts';
import { GATES } from './registry.ts';
import type { Outcome } from './report.ts';
import { attach, startEphemeral, type Target } from './target.ts';

export interface VerifyOptions {
  gates: string[];
  url?: string;
  dataDir?: string;
  tokens?: string;
  config?: string;
  /** With --url/--data-dir: the fake WuzAPI that daemon sends through. */
  wuzapi?: string;
}

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
          : JSON.stringify({ env: gate.daemonEnv ?? {}, fake: gate.needsFakeWuzapi ?? false });
      groups.set(key, [...(groups.get(key) ?? []), gate]);
    }
    for (const [key, group] of groups) {
      if (key === 'none') {
        await onTarget(async () => noDaemon, group, config, progress, outcomes);
        continue;
      }
      const { env, fake } = JSON.parse(key) as { env: Record<string, string>; fake: boolean };
      await onTarget(
        () => ephemeralWith(fake, env, config.tenants, progress),
        group,
        config,
        progress,
        outcomes,
      );
    }
  }
  return gates.map((gate) => outcomes.get(gate) as Outcome);
}

/** The target of gates that need no daemon: nothing to start or stop. */
const noDaemon: Target & { fakeWuzapi: null } = {
  url: '',
  metricsUrl: '',
  tenants: [],
  cacheCounters: null,
  fakeWuzapi: null,
  close: async () => {},
};

/** An ephemeral daemon, sending through a fake WuzAPI of our own when the gates need one. */
async function ephemeralWith(
  fake: boolean,
  env: Record<string, string>,
  tenants: number,
  progress: Progress,
): Promise<Target & { fakeWuzapi: string | null }> {
  if (!fake) return { ...(await startEphemeral(tenants, progress.line, env)), fakeWuzapi: null };
  const wuzapi = await startFakeWuzapi({ port: 0 });
  progress.line(`fake WuzAPI at ${wuzapi.url}`);
  try {
    const target = await startEphemeral(tenants, progress.line, { ...env, WUZAPI_URL: wuzapi.url });
    return {
      ...target,
      fakeWuzapi: wuzapi.url,
      close: async () => {
        await target.close();
        await wuzapi.close();
      },
    };
  } catch (error) {
    await wuzapi.close();
    throw error;
  }
}

async function onTarget(
  open: () => Promise<Target & { fakeWuzapi: string | null }>,
  gates: Gate[],
  config: VerifyConfig,
  progress: Progress,
  outcomes: Map<Gate, Outcome>,
): Promise<void> {
  let target: Target & { fakeWuzapi: string | null };
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
  target: Target & { fakeWuzapi: string | null },
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
        progress: progress.line,
        wait: progress.wait,
      },
      settings,
    );
    progress.done(
      `${gate.name}: ${result.pass ? 'pass' : 'FAIL'} (${result.unit} ${result.figure})`,
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

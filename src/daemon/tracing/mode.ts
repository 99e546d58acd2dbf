/**
 * Whether a process traces. Decided before anything is imported (the preload must come
 * first, see preload.ts), so this file imports nothing and reads only argv and the
 * environment: `--tracing <mode>` (or WUZ_TRACING) is `auto`, `on` or `off`; `auto`, the
 * default, traces when an OTLP endpoint is configured, the OpenTelemetry convention.
 */
export type TracingMode = 'auto' | 'on' | 'off';

export const TRACING_MODES: readonly TracingMode[] = ['auto', 'on', 'off'];

/** The standard variables that name where spans go; any of them turns `auto` on. */
export const OTLP_ENDPOINT_VARIABLES = [
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
] as const;

/** `auto` resolved: on when an endpoint is set, unless OTEL_SDK_DISABLED says otherwise. */
export function tracingEnabled(mode: TracingMode, env: NodeJS.ProcessEnv): boolean {
  if (mode === 'off') return false;
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  if (mode === 'on') return true;
  return OTLP_ENDPOINT_VARIABLES.some((name) => Boolean(env[name]?.trim()));
}

/** The mode a command line asks for: `--tracing x` or `--tracing=x`, else WUZ_TRACING, else auto. */
export function tracingModeOf(argv: readonly string[], env: NodeJS.ProcessEnv): string {
  for (let i = argv.length - 1; i >= 0; i--) {
    const arg = argv[i] as string;
    if (arg === '--tracing') return argv[i + 1] ?? '';
    if (arg.startsWith('--tracing=')) return arg.slice('--tracing='.length);
  }
  return env.WUZ_TRACING?.trim() || 'auto';
}

/**
 * `wuzctl serve` with tracing on: the CLI entry loads the preload first. An invalid mode
 * is not traced here; the option's validation reports it (config/options.ts).
 */
export function serveWantsTracing(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  if (argv[2] !== 'serve') return false;
  const mode = tracingModeOf(argv, env);
  return (TRACING_MODES as readonly string[]).includes(mode) && tracingEnabled(mode as TracingMode, env);
}

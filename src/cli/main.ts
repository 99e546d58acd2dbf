/**
 * The CLI's entry point. `wuzctl serve` with tracing on starts OpenTelemetry before any
 * other module is loaded: instrumentation patches a module as it is imported, so the
 * preload has to come first (what `node --import` does for the daemon's children).
 * Everything else, tracing off or another command, costs one small module.
 */
import { serveWantsTracing } from '../daemon/tracing/mode.ts';

if (serveWantsTracing(process.argv, process.env)) await import('../daemon/tracing/preload.ts');
await import('./program.ts');

/**
 * The CLI's entry point. `wuzctl serve` with tracing on starts OpenTelemetry before any
 * other module is loaded: instrumentation patches a module as it is imported, so the
 * preload has to come first (what `node --import` does for the daemon's children).
 * Everything else, tracing off or another command, costs one small module. The compile
 * cache goes on first, so that every module after it is read from V8's code cache.
 */
import { serveWantsTracing } from '../daemon/tracing/mode.ts';
import { enableCompileCache } from './compileCache.ts';

enableCompileCache();
if (serveWantsTracing(process.argv, process.env)) await import('../daemon/tracing/preload.ts');
await import('./program.ts');

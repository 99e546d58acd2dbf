/**
 * Loaded before anything else (`node --import` for the daemon's children, the first
 * import of the CLI for the supervisor) and only when tracing is on; see mode.ts.
 *
 * ES modules are patched as they are imported by a loader hook, so the hook is registered
 * first and limited to the modules we instrument: hooking every module costs seconds of
 * start-up (docs/OBSERVABILITY.md has the figures). The synchronous in-thread hooks of
 * import-in-the-middle are used where Node supports them (no loader thread, no IPC per
 * module); the documented asynchronous hook otherwise.
 */
import module from 'node:module';
import { register, supportsSyncHooks } from 'import-in-the-middle/register-hooks.mjs';

const INSTRUMENTED = ['express', 'ioredis', 'pg', 'http', 'https', 'node:http', 'node:https'];

if (supportsSyncHooks()) register({ include: INSTRUMENTED });
else {
  module.register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
    data: { include: INSTRUMENTED },
  });
}

const roleAt = process.argv.indexOf('--role');
const role = roleAt === -1 ? 'supervisor' : (process.argv[roleAt + 1] ?? 'supervisor');
const { startTracing } = await import('./sdk.ts');
startTracing(role);

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * What a process loads only because of how it imports, not because it needs it. Each
 * entry's code is loaded in a fresh Node with the locale-aware methods counted and every
 * resolved package noted, then we read what came in:
 * - undici: an ESM `import http from 'node:http'` reads node:http's lazy WebSocket
 *   getters and loads it (~14 MB, ~50 ms per process): values come from src/nodeHttp.ts;
 * - ICU: `toLocaleString` & co. touch ICU's data (~5 MB of RSS, ~20 ms) in every worker
 *   that loads a module calling one at import time;
 * - packages a process needs later or never: BullMQ in an API worker (its first job loads
 *   it: queues/onDemand.ts, ~6 MB), PGlite and BullMQ before the supervisor starts its
 *   services. (The OpenTelemetry API comes with prom-client, for its exemplars.)
 */
const ENTRIES: Record<string, { entry: string; notAtStart: string[] }> = {
  'API worker': { entry: 'src/daemon/api/worker.ts', notAtStart: ['bullmq', '@opentelemetry/sdk-trace'] },
  'queue worker': { entry: 'src/daemon/workers/queueWorker.ts', notAtStart: ['@opentelemetry/sdk-trace'] },
  supervisor: {
    entry: 'src/daemon/supervisor/supervisor.ts',
    notAtStart: ['bullmq', '@electric-sql/pglite'],
  },
  'CLI client': { entry: 'src/cli/client.ts', notAtStart: ['bullmq', 'prom-client', '@electric-sql/pglite'] },
};

const PROBE = `
const calls = [];
const watch = (owner, name, label) => {
  const original = owner[name];
  owner[name] = function (...args) { calls.push(label); return original.apply(this, args); };
};
watch(Number.prototype, 'toLocaleString', 'Number#toLocaleString');
watch(BigInt.prototype, 'toLocaleString', 'BigInt#toLocaleString');
watch(Date.prototype, 'toLocaleString', 'Date#toLocaleString');
watch(Date.prototype, 'toLocaleDateString', 'Date#toLocaleDateString');
watch(Date.prototype, 'toLocaleTimeString', 'Date#toLocaleTimeString');
watch(String.prototype, 'localeCompare', 'String#localeCompare');
watch(Array.prototype, 'toLocaleString', 'Array#toLocaleString');
for (const name of Object.getOwnPropertyNames(Intl)) if (typeof Intl[name] === 'function') watch(Intl, name, 'Intl.' + name);
const packages = new Set();
const { registerHooks } = await import('node:module');
registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    const name = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(resolved.url)?.[1];
    if (name) packages.add(name);
    return resolved;
  },
});
await import(process.argv[1]);
const undici = process.moduleLoadList.filter((entry) => entry.includes('deps/undici')).length > 0;
process.stdout.write(JSON.stringify({ undici, locale: [...new Set(calls)], packages: [...packages] }));
`;

const root = fileURLToPath(new URL('../../', import.meta.url));

async function load(entry: string): Promise<{ undici: boolean; locale: string[]; packages: string[] }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', PROBE, `${root}${entry}`],
    { cwd: root, timeout: 60_000 },
  );
  return JSON.parse(stdout);
}

describe("loading a process's code", () => {
  for (const [name, { entry, notAtStart }] of Object.entries(ENTRIES)) {
    it(`${name}: loads neither undici nor a locale-aware method, nor ${notAtStart.join(', ')}`, async () => {
      const { undici, locale, packages } = await load(entry);
      expect({ undici, locale }).toEqual({ undici: false, locale: [] });
      expect(packages.filter((loaded) => notAtStart.includes(loaded))).toEqual([]);
    });
  }

  it('sees both when they are loaded (the probe can fail)', async () => {
    const { writeFile, mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/lean-imports-`);
    try {
      const file = `${dir}/heavy.mjs`;
      await writeFile(
        file,
        `import http from 'node:http';\nimport vary from '${root}node_modules/vary/index.js';\n` +
          "export const text = (1234).toLocaleString('en') + http.METHODS.length + typeof vary;\n",
      );
      const { stdout } = await promisify(execFile)(process.execPath, [
        '--input-type=module',
        '-e',
        PROBE,
        file,
      ]);
      expect(JSON.parse(stdout)).toEqual({
        undici: true,
        locale: ['Number#toLocaleString'],
        packages: ['vary'],
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

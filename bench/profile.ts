/**
 * Where an API worker's time and allocations go under one `wuzctl bench` scenario: a CPU
 * profile and a sampling allocation profile (every allocation, also what the GC freed
 * since) of the worker, taken through its inspector while the load runs — or of the
 * supervisor, where the embedded PGlite runs (`--process supervisor`):
 *   npm run bench:profile                                   (cached-read, 10 s, 50 connections)
 *   npm run bench:profile -- uncached-read --duration 20s --top 30
 *   npm run bench:profile -- mixed --out-dir prof --dist    (also writes .cpuprofile/.heapprofile for DevTools)
 *   npm run bench:profile -- uncached-read --process supervisor
 *   npm run bench:profile -- uncached-read --external      (the machine's PostgreSQL and Redis,
 *                                                           a new database: BENCH_PG_URL, REDIS_URL)
 * The ephemeral daemon runs one API worker, so every request is the profiled worker's and
 * the per-request figures are exact; its limits are too high to reach (every request is
 * served). The worker's inspector is opened with SIGUSR1 on 127.0.0.1:9229, which must be
 * free. Figures are attribution, not speed: the profilers slow the worker down.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UNREACHABLE_LIMITS } from '../src/cli/bench/limits.ts';
import { type BenchResult, runBench } from '../src/cli/bench/run.ts';
import {
  countOption,
  durationOption,
  option,
  scenarioArgument,
  seedDemo,
  serve,
  statusOf,
  warmUp,
  withServices,
  withTempDir,
} from './lib.ts';

const scenario = scenarioArgument('cached-read');
const durationSeconds = durationOption('--duration', '10s') / 1000;
const connections = countOption('--connections', '50');
const top = countOption('--top', '20');
const outDir = process.argv.includes('--out-dir') ? option('--out-dir', '.') : undefined;
const INSPECTOR = 'http://127.0.0.1:9229';
const PROCESSES = ['api', 'supervisor'] as const;
const target = option('--process', 'api') as (typeof PROCESSES)[number];
if (!PROCESSES.includes(target)) {
  process.stderr.write(
    `error: --process is api or supervisor, not ${target}\nhint: npm run bench:profile -- --process supervisor\n`,
  );
  process.exit(2);
}
const label = target === 'api' ? 'the API worker' : 'the supervisor';
const external = process.argv.includes('--external');

/** A Chrome DevTools Protocol session over the inspector's WebSocket. */
async function devtools(url: string) {
  const socket = new WebSocket(url);
  const pending = new Map<number, (message: { result?: unknown; error?: { message: string } }) => void>();
  let next = 0;
  socket.onmessage = (event) => {
    const message = JSON.parse(String(event.data));
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  };
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  return {
    call: <T>(method: string, params: object = {}) =>
      new Promise<T>((resolve, reject) => {
        const id = ++next;
        pending.set(id, (message) =>
          message.error
            ? reject(new Error(`${method}: ${message.error.message}`))
            : resolve(message.result as T),
        );
        socket.send(JSON.stringify({ id, method, params }));
      }),
    close: () => socket.close(),
  };
}

async function inspectorOf(pid: number): Promise<string> {
  if (
    await fetch(`${INSPECTOR}/json/list`).then(
      () => true,
      () => false,
    )
  )
    throw new Error('something listens on 127.0.0.1:9229 already; stop it (a debugger?) and run again');
  process.kill(pid, 'SIGUSR1');
  for (let tries = 0; tries < 50; tries++) {
    const list = await fetch(`${INSPECTOR}/json/list`).then(
      (r) => r.json() as Promise<Array<{ webSocketDebuggerUrl: string }>>,
      () => null,
    );
    if (list?.[0]) return list[0].webSocketDebuggerUrl;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`pid ${pid} opened no inspector on 127.0.0.1:9229`);
}

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

/** "fn package:line" — the package for node_modules, the file for ours, node: for Node's own. */
function where(frame: CallFrame): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url)?.[1];
  const file = pkg ?? (frame.url ? frame.url.replace(/^.*\/(src|dist)\//, '').replace(/^file:\/\//, '') : '');
  const name = frame.functionName || '(anonymous)';
  return file ? `${name} ${file}:${frame.lineNumber + 1}` : name;
}

function tally(items: Iterable<[string, number]>): Array<[string, number]> {
  const totals = new Map<string, number>();
  for (const [key, value] of items) totals.set(key, (totals.get(key) ?? 0) + value);
  return [...totals].sort((a, b) => b[1] - a[1]);
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame }>;
  samples: number[];
  timeDeltas: number[];
}

function cpuBySelf(profile: CpuProfile): Array<[string, number]> {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  return tally(
    profile.samples.map((id, i) => [where(frames.get(id) as CallFrame), profile.timeDeltas[i] ?? 0]),
  );
}

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

function allocationsBySelf(head: HeapNode): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  const walk = (node: HeapNode) => {
    if (node.selfSize) out.push([where(node.callFrame), node.selfSize]);
    for (const child of node.children) walk(child);
  };
  walk(head);
  return tally(out);
}

const result = await withServices(external, (servicesEnv) =>
  withTempDir(async (dir) => {
    const env = { ...servicesEnv, ...UNREACHABLE_LIMITS };
    const served = await serve(dir, env, ['--api-workers', '1']);
    try {
      const seeded = await seedDemo(dir, env);
      const status = await statusOf(dir, env);
      const pid = target === 'api' ? status.children.find((child) => child.role === 'api')?.pid : status.pid;
      if (!pid) throw new Error(`no pid for ${label} in \`wuzctl status\``);
      const requests = await scenario.requests({ url: served.url, tenants: seeded.tenants });
      const options = { connections, durationSeconds, warmupSeconds: 0 };
      await warmUp(served.url, scenario, requests, connections); // unprofiled
      const session = await devtools(await inspectorOf(pid));
      try {
        await session.call('Profiler.enable');
        await session.call('Profiler.setSamplingInterval', { interval: 200 });
        await session.call('HeapProfiler.startSampling', {
          samplingInterval: 8192,
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: true,
        });
        await session.call('Profiler.start');
        process.stderr.write(
          `profiling ${label} (pid ${pid}) under ${scenario.name} for ${durationSeconds} s…\n`,
        );
        const bench: BenchResult = await runBench(served.url, scenario.name, requests, options);
        const { profile: cpu } = await session.call<{ profile: CpuProfile }>('Profiler.stop');
        const { profile: heap } = await session.call<{ profile: { head: HeapNode } }>(
          'HeapProfiler.stopSampling',
        );
        if (outDir) {
          await mkdir(outDir, { recursive: true });
          await writeFile(path.join(outDir, `${target}-${scenario.name}.cpuprofile`), JSON.stringify(cpu));
          await writeFile(path.join(outDir, `${target}-${scenario.name}.heapprofile`), JSON.stringify(heap));
        }
        return { bench, cpu, heap };
      } finally {
        session.close();
      }
    } finally {
      await served.stop();
    }
  }),
);

const { bench, cpu, heap } = result;
const requests = bench.requests;
const cpuRows = cpuBySelf(cpu);
const cpuTotal = cpuRows.reduce((sum, [name, us]) => sum + (name === '(idle)' ? 0 : us), 0);
const allocRows = allocationsBySelf(heap.head);
const allocTotal = allocRows.reduce((sum, [, bytes]) => sum + bytes, 0);
const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)}%`.padStart(6);
console.log(
  `${scenario.name}: ${bench.requestsPerSecond} req/s while profiled, ${requests} requests, one API worker, ${external ? 'external PostgreSQL and Redis' : 'embedded services'}; profiled: ${label}`,
);
console.log(
  `  CPU: ${(cpuTotal / requests).toFixed(0)} µs per request in ${label} (not idle); allocated: ${(allocTotal / requests / 1024).toFixed(1)} KB per request`,
);
console.log('\n  CPU, self time (not idle)');
for (const [name, us] of cpuRows.filter(([name]) => name !== '(idle)').slice(0, top))
  console.log(`  ${pct(us, cpuTotal)}  ${name}`);
console.log('\n  Allocations, by the function that allocated');
for (const [name, bytes] of allocRows.slice(0, top)) console.log(`  ${pct(bytes, allocTotal)}  ${name}`);
if (outDir) console.log(`\n  profiles in ${outDir}/ (open them in Chrome DevTools)`);

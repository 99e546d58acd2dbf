/**
 * Where the CPU of one `wuzctl bench` scenario goes, process by process, as the kernel
 * counted it: `perf` samples a process only while it runs on a CPU.
 *   npm run bench:perf                                   (uncached-read, 10 s, 50 connections)
 *   npm run bench:perf -- cached-read --top 25
 *   npm run bench:perf -- uncached-read --external       (the machine's PostgreSQL and Redis)
 *   npm run bench:perf -- --json
 *
 * Why next to bench:profile: V8's sampler stamps wall-clock time on whatever a thread was
 * running, also while the thread waited for a CPU. On two busy cores a worker is often
 * preempted right after a write wakes its peer, and the sampler put 16–21 % of an uncached
 * read on `writev` where perf finds the whole kernel at ~4 %. Use bench:profile for the JS
 * call tree and allocations, this for how much each part costs.
 *
 * Needs Linux perf (Debian: linux-perf) allowed to sample the machine (root, or
 * kernel.perf_event_paranoid ≤ 0). The ephemeral daemon runs with --perf-basic-prof so its
 * JIT code has names; it has the default two API workers and limits too high to reach.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { UNREACHABLE_LIMITS } from '../src/cli/bench/limits.ts';
import { runBench } from '../src/cli/bench/run.ts';
import {
  countOption,
  durationOption,
  type Env,
  scenarioArgument,
  seedDemo,
  serve,
  statusOf,
  warmUp,
  withServices,
  withTempDir,
} from './lib.ts';

const scenario = scenarioArgument('uncached-read');
const durationSeconds = durationOption('--duration', '10s') / 1000;
const connections = countOption('--connections', '50');
const top = countOption('--top', '12');
const external = process.argv.includes('--external');
const asJson = process.argv.includes('--json');
const FREQUENCY = 997; // Hz, off the kernel's tick so samples do not beat with it

/** What a sample's symbol belongs to: the first pattern that matches names it. */
const CATEGORIES: Array<[string, RegExp]> = [
  ['kernel (syscalls, TCP, scheduler)', /^\[kernel/],
  ['brotli', /Brotli|CreateBackwardReferences|EncodeData|ZopfliC|StoreMetaBlock|BlockSplit|Histogram/],
  ['gzip (zlib)', /deflate|longest_match|fill_window|crc32|compress_block|send_tree|build_tree|pqdownheap/],
  ['garbage collector', /Scaveng|MarkCompact|Sweep|Heap::|Evacuat|Marking|MinorMS|GCTracer|RecordWrite/],
  ['V8 compiler (JIT)', /compiler::|Turbofan|Maglev|Sparkplug/],
  ['JSON (V8)', /Json(Stringifier|Parser)|JSDataObjectBuilder/],
  ['regular expressions', /RegExp/],
  ['HTTP parser (llhttp)', /llhttp/],
  ["WebAssembly (PGlite's PostgreSQL)", /wasm-function|Wasm/],
  ['memory (malloc/free/memcpy)', /malloc|_int_free|cfree|memcpy|memmove|memset/],
];

interface Sample {
  pid: number;
  comm: string;
  sym: string;
  dso: string;
}

/** `perf script` lines: "comm pid address symbol (dso)". */
function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*(.+?)\s+(\d+)\s+[0-9a-f]+\s+(.*?)\s*\(([^()]*)\)\s*$/.exec(line);
    if (match)
      samples.push({ comm: match[1] ?? '', pid: Number(match[2]), sym: match[3] ?? '', dso: match[4] ?? '' });
  }
  return samples;
}

/** JIT-compiled JavaScript by where it lives: a package, our code, or Node's own. */
function jsOwner(sym: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(sym)?.[1];
  if (pkg) return `JS: ${pkg}`;
  if (/\/dist\/|\/src\//.test(sym)) return 'JS: ours';
  if (/node:/.test(sym)) return "JS: Node's own";
  return 'JS: other';
}

function categoryOf(sample: Sample): string {
  const name = sample.dso.startsWith('[kernel') ? `[kernel] ${sample.sym}` : sample.sym;
  for (const [label, pattern] of CATEGORIES) if (pattern.test(name)) return label;
  if (sample.sym.startsWith('JS:') || sample.dso.startsWith('/tmp/perf-')) return jsOwner(sample.sym);
  if (/^Builtins_/.test(sample.sym)) return 'V8 builtins (property access, calls, strings)';
  if (/^v8::|^Runtime_/.test(sample.sym)) return 'V8 runtime';
  if (/^node::|^uv_|^uv__/.test(sample.sym)) return 'Node and libuv (C++)';
  return 'other native';
}

/** The JIT symbol maps in /tmp (`perf-<pid>.map`, written by --perf-basic-prof). */
const jitMaps = async () => (await readdir('/tmp')).filter((file) => /^perf-\d+\.map$/.test(file));

function alive(map: string): boolean {
  try {
    process.kill(Number(/\d+/.exec(map)?.[0]), 0);
    return true;
  } catch {
    return false;
  }
}

const perfVersion = await execa('perf', ['--version'], { reject: false });
if (perfVersion.exitCode !== 0) {
  process.stderr.write(
    'error: Linux perf is not installed or does not run here\nhint: apt-get install linux-perf (or use npm run bench:profile)\n',
  );
  process.exit(2);
}

const result = await withServices(external, (servicesEnv) =>
  withTempDir(async (dir) => {
    const env: Env = { ...servicesEnv, ...UNREACHABLE_LIMITS };
    // Only the daemon's processes write JIT maps (/tmp/perf-<pid>.map), removed at the end.
    const daemonEnv: Env = {
      ...env,
      NODE_OPTIONS: [servicesEnv.NODE_OPTIONS, '--perf-basic-prof'].filter(Boolean).join(' '),
    };
    const mapsBefore = new Set(await jitMaps());
    // --perf-basic-prof also makes V8 write its log (isolate-…-v8.log) in the working
    // directory: the daemon's goes into the temporary dir, removed with it.
    const cwd = process.cwd();
    process.chdir(dir);
    const served = await serve(dir, daemonEnv).catch((error: unknown) => {
      process.chdir(cwd);
      throw error;
    });
    try {
      const seeded = await seedDemo(dir, env);
      const status = await statusOf(dir, env);
      const roles = new Map<number, string>();
      if (status.pid) roles.set(status.pid, 'supervisor');
      for (const child of status.children)
        if (child.pid) roles.set(child.pid, `${child.role}#${child.index}`);
      roles.set(process.pid, 'load generator (wuzctl bench)');
      const requests = await scenario.requests({ url: served.url, tenants: seeded.tenants });
      await warmUp(served.url, scenario, requests, connections);
      const data = path.join(dir, 'perf.data');
      process.stderr.write(
        `sampling every process with perf under ${scenario.name} for ${durationSeconds} s…\n`,
      );
      const perf = execa(
        'perf',
        [
          'record',
          '-e',
          'cpu-clock',
          '-F',
          String(FREQUENCY),
          '-a',
          '-o',
          data,
          '--',
          'sleep',
          String(durationSeconds),
        ],
        { reject: false },
      );
      const bench = await runBench(served.url, scenario.name, requests, {
        connections,
        durationSeconds,
        warmupSeconds: 0,
      });
      const recorded = await perf;
      if (recorded.exitCode !== 0)
        throw new Error(
          `perf record failed: ${recorded.stderr.trim().split('\n').at(-1)} (root, or kernel.perf_event_paranoid ≤ 0)`,
        );
      const script = await execa('perf', ['script', '-i', data, '-F', 'comm,pid,ip,sym,dso'], {
        maxBuffer: 1024 * 1024 * 1024,
        reject: false,
      });
      return { bench, samples: parseSamples(script.stdout), roles };
    } finally {
      await served.stop();
      process.chdir(cwd);
      // The maps this run's processes wrote (the daemon's, `wuzctl stop`'s), now they are gone.
      const left = (await jitMaps()).filter((file) => !mapsBefore.has(file) && !alive(file));
      await Promise.all(left.map((file) => rm(path.join('/tmp', file), { force: true })));
    }
  }),
);

const { bench, samples, roles } = result;
const usPerSample = 1e6 / FREQUENCY;
const perRequest = (n: number) => (n * usPerSample) / bench.requests;
const roleOf = (sample: Sample) =>
  roles.get(sample.pid) ??
  (/redis-server/.test(sample.comm) ? 'redis-server' : /postgres/.test(sample.comm) ? 'postgres' : null);

const byRole = new Map<string, Sample[]>();
for (const sample of samples) {
  const role = roleOf(sample);
  if (role) byRole.set(role, [...(byRole.get(role) ?? []), sample]);
}
const report = [...byRole]
  .sort((a, b) => b[1].length - a[1].length)
  .map(([role, own]) => {
    const tally = new Map<string, number>();
    const symbols = new Map<string, number>();
    for (const sample of own) {
      const category = categoryOf(sample);
      tally.set(category, (tally.get(category) ?? 0) + 1);
      symbols.set(sample.sym || sample.dso, (symbols.get(sample.sym || sample.dso) ?? 0) + 1);
    }
    const rows = (map: Map<string, number>) =>
      [...map]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([name, n]) => ({ name, percent: (100 * n) / own.length, usPerRequest: perRequest(n) }));
    return { role, usPerRequest: perRequest(own.length), categories: rows(tally), symbols: rows(symbols) };
  });

if (asJson) {
  console.log(
    JSON.stringify(
      {
        scenario: scenario.name,
        external,
        requestsPerSecond: bench.requestsPerSecond,
        requests: bench.requests,
        processes: report,
      },
      null,
      2,
    ),
  );
} else {
  console.log(
    `${scenario.name}: ${bench.requestsPerSecond} req/s while sampled, ${bench.requests} requests, ${external ? 'external PostgreSQL and Redis' : 'embedded services'}; CPU on a core, by perf (${FREQUENCY} Hz)`,
  );
  for (const { role, usPerRequest, categories, symbols } of report) {
    console.log(`\n  ${role}: ${usPerRequest.toFixed(0)} µs of CPU per request`);
    for (const row of categories)
      console.log(
        `    ${row.percent.toFixed(1).padStart(5)}%  ${row.usPerRequest.toFixed(1).padStart(6)} µs  ${row.name}`,
      );
    console.log('    hottest symbols:');
    for (const row of symbols.slice(0, Math.min(top, 8)))
      console.log(`    ${row.percent.toFixed(1).padStart(5)}%  ${row.name.slice(0, 110)}`);
  }
}

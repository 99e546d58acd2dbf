/**
 * The wait of a user who types the README's first command, from pressing enter to a
 * daemon whose /readyz answers 200, and where it goes:
 *   npm run bench:wait                      (3 rounds)
 *   npm run bench:wait -- --rounds 5 --json
 *   npm run bench:wait -- --repo ../old-checkout       (the same for another checkout)
 *
 * `npx wuzctl serve` runs as the README says it — from the repository, with a shell's PATH
 * (no node_modules/.bin, so npx and the system Node do what they do for a new user) — on a
 * new data dir (first start: creates the database) and again on it (restart). The pieces:
 * npx itself, the launcher (which re-runs the CLI under the pinned Node 24 when the
 * system Node is older), the CLI's imports, and the daemon's phases from its "ready" line.
 * It runs dist/: it rebuilds it first (tsc) so the figures are those of the sources.
 */
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { withTempDir } from './lib.ts';

const option = (name: string) =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined;
/** --repo DIR measures another checkout (an older commit, for a before/after). */
const repo = path.resolve(option('--repo') ?? fileURLToPath(new URL('..', import.meta.url)));
const json = process.argv.includes('--json');
const rounds = Number(option('--rounds')) || 3;
const pinnedNode = path.join(repo, 'node_modules', 'node', 'bin', 'node');

/** A new user's shell: PATH without the project's node_modules/.bin, no WUZ_* settings. */
function shellEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('WUZ_') && !key.startsWith('npm_')) env[key] = value;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(':')
    .filter((entry) => !entry.includes('node_modules'))
    .join(':');
  delete env.REDIS_URL;
  delete env.DATABASE_URL;
  return { ...env, ...extra };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

/** Wall time of a short command, median of `rounds`. */
async function timed(file: string, args: string[]): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const began = performance.now();
    await execa(file, args, { cwd: repo, env: shellEnv({}), extendEnv: false });
    times.push(performance.now() - began);
  }
  return Math.round(median(times));
}

interface Start {
  /** Enter → /readyz 200. */
  readyMs: number;
  /** What the banner said the wait was. */
  bannerMs: number;
  phases: Record<string, number>;
}

async function startOnce(dataDir: string): Promise<Start> {
  const port = await freePort();
  const env = shellEnv({ WUZ_DATA_DIR: dataDir, WUZ_PORT: String(port), LOG_LEVEL: 'info' });
  const began = performance.now();
  const daemon = execa('npx', ['wuzctl', 'serve'], { cwd: repo, env, extendEnv: false, reject: false });
  let out = '';
  let exited = false;
  void daemon.then(() => {
    exited = true;
  });
  daemon.stdout?.on('data', (chunk: Buffer) => {
    out += chunk;
  });
  let readyMs = 0;
  for (;;) {
    const status = await fetch(`http://127.0.0.1:${port}/readyz`)
      .then((response) => response.status)
      .catch(() => 0);
    if (status === 200) {
      readyMs = performance.now() - began;
      break;
    }
    if (exited) throw new Error(`wuzctl serve exited: ${out}`);
    if (performance.now() - began > 60_000) throw new Error(`not ready within 60 s: ${out}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  while (!/ready in/.test(out)) await new Promise((resolve) => setTimeout(resolve, 10));
  const bannerMs = Number(/ready in ([\d.]+) s/.exec(out)?.[1]) * 1000;
  await execa(pinnedNode, [path.join(repo, 'dist/cli/main.js'), 'stop', '--data-dir', dataDir], {
    env: shellEnv({}),
    extendEnv: false,
  });
  await daemon;
  // Versions before `wuzctl logs` kept no log file in the foreground: no phases then.
  const log = await readFile(path.join(dataDir, 'wuzctl.log'), 'utf8').catch(() => '');
  const ready = log
    .split('\n')
    .filter((line) => line.includes('"msg":"ready"'))
    .map((line) => JSON.parse(line) as { phases?: Record<string, number> })
    .at(-1);
  return { readyMs: Math.round(readyMs), bannerMs, phases: ready?.phases ?? {} };
}

if (!json) process.stderr.write('building dist/ (tsc) so that npx runs these sources…\n');
await execa('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: repo });

const systemNode = (await execa('node', ['--version'], { env: shellEnv({}), extendEnv: false })).stdout;
const pieces = {
  'node -e 0 (pinned Node 24)': await timed(pinnedNode, ['-e', '0']),
  'CLI imports: node24 dist/cli/main.js --version': await timed(pinnedNode, [
    'dist/cli/main.js',
    '--version',
  ]),
  [`launcher: node bin/wuzctl --version (system node ${systemNode})`]: await timed('node', [
    'bin/wuzctl',
    '--version',
  ]),
  'npx wuzctl --version': await timed('npx', ['wuzctl', '--version']),
};

const firsts: Start[] = [];
const restarts: Start[] = [];
for (let i = 0; i < rounds; i++) {
  await withTempDir(async (dir) => {
    const dataDir = path.join(dir, 'data');
    firsts.push(await startOnce(dataDir));
    restarts.push(await startOnce(dataDir));
  });
  if (!json) process.stderr.write(`round ${i + 1}/${rounds} done\n`);
}

const summary = (starts: Start[]) => {
  const phases: Record<string, number> = {};
  for (const key of Object.keys(starts[0]?.phases ?? {})) {
    phases[key] = median(starts.map((s) => s.phases[key] ?? 0));
  }
  return {
    readyMs: median(starts.map((s) => s.readyMs)),
    bannerMs: median(starts.map((s) => s.bannerMs)),
    all: starts.map((s) => s.readyMs),
    phases,
  };
};
const result = { rounds, pieces, firstStart: summary(firsts), restart: summary(restarts) };

if (json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  console.log(`npx wuzctl serve → /readyz 200 (median of ${rounds}; embedded Redis and PGlite):`);
  for (const [label, s] of [
    ['first start (new data dir)', result.firstStart],
    ['restart (same data dir)', result.restart],
  ] as const) {
    console.log(
      `  ${label.padEnd(27)} ${s.readyMs} ms (rounds: ${s.all.join(', ')}; the banner said ${s.bannerMs} ms)`,
    );
    console.log(
      `    phases: ${Object.entries(s.phases)
        .map(([k, v]) => `${k} ${v} ms`)
        .join(', ')}`,
    );
  }
  console.log('pieces (median wall time):');
  for (const [label, ms] of Object.entries(pieces)) console.log(`  ${label.padEnd(62)} ${ms} ms`);
}

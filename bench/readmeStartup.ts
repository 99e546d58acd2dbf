/**
 * The wait of a user who types the README's first command, from pressing enter to a
 * daemon whose /readyz answers 200, and where it goes:
 *   npm run bench:wait                      (3 rounds)
 *   npm run bench:wait -- --rounds 5 --json
 *   npm run bench:wait -- --repo ../old-checkout       (the same for another checkout)
 *   npm run bench:wait -- --command "npx wuzctl serve" (another command than the README's)
 *
 * The command is read from the README (its first line, after `npm ci &&`) and runs as a
 * new user runs it — from the repository, with a shell's PATH (no node_modules/.bin, so
 * npm, npx and the system Node do what they do for that user) — on a new data dir (first
 * start: creates the database) and again on it (restart), with the embedded services and
 * with REDIS_URL and DATABASE_URL (Redis db 14, a database it creates and drops: see
 * withExternalServices; BENCH_PG_URL, REDIS_URL). The pieces: npm and npx
 * themselves, the launcher (which re-runs the CLI under the pinned Node 24 when the
 * system Node is older), the CLI's imports, and the daemon's phases from its "ready" line.
 * It runs dist/: it rebuilds it first (tsc) so the figures are those of the sources.
 */
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { withExternalServices, withTempDir } from './lib.ts';
import { asNewUser, readmeStartCommand } from './readmeCommand.ts';

const option = (name: string) =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined;
/** --repo DIR measures another checkout (an older commit, for a before/after). */
const repo = path.resolve(option('--repo') ?? fileURLToPath(new URL('..', import.meta.url)));
const json = process.argv.includes('--json');
const rounds = Number(option('--rounds')) || 3;
const [commandFile, ...commandArgs] = option('--command')?.split(/\s+/) ?? readmeStartCommand(repo);
if (!commandFile) throw new Error('no command: the README has no ```sh block (give --command)');
const command = [commandFile, ...commandArgs].join(' ');
const pinnedNode = path.join(repo, 'node_modules', 'node', 'bin', 'node');

/** A new user's shell (asNewUser), without WUZ_* settings or service URLs, plus `extra`. */
function shellEnv(extra: Record<string, string>): Record<string, string> {
  const env = asNewUser(process.env);
  for (const key of Object.keys(env)) if (key.startsWith('WUZ_')) delete env[key];
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

async function startOnce(dataDir: string, services: Record<string, string> = {}): Promise<Start> {
  const port = await freePort();
  const env = shellEnv({ WUZ_DATA_DIR: dataDir, WUZ_PORT: String(port), LOG_LEVEL: 'info', ...services });
  const began = performance.now();
  const daemon = execa(commandFile as string, commandArgs, {
    cwd: repo,
    env,
    extendEnv: false,
    reject: false,
  });
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
  "npm --version (npm's own start)": await timed('npm', ['--version']),
  'npx wuzctl --version': await timed('npx', ['wuzctl', '--version']),
};

const firsts: Start[] = [];
const restarts: Start[] = [];
const externalFirsts: Start[] = [];
const externalRestarts: Start[] = [];
for (let i = 0; i < rounds; i++) {
  await withTempDir(async (dir) => {
    const dataDir = path.join(dir, 'data');
    firsts.push(await startOnce(dataDir));
    restarts.push(await startOnce(dataDir));
  });
  // REDIS_URL and DATABASE_URL: a new database each round (its first start migrates it).
  await withExternalServices((services) =>
    withTempDir(async (dir) => {
      const dataDir = path.join(dir, 'data');
      const urls = { REDIS_URL: services.REDIS_URL as string, DATABASE_URL: services.DATABASE_URL as string };
      externalFirsts.push(await startOnce(dataDir, urls));
      externalRestarts.push(await startOnce(dataDir, urls));
    }),
  );
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
const result = {
  command,
  rounds,
  pieces,
  firstStart: summary(firsts),
  restart: summary(restarts),
  externalFirstStart: summary(externalFirsts),
  externalRestart: summary(externalRestarts),
};

if (json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  console.log(`${command} → /readyz 200 (median of ${rounds}):`);
  for (const [label, s] of [
    ['embedded, new data dir', result.firstStart],
    ['embedded, restart', result.restart],
    ['external, new database', result.externalFirstStart],
    ['external, restart', result.externalRestart],
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

import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { Command } from 'commander';
import { startFakeWuzapi } from '../../devtools/fakeWuzapi.ts';
import { benchCampaign, type CampaignResult } from '../bench/campaign.ts';
import { CpuByProcess } from '../bench/cpuByProcess.ts';
import { type Floor, startPgFloor, startRedisFloor } from '../bench/floor.ts';
import { UNREACHABLE_LIMITS } from '../bench/limits.ts';
import type { PlannedRequest } from '../bench/mixed.ts';
import type { BenchResult } from '../bench/run.ts';
import {
  type FloorScenario,
  isFloorScenario,
  SCENARIO_NAMES,
  SCENARIOS,
  userToken,
} from '../bench/scenarios.ts';
import { DaemonClient } from '../client.ts';
import { parseDuration } from '../duration.ts';
import { dataDirOption, jsonOption } from '../options.ts';
import { bold, CliError, dim, exitCodes, green, printJson, red, table } from '../output.ts';
import { attach, startEphemeral, type Target } from '../verify/target.ts';

interface BenchFlags {
  url?: string;
  dataDir?: string;
  tokens?: string;
  connections: string;
  duration: string;
  rate?: string;
  warmup: string;
  recipients: string;
  json?: boolean;
  out?: string;
  compare?: string;
  maxRegression: string;
  rateLimit: string;
}

export interface BenchReport {
  version: 1;
  at: string;
  machine: { cpus: number; node: string };
  options: {
    connections: number;
    durationSeconds: number;
    rate: number | null;
    warmupSeconds: number;
    /** The ephemeral daemon's limiter (limits too high to reach); null for a daemon we attached to. */
    rateLimit?: 'on' | 'off' | null;
  };
  results: BenchResult[];
  campaign: CampaignResult | null;
}

const seconds = (text: string, flag: string) => {
  const ms = parseDuration(text);
  if (ms === null || ms < 0)
    throw new CliError(`${flag} ${text} is not a duration`, exitCodes.usage, `e.g. ${flag} 10s`);
  return ms / 1000;
};
const positive = (text: string, flag: string) => {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw new CliError(`${flag} must be a positive number, got ${JSON.stringify(text)}`, exitCodes.usage);
  return n;
};

export function benchCommand(): Command {
  return new Command('bench')
    .description(
      `load tests with autocannon against a running daemon (--url/--data-dir) or an ephemeral one it seeds; scenarios: ${SCENARIO_NAMES.join(', ')} (default: all)`,
    )
    .argument('[scenario...]', 'scenarios to run; health (the floor) always runs first')
    .option('--url <url>', 'a running daemon (with --tokens F, or --data-dir D to seed it)')
    .addOption(dataDirOption())
    .option('--tokens <file>', 'the output of `wuzctl seed --demo --json`, with --url')
    .option('--connections <n>', 'concurrent connections', '10')
    .option('--duration <time>', 'per scenario', '10s')
    .option('--rate <n>', 'requests per second in all (a fixed rate; default: as fast as it goes)')
    .option('--warmup <time>', 'unmeasured load before each scenario', '1s')
    .option('--recipients <n>', 'campaign scenario: recipients', '2000')
    .addOption(jsonOption('print the full result as JSON'))
    .option('--out <file>', 'write the full result as JSON (for a later --compare)')
    .option(
      '--compare <file>',
      'compare with a saved result; exit 1 when a scenario regressed more than --max-regression',
    )
    .option('--max-regression <percent>', 'with --compare: the largest drop allowed', '10')
    .option(
      '--rate-limit <mode>',
      "the ephemeral daemon's tenant limiter, on (limits too high to reach: its cost, never a 429) or off",
      'on',
    )
    .action(async (names: string[], flags: BenchFlags) => {
      const unknown = names.filter((name) => !SCENARIO_NAMES.includes(name));
      if (unknown.length) {
        throw new CliError(
          `unknown scenario ${JSON.stringify(unknown[0])}`,
          exitCodes.usage,
          `scenarios: ${SCENARIO_NAMES.join(', ')}`,
        );
      }
      const options = {
        connections: Math.round(positive(flags.connections, '--connections')),
        durationSeconds: seconds(flags.duration, '--duration'),
        rate: flags.rate ? positive(flags.rate, '--rate') : null,
        warmupSeconds: seconds(flags.warmup, '--warmup'),
      };
      const maxRegression = positive(flags.maxRegression, '--max-regression');
      if (flags.rateLimit !== 'on' && flags.rateLimit !== 'off') {
        throw new CliError(
          `--rate-limit must be on or off, got ${JSON.stringify(flags.rateLimit)}`,
          exitCodes.usage,
          'e.g. --rate-limit off',
        );
      }
      const attached = Boolean(flags.url || flags.dataDir);
      const saved = flags.compare ? await readReport(flags.compare) : null;
      const wanted = names.length ? names : SCENARIO_NAMES;
      const progress = (line: string) => {
        if (!flags.json) process.stderr.write(`${dim(line)}\n`);
      };
      const closers: (() => Promise<void>)[] = [];
      let target: Target & { fakeWuzapi?: string };
      try {
        if (attached) {
          target = await attach(
            { url: flags.url, dataDir: flags.dataDir, tokens: flags.tokens },
            3,
            progress,
          );
        } else {
          const fake = await startFakeWuzapi({ port: 0 });
          closers.push(() => fake.close());
          target = {
            ...(await startEphemeral(3, progress, {
              WUZ_RATE_LIMIT: flags.rateLimit,
              ...UNREACHABLE_LIMITS,
              WUZ_ALERTS: 'off',
              WUZAPI_URL: fake.url,
            })),
            fakeWuzapi: fake.url,
          };
          closers.push(() => target.close());
        }
        // autocannon (and its WASM histogram) only for the command that uses it.
        const { runBench } = await import('../bench/run.ts');
        const results: BenchResult[] = [];
        const measure = async (name: string, url: string, requests: PlannedRequest[]) => {
          const live = liveLine(name, options.durationSeconds, Boolean(flags.json));
          const cpu = new CpuByProcess();
          cpu.begin();
          const result = await runBench(
            url,
            name,
            requests,
            { ...options, rate: options.rate ?? undefined },
            live.tick,
          );
          result.cpu = cpu.end(result.requestsPerSecond);
          live.done(result);
          results.push(result);
        };
        for (const name of ['health', ...wanted.filter((n) => n !== 'health' && n !== 'campaign')]) {
          if (isFloorScenario(name)) {
            const floor = await startFloorOf(name, target, flags.dataDir);
            if (!floor) {
              progress(
                `${name}: skipped (it reads the daemon's database: give --data-dir, or run without --url)`,
              );
              continue;
            }
            try {
              await measure(name, floor.url, [
                { group: 'GET /floor', method: 'GET', path: '/floor', token: '' },
              ]);
            } finally {
              await floor.close();
            }
            continue;
          }
          const scenario = SCENARIOS.find((s) => s.name === name);
          if (scenario) await measure(name, target.url, await scenario.requests(target));
        }
        const ratio = (result: BenchResult, floor: BenchResult | undefined) =>
          floor?.requestsPerSecond
            ? Math.round((result.requestsPerSecond / floor.requestsPerSecond) * 100) / 100
            : null;
        const health = results[0];
        const redisFloor = results.find((r) => r.scenario === 'redis-floor');
        const pgFloor = results.find((r) => r.scenario === 'pg-floor');
        for (const result of results) {
          result.ratioToFloor = ratio(result, health);
          if (redisFloor) result.ratioToRedisFloor = ratio(result, redisFloor);
          if (pgFloor) result.ratioToPgFloor = ratio(result, pgFloor);
        }
        let campaign: CampaignResult | null = null;
        if (wanted.includes('campaign')) {
          if (!target.fakeWuzapi) {
            progress(
              'campaign: skipped (needs the fake WuzAPI of an ephemeral daemon: run without --url/--data-dir)',
            );
          } else
            campaign = await benchCampaign(
              { ...target, fakeWuzapi: target.fakeWuzapi },
              Math.round(positive(flags.recipients, '--recipients')),
              progress,
            );
        }
        const report: BenchReport = {
          version: 1,
          at: new Date().toISOString(),
          machine: { cpus: os.availableParallelism(), node: process.version },
          options: { ...options, rateLimit: attached ? null : (flags.rateLimit as 'on' | 'off') },
          results,
          campaign,
        };
        if (flags.out) await writeFile(flags.out, `${JSON.stringify(report, null, 2)}\n`);
        const regressions = saved ? compare(saved, report, maxRegression) : null;
        if (flags.json) printJson(regressions ? { ...report, comparison: regressions } : report);
        else {
          process.stdout.write(`${renderReport(report)}\n`);
          if (regressions) process.stdout.write(`${renderComparison(regressions, maxRegression)}\n`);
        }
        const regressed = regressions?.filter((r) => r.regressed) ?? [];
        if (regressed.length) {
          throw new CliError(
            `${regressed.map((r) => r.scenario).join(', ')} regressed more than ${maxRegression}% against ${flags.compare}`,
            exitCodes.failure,
          );
        }
      } finally {
        for (const close of closers.reverse()) await close().catch(() => {});
      }
    });
}

/** What the cached-read scenario's GET answers, uncompressed: the floor serves the same bytes. */
async function cachedReadBody(target: Target): Promise<string> {
  const [request] = await (
    SCENARIOS.find((s) => s.name === 'cached-read') as (typeof SCENARIOS)[number]
  ).requests(target);
  const answer = await fetch(`${target.url}${request?.path}`, {
    headers: { authorization: `Bearer ${request?.token}`, 'accept-encoding': 'identity' },
  });
  if (!answer.ok) throw new Error(`the cached read answered ${answer.status}`);
  return answer.text();
}

/**
 * Starts a floor beside the target, as many workers as the daemon has by default: the
 * redis floor with the cached read's bytes, the pg floor on the daemon's own database
 * (null without a data dir to find it by: a daemon given by --url alone).
 */
async function startFloorOf(
  name: FloorScenario,
  target: Target,
  dataDirFlag: string | undefined,
): Promise<Floor | null> {
  const workers = os.availableParallelism();
  if (name === 'redis-floor') return startRedisFloor(await cachedReadBody(target), workers);
  const dataDir = target.dataDir ?? dataDirFlag;
  if (!dataDir) return null;
  const { url } = await new DaemonClient(dataDir).database();
  return startPgFloor(url, await ownerOf(target), workers);
}

/** Whose contacts the uncached read lists: the pg floor reads the same page. */
async function ownerOf(target: Target): Promise<{ tenantId: string; userId: string }> {
  const answer = await fetch(`${target.url}/api/me`, {
    headers: { authorization: `Bearer ${userToken(target)}` },
  });
  if (!answer.ok) throw new Error(`GET /api/me answered ${answer.status}`);
  const me = (await answer.json()) as { user: { id: string }; tenant: { id: string } };
  return { tenantId: me.tenant.id, userId: me.user.id };
}

/** A progress line on a terminal (live req/s), plain lines otherwise; nothing with --json. */
function liveLine(name: string, duration: number, quiet: boolean) {
  const tty = process.stderr.isTTY && !quiet;
  if (!quiet && !tty) process.stderr.write(`${name}: running ${duration} s\n`);
  return {
    tick: (rps: number, elapsed: number) => {
      if (!tty) return;
      const width = 24;
      const filled = Math.min(width, Math.round((elapsed / duration) * width));
      process.stderr.write(
        `\r${name.padEnd(14)} [${'█'.repeat(filled)}${' '.repeat(width - filled)}] ${elapsed}/${duration} s  ${rps} req/s   `,
      );
    },
    done: (result: BenchResult) => {
      if (tty) process.stderr.write('\r\x1b[2K');
      if (!quiet) process.stderr.write(dim(`${name}: ${result.requestsPerSecond} req/s\n`));
    },
  };
}

function renderReport(report: BenchReport): string {
  const errors = (r: BenchResult) => {
    const non2xx = Object.entries(r.non2xx)
      .map(([status, n]) => `${n}×${status}`)
      .join(' ');
    return (
      [r.errors ? red(`${r.errors} errors`) : '', non2xx ? red(non2xx) : ''].filter(Boolean).join(' ') ||
      green('0')
    );
  };
  // A floor's column only when it ran.
  const floors = (
    [
      ['× REDIS FLOOR', (r) => r.ratioToRedisFloor],
      ['× PG FLOOR', (r) => r.ratioToPgFloor],
    ] as Array<[string, (r: BenchResult) => number | null | undefined]>
  ).filter(([, of]) => report.results.some((r) => of(r) != null));
  const rows = [
    [
      'SCENARIO',
      'REQ/S',
      '× FLOOR',
      ...floors.map(([title]) => title),
      'P50',
      'P90',
      'P99',
      'MAX',
      'FAILED',
    ].map(dim),
    ...report.results.map((r) => [
      r.scenario,
      String(r.requestsPerSecond),
      r.ratioToFloor === null ? '-' : r.ratioToFloor.toFixed(2),
      ...floors.map(([, of]) => of(r)?.toFixed(2) ?? '-'),
      `${r.latencyMs.p50} ms`,
      `${r.latencyMs.p90} ms`,
      `${r.latencyMs.p99} ms`,
      `${r.latencyMs.max} ms`,
      errors(r),
    ]),
  ];
  const { options } = report;
  const lines = [
    bold('wuzctl bench'),
    dim(
      `  ${options.connections} connections, ${options.durationSeconds} s each${options.rate ? ` at ${options.rate} req/s` : ''}, ${report.machine.cpus} CPUs, Node ${report.machine.node}${options.rateLimit ? `, rate limiter ${options.rateLimit}` : ''}; latency of 2xx answers only`,
    ),
    '',
    table(rows).replace(/^/gm, '  '),
  ];
  const withCpu = report.results.filter((r) => r.cpu?.length);
  if (withCpu.length) {
    lines.push('', dim('  CPU per request (µs) by process, cores busy in brackets'));
    const width = Math.max(...withCpu.map((r) => r.scenario.length));
    for (const r of withCpu) {
      const shares = r.cpu ?? [];
      const total = shares.reduce((sum, s) => sum + s.usPerRequest, 0);
      const cores = shares.reduce((sum, s) => sum + s.cores, 0);
      lines.push(
        `  ${r.scenario.padEnd(width)}  ${shares.map((s) => `${s.process} ${s.usPerRequest} (${s.cores})`).join(' · ')} · ${bold(`total ${total} µs`)} (${cores.toFixed(2)})`,
      );
    }
  }
  const c = report.campaign;
  if (c) {
    lines.push(
      '',
      `  campaign: ${c.recipients} recipients in ${c.seconds} s = ${bold(`${c.messagesPerSecond} messages/s`)} (enqueued in ${c.enqueueMs} ms; ${c.delivered} delivered)`,
    );
  }
  return lines.join('\n');
}

interface Comparison {
  scenario: string;
  before: number;
  after: number;
  /** Compared as the ratio to the floor when both runs have it (it holds across machines), else req/s. */
  basis: 'ratio to floor' | 'req/s' | 'messages/s';
  changePercent: number;
  regressed: boolean;
}

function compare(saved: BenchReport, now: BenchReport, maxRegression: number): Comparison[] {
  const rows: Comparison[] = [];
  for (const result of now.results) {
    const old = saved.results.find((r) => r.scenario === result.scenario);
    if (!old) continue;
    // The floors are the machine's speed, not ours: compared by req/s, as health is.
    const floor = result.scenario === 'health' || isFloorScenario(result.scenario);
    const byRatio = !floor && old.ratioToFloor !== null && result.ratioToFloor !== null;
    const before = byRatio ? (old.ratioToFloor as number) : old.requestsPerSecond;
    const after = byRatio ? (result.ratioToFloor as number) : result.requestsPerSecond;
    rows.push(row(result.scenario, before, after, byRatio ? 'ratio to floor' : 'req/s', maxRegression));
  }
  if (saved.campaign && now.campaign) {
    rows.push(
      row(
        'campaign',
        saved.campaign.messagesPerSecond,
        now.campaign.messagesPerSecond,
        'messages/s',
        maxRegression,
      ),
    );
  }
  return rows;
}

function row(
  scenario: string,
  before: number,
  after: number,
  basis: Comparison['basis'],
  maxRegression: number,
): Comparison {
  const changePercent = before ? Math.round(((after - before) / before) * 1000) / 10 : 0;
  return { scenario, before, after, basis, changePercent, regressed: changePercent < -maxRegression };
}

function renderComparison(rows: Comparison[], maxRegression: number): string {
  return [
    '',
    bold(`against the saved result (regression allowed: ${maxRegression}%)`),
    table([
      ['SCENARIO', 'BASIS', 'BEFORE', 'NOW', 'CHANGE'].map(dim),
      ...rows.map((r) => [
        r.scenario,
        r.basis,
        String(r.before),
        String(r.after),
        (r.regressed ? red : green)(`${r.changePercent > 0 ? '+' : ''}${r.changePercent}%`),
      ]),
    ]).replace(/^/gm, '  '),
  ].join('\n');
}

async function readReport(file: string): Promise<BenchReport> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new CliError(
      `cannot read ${file}: ${error.code ?? error.message}`,
      exitCodes.usage,
      'save one with: wuzctl bench --out FILE',
    );
  });
  try {
    const report = JSON.parse(text) as BenchReport;
    if (report.version !== 1 || !Array.isArray(report.results)) throw new Error('not a bench result');
    return report;
  } catch {
    throw new CliError(
      `${file} is not a result of wuzctl bench --out`,
      exitCodes.usage,
      'save one with: wuzctl bench --out FILE',
    );
  }
}

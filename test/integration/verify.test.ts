// biome-ignore-all lint/suspicious/noExplicitAny: the assertions read the gate's JSON
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupDaemons, embeddedEnv, startDaemon, wuzctl } from '../helpers/daemon.ts';

// `wuzctl verify` end to end: an ephemeral daemon it starts itself, a running daemon found
// by its data dir, and the ways it refuses to run. Workloads are shortened by config.

afterAll(cleanupDaemons);

async function tempFile(name: string, content?: string): Promise<string> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'wuzv-')), name);
  if (content !== undefined) await writeFile(file, content);
  return file;
}

const shortRun = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ tenants: 3, gates: { cache: { requests: 2000, ...extra } } });

describe('wuzctl verify cache', () => {
  it('starts an ephemeral daemon, seeds it, passes, reports JSON and JUnit, and leaves nothing running', async () => {
    const config = await tempFile('verify.json', shortRun());
    const junit = await tempFile('verify.xml');
    const result = await wuzctl(['verify', 'cache', '--json', '--config', config, '--junit', junit], {
      env: embeddedEnv,
      timeoutMs: 180_000,
    });
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(Object.keys(report)).toEqual(['pass', 'gates']);
    expect(report.pass).toBe(true);
    const [gate] = report.gates;
    expect(Object.keys(gate)).toEqual(['gate', 'pass', 'figure', 'threshold', 'unit', 'details']);
    expect(gate).toMatchObject({ gate: 'cache', pass: true, threshold: 0.7, unit: 'hit rate' });
    expect(gate.figure).toBeGreaterThanOrEqual(0.7);
    // The figure is the daemon's own count, and the workload really read and wrote.
    expect(gate.figure).toBeCloseTo(
      gate.details.daemon.hits / (gate.details.daemon.hits + gate.details.daemon.misses),
      3,
    );
    expect(gate.details.writes).toBeGreaterThan(50);
    expect(gate.details.stale_checks).toBeGreaterThan(100);
    expect(gate.details.server_errors).toBe(0);
    expect(gate.details.identities).toBe(12);
    expect(Object.keys(gate.details.routes).sort()).toEqual([
      '/api/admin/stripe/analytics',
      '/api/admin/stripe/settings',
      '/api/session/agents',
      '/api/session/roles',
      '/api/session/teams',
      '/api/user/subscription',
    ]);
    expect(gate.details.latency_ms.hit.count).toBeGreaterThan(0);
    expect(gate.details.latency_ms.miss.count).toBeGreaterThan(0);
    // Progress went to stderr, never into the JSON.
    expect(result.stderr).toMatch(/starting an ephemeral daemon in \S+ \(WUZ_RATE_LIMIT=off\)/);
    expect(result.stderr).toMatch(/cache: 2000\/2000/);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(/<testsuites name="wuzctl verify" tests="1" failures="0" errors="0"/);
    expect(xml).toMatch(/<testcase classname="wuzctl.verify" name="cache: hit rate 0\.\d+ vs 0\.7"/);
    // The ephemeral data dir is gone, so its daemon is too.
    const dataDir = /ephemeral daemon in (\S+)/.exec(result.stderr)?.[1] as string;
    await expect(readFile(path.join(dataDir, 'wuzctl.pid'))).rejects.toThrow(/ENOENT/);
  });

  it('verifies a running daemon by its data dir, and exits 1 when a tightened threshold is missed', async () => {
    const daemon = await startDaemon({ env: embeddedEnv, apiWorkers: 2 });
    // No workload can reach a hit rate of 1: its first read of each key is a miss.
    const config = await tempFile('verify.json', shortRun({ threshold: 1 }));
    const result = await wuzctl(['verify', 'cache', '--data-dir', daemon.dataDir, '--config', config], {
      env: embeddedEnv,
      timeoutMs: 180_000,
    });
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/^GATE\s+RESULT\s+FIGURE\s+THRESHOLD/m);
    expect(result.stdout).toMatch(/^cache\s+FAIL\s+0\.\d+\s+1\s+hit rate/m);
    expect(result.stdout).toMatch(/hit rate 0\.\d+ is below 1/);
    expect(result.stdout).toMatch(/0 stale of \d+ checked · 0 5xx/);
    // The daemon it verified is still serving.
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);
  });

  it('exits 2 with the reason when the gate cannot read the daemon’s counters', async () => {
    const tokens = await tempFile('tokens.json', JSON.stringify({ tenants: [] }));
    const result = await wuzctl(
      ['verify', 'cache', '--url', 'http://127.0.0.1:9', '--tokens', tokens, '--json'],
      {
        env: embeddedEnv,
      },
    );
    expect(result.exitCode).toBe(2);
    const report = JSON.parse(result.stdout);
    expect(report.pass).toBe(false);
    expect(report.gates[0]).toMatchObject({ gate: 'cache', pass: false, figure: null });
    expect(report.gates[0].details.error).toMatch(/counters/);
    expect(report.gates[0].details.hint).toMatch(/--data-dir/);
  });

  it.each([
    [['verify', 'nope'], /unknown gate "nope"/],
    [['verify', '--tokens', 'x.json'], /--tokens goes with --url/],
    [['verify', '--url', 'not a url', '--json'], /not a URL/],
  ])('refuses %j with exit 2 and a hint', async (args, message) => {
    const result = await wuzctl(args, { env: embeddedEnv });
    expect(result.exitCode).toBe(2);
    expect(`${result.stderr}${result.stdout}`).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  // Latency is the benchmark's business (wuzctl verify ratelimit): here a floor of 1 s keeps
  // a busy CI machine from failing a test about accounting.
  it('runs the ratelimit gate: A is cut off at exactly its limit, B and C see no 429', async () => {
    const config = await tempFile(
      'verify.json',
      JSON.stringify({
        tenants: 4,
        gates: { ratelimit: { phaseSeconds: 2, checkReset: false, latencyFloorMs: 1000 } },
      }),
    );
    const result = await wuzctl(['verify', 'ratelimit', '--json', '--config', config], {
      env: embeddedEnv,
      timeoutMs: 180_000,
    });
    expect(result.exitCode, result.stderr).toBe(0);
    const [gate] = JSON.parse(result.stdout).gates;
    expect(gate).toMatchObject({ gate: 'ratelimit', pass: true, figure: 0, threshold: 0 });
    expect(gate.details.a).toMatchObject({ limit: 100, accepted: 100, sent: 301, rejected: 201 });
    expect(gate.details.b.requests).toBeGreaterThan(5);
    expect(gate.details.c.limit).toBe(500);
    // The cache gate's daemon runs with limits off; this one has them on.
    expect(result.stderr).not.toMatch(/WUZ_RATE_LIMIT=off/);
  });

  it('runs the queue gate through a fake WuzAPI: one message per recipient, import and report checked', async () => {
    const config = await tempFile(
      'queue.json',
      JSON.stringify({ tenants: 2, gates: { queue: { recipients: 200, campaigns: 2 } } }),
    );
    const result = await wuzctl(['verify', 'queue', '--json', '--config', config], {
      env: embeddedEnv,
      timeoutMs: 180_000,
    });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const [gate] = JSON.parse(result.stdout).gates;
    expect(gate).toMatchObject({ gate: 'queue', pass: true, unit: 'ms to enqueue', threshold: 100 });
    expect(gate.details).toMatchObject({
      recipients: 200,
      campaigns: 2,
      messages_received: 200,
      missing: 0,
      duplicated: 0,
      wrong_body: 0,
      problems: [],
    });
    expect(gate.details.import).toMatchObject({ accepted: 200, rejected: 3 });
    expect(gate.details.messages_per_second).toBeGreaterThan(0);
  });

  it('says the queue gate cannot run against a daemon given by --url without --wuzapi', async () => {
    const tokens = await tempFile(
      'tokens.json',
      JSON.stringify({ tenants: [{ slug: 'demo-1', plan: 'free', admin_token: 'a', user_tokens: ['u'] }] }),
    );
    const result = await wuzctl(
      ['verify', 'queue', '--url', 'http://127.0.0.1:9', '--tokens', tokens, '--json'],
      {
        timeoutMs: 30_000,
      },
    );
    expect(result.exitCode).toBe(2);
    expect(JSON.parse(result.stdout).gates[0].details.error).toMatch(/fake WuzAPI/);
  });

  it('refuses a config that loosens the plan’s threshold', async () => {
    const config = await tempFile('verify.json', shortRun({ threshold: 0.5 }));
    const result = await wuzctl(['verify', 'cache', '--config', config], { env: embeddedEnv });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/looser than the plan's 0.7/);
    expect(result.stderr).toMatch(/hint:/);
  });
});

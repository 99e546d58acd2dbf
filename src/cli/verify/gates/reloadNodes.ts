import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findOnPath } from '../../../daemon/services/executables.ts';
import { freePort } from '../../../daemon/services/freePort.ts';
import { GateCannotRun, type GateContext } from '../gate.ts';
import { ApiClient } from '../http.ts';
import { ScratchPostgres } from '../scratch/postgres.ts';
import { ScratchRedis } from '../scratch/redis.ts';
import { SteadyLoad } from '../steadyLoad.ts';
import { startEphemeral, type Target } from '../target.ts';

/** The free plan's limit per window for the shared-limit check (the load runs as an enterprise tenant). */
const FREE_LIMIT = 30;
/** How long a stopping node keeps serving with /readyz failing: > haproxy's 2 failed checks 250 ms apart. */
const DRAIN_DELAY_S = 1.5;

/** haproxy in front of the nodes: health checks on /readyz, retry on another node when a connect fails. */
function haproxyConfig(port: number, nodes: number[]): string {
  return [
    'global',
    '  maxconn 2000',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  option http-keep-alive',
    // A refused connect (a node gone) is retried on another node: never a request sent.
    '  retries 3',
    '  option redispatch',
    'frontend wuzctl',
    `  bind 127.0.0.1:${port}`,
    '  default_backend nodes',
    'backend nodes',
    '  balance roundrobin',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    ...nodes.map((p, i) => `  server node${i + 1} 127.0.0.1:${p} check inter 250ms fall 2 rise 2`),
    '',
  ].join('\n');
}

export interface TwoNodesResult {
  sent: number;
  failed: number;
  failures: Record<string, number>;
  restarts: { node: string; stopMs: number; startMs: number }[];
  staleReads: number;
  writesChecked: number;
  sharedLimit: { allowed: number; limited: number; limit: number };
  problems: string[];
}

/**
 * Part 3 of the reload gate: two daemons on one Redis and one PostgreSQL of the gate's
 * own, behind haproxy; each is stopped and started again in turn under load. They share a
 * secret key (encrypted columns, the auth cache) as every node of one database must.
 */
export async function runTwoNodes(
  context: GateContext,
  dir: string,
  timeoutMs: number,
): Promise<TwoNodesResult> {
  const haproxyBin = await findOnPath('haproxy');
  if (!haproxyBin)
    throw new GateCannotRun('part 3 of the reload gate runs haproxy', 'install it: apt-get install haproxy');
  const cleanups: (() => Promise<void>)[] = [];
  const problems: string[] = [];
  try {
    await mkdir(dir, { recursive: true });
    const pgDir = await mkdtemp(path.join(os.tmpdir(), 'wuzctl-reload-pg-'));
    cleanups.push(() => rm(pgDir, { recursive: true, force: true }));
    context.progress('part 3: a scratch PostgreSQL and redis-server, two daemons, haproxy in front');
    const [postgres, redis] = await Promise.all([ScratchPostgres.create(pgDir), ScratchRedis.create()]);
    cleanups.push(
      () => postgres.stop(),
      () => redis.stop(),
    );
    const ports = [await freePort(), await freePort()];
    const env = {
      REDIS_URL: redis.url,
      DATABASE_URL: postgres.url,
      WUZ_SECRET_KEY: randomBytes(32).toString('base64'),
      WUZ_ALERTS: 'off',
      RATE_LIMIT_FREE: String(FREE_LIMIT),
      RATE_LIMIT_WINDOW: '600',
      RATE_LIMIT_ENTERPRISE: '1000000',
      RATE_LIMIT_PRO: '1000000',
    };
    const dataDirs = [path.join(dir, 'a'), path.join(dir, 'b')];
    const start = (i: number, tenants: number) =>
      startEphemeral(tenants, context.progress, env, {
        dataDir: dataDirs[i],
        args: [
          '--port',
          String(ports[i]),
          '--api-workers',
          '2',
          '--queue-workers',
          '1',
          '--drain-delay',
          String(DRAIN_DELAY_S),
        ],
      });
    const nodes: Target[] = [await start(0, 3)];
    nodes.push(await start(1, 0));
    cleanups.push(async () => {
      for (const node of nodes) await node.close();
    });
    const tenants = nodes[0]?.tenants ?? [];
    const enterprise = tenants.find((t) => t.plan === 'enterprise');
    const free = tenants.find((t) => t.plan === 'free');
    if (!enterprise?.user_tokens[0] || !free?.user_tokens[0])
      throw new GateCannotRun('the demo seed gave no free and enterprise tenants');

    const balancerPort = await freePort();
    const configFile = path.join(dir, 'haproxy.cfg');
    await writeFile(configFile, haproxyConfig(balancerPort, ports));
    const haproxy: ChildProcess = spawn(haproxyBin, ['-db', '-f', configFile], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let haproxyErr = '';
    haproxy.stderr?.on('data', (chunk: Buffer) => {
      haproxyErr = (haproxyErr + chunk).slice(-2000);
    });
    const haproxyExited = new Promise<void>((resolve) => haproxy.once('exit', () => resolve()));
    cleanups.push(async () => {
      haproxy.kill('SIGTERM');
      await haproxyExited;
    });
    const balancer = `http://127.0.0.1:${balancerPort}`;
    const deadline = Date.now() + 15_000;
    while ((await fetch(`${balancer}/readyz`).catch(() => null))?.status !== 200) {
      if (haproxy.exitCode !== null || Date.now() > deadline)
        throw new GateCannotRun(`haproxy did not start: ${haproxyErr.trim()}`);
      await sleep(100);
    }
    await sleep(1000); // both servers seen up (rise 2)

    const load = new SteadyLoad(balancer, enterprise.user_tokens[0], {
      keepAlive: 6,
      oneShot: 2,
      tag: 'nodes',
    });
    const restarts: TwoNodesResult['restarts'] = [];
    for (const i of [0, 1]) {
      await sleep(2000);
      const name = i === 0 ? 'a' : 'b';
      context.progress(`part 3: stopping node ${name} behind haproxy (${load.sent} requests so far)`);
      const stopBegan = Date.now();
      await (nodes[i] as Target).close();
      const stopMs = Date.now() - stopBegan;
      const startBegan = Date.now();
      nodes[i] = await start(i, 0);
      const startMs = Date.now() - startBegan;
      restarts.push({ node: name, stopMs, startMs });
      await sleep(1000); // haproxy sees it up again before the next one goes
    }
    await sleep(1000);
    await load.stop();

    // A write through one node is read through the other at once (the cache is shared).
    const direct = nodes.map((node) => new ApiClient(node.url, 2));
    const token = enterprise.user_tokens[0];
    let staleReads = 0;
    const rounds = 20;
    for (let round = 0; round < rounds; round++) {
      const [writer, reader] = round % 2 === 0 ? [direct[0], direct[1]] : [direct[1], direct[0]];
      const before = (await (reader as ApiClient).request('GET', '/api/session/teams?per_page=1', token))
        .body as { total: number };
      const created = await (writer as ApiClient).request('POST', '/api/session/teams', token, {
        name: `nodes ${round} ${randomBytes(3).toString('hex')}`,
      });
      if (created.status !== 201) problems.push(`POST /api/session/teams answered ${created.status}`);
      const after = (await (reader as ApiClient).request('GET', '/api/session/teams?per_page=1', token))
        .body as { total: number };
      if (after.total !== before.total + 1) staleReads++;
    }
    if (staleReads) problems.push(`${staleReads} of ${rounds} reads through the other node missed a write`);

    // One tenant's limit is one budget, whichever node counts it.
    let allowed = 0;
    let limited = 0;
    for (let n = 0; n < FREE_LIMIT * 2; n++) {
      const answer = await (direct[n % 2] as ApiClient).request(
        'GET',
        '/api/session/teams?per_page=1',
        free.user_tokens[0],
      );
      if (answer.status === 200) allowed++;
      else if (answer.status === 429) limited++;
    }
    for (const client of direct) client.close();
    if (allowed !== FREE_LIMIT)
      problems.push(`the free tenant got ${allowed} answers over two nodes, its limit is ${FREE_LIMIT}`);
    void timeoutMs;
    return {
      sent: load.sent,
      failed: load.failed,
      failures: load.failures,
      restarts,
      staleReads,
      writesChecked: rounds,
      sharedLimit: { allowed, limited, limit: FREE_LIMIT },
      problems,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
}

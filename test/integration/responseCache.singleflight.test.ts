import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ResultPromise } from 'execa';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CacheEntrySpec, ResponseCache } from '../../src/daemon/cache/responseCache.ts';
import { freePort } from '../../src/daemon/services/freePort.ts';
import { ownRedis } from '../helpers/redis.ts';

// Two ResponseCache instances on two connections to one real redis-server stand for two
// API workers. The interleavings that matter are forced by running the "other worker"
// at the exact Redis call where the race window opens, so the test does not depend on
// timing.

let server: ResultPromise;
let dir: string;
let port: number;
const clients: Redis[] = [];
const silent = pino({ level: 'silent' });

function connect(): Redis {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: false });
  clients.push(client);
  return client;
}

/** A client whose first lock attempt (SET … NX) runs through `around`. */
function connectAroundLock(around: (lock: () => Promise<unknown>) => Promise<unknown>): Redis {
  const client = connect();
  let fired = false;
  return new Proxy(client, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (prop !== 'set') return value.bind(target);
      return (...args: unknown[]) => {
        const call = () => value.apply(target, args) as Promise<unknown>;
        if (fired || !args.includes('NX')) return call();
        fired = true;
        return around(call);
      };
    },
  });
}

function spec(name: string): CacheEntrySpec {
  return { route: `/race/${name}`, base: `race:${name}`, tags: [`race:${name}:gen`], ttlMs: 60_000 };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'wuz-cache-race-'));
  port = await freePort();
  ({ server } = await ownRedis(port, dir));
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  server?.kill();
  await server?.catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

describe('response cache single flight across processes', () => {
  it('does not load again when a peer stored the entry between our lookup and our lock', async () => {
    const entry = spec('between');
    const peer = new ResponseCache(connect(), silent);
    let peerLoads = 0;
    // The peer runs a whole miss → lock → load → store → unlock while we sit between our
    // lookup (a miss) and our lock attempt.
    const runPeer = () =>
      peer.getOrLoad(entry, async () => {
        peerLoads++;
        return { from: 'peer' };
      });
    const us = new ResponseCache(
      connectAroundLock(async (lock) => {
        await runPeer();
        return lock();
      }),
      silent,
    );
    let ourLoads = 0;
    const answer = await us.getOrLoad(entry, async () => {
      ourLoads++;
      return { from: 'us' };
    });
    expect(peerLoads).toBe(1);
    expect(ourLoads).toBe(0);
    expect(JSON.parse(answer.body.toString())).toEqual({ from: 'peer' });
    expect(answer.hit).toBe(false);
    expect(us.stats().routes[entry.route]).toMatchObject({ misses: 1, loads: 0 });
  });

  it('waits for the peer that holds the lock and takes its value', async () => {
    const entry = spec('waiting');
    const holder = new ResponseCache(connect(), silent);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holderLoads = 0;
    const holding = holder.getOrLoad(entry, async () => {
      holderLoads++;
      await gate;
      return { from: 'holder' };
    });
    // The holder has its lock once its load has begun.
    while (holderLoads === 0) await new Promise((resolve) => setImmediate(resolve));
    let lockResult: unknown;
    // Our lock attempt fails while the holder loads; only then does the holder finish.
    const waiter = new ResponseCache(
      connectAroundLock(async (lock) => {
        lockResult = await lock();
        release();
        return lockResult;
      }),
      silent,
    );
    let waiterLoads = 0;
    const waiting = waiter.getOrLoad(entry, async () => {
      waiterLoads++;
      return { from: 'waiter' };
    });
    const [a, b] = await Promise.all([holding, waiting]);
    expect(JSON.parse(a.body.toString())).toEqual({ from: 'holder' });
    expect(JSON.parse(b.body.toString())).toEqual({ from: 'holder' });
    expect(lockResult).toBeNull();
    expect(holderLoads).toBe(1);
    expect(waiterLoads).toBe(0);
  });

  it('loads once for many concurrent misses in one process', async () => {
    const entry = spec('inprocess');
    const cache = new ResponseCache(connect(), silent);
    let loads = 0;
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        cache.getOrLoad(entry, async () => {
          loads++;
          return { n: loads };
        }),
      ),
    );
    expect(loads).toBe(1);
    expect(new Set(answers.map((a) => a.body.toString())).size).toBe(1);
  });
});

import { randomInt } from 'node:crypto';
import type { GateContext } from '../verify/gate.ts';
import { mixedWorkload, type PlannedRequest } from './mixed.ts';

/** What a scenario needs of its target. */
export interface BenchTarget {
  url: string;
  tenants: GateContext['tenants'];
}

/** The requests a scenario replays, in order (autocannon cycles through them per connection). */
export interface Scenario {
  name: string;
  description: string;
  requests(target: BenchTarget): Promise<PlannedRequest[]>;
}

/** The page `uncached-read` asks for, and `pg-floor` reads (floor.ts). */
export const UNCACHED_PAGE_SIZE = 20;

/** The token every single-user scenario runs as: demo-1's first user. */
export const userToken = (target: BenchTarget) => {
  const token = target.tenants[0]?.user_tokens[0];
  if (!token) throw new Error('no demo tenant to run as (seed one: wuzctl seed --demo)');
  return token;
};

/** The first script the web app's index.html loads: a hashed, immutable asset. */
async function staticAssets(url: string): Promise<string[]> {
  const html = await (await fetch(`${url}/`)).text();
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((match) => match[1] as string);
  return ['/', ...assets.slice(0, 3)];
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'health',
    description: 'GET /healthz: the floor, what this machine and Express do with no work',
    requests: async () => [{ group: 'GET /healthz', method: 'GET', path: '/healthz', token: '' }],
  },
  {
    name: 'cached-read',
    description: 'GET /api/session/agents, authenticated, answered from the Redis cache',
    requests: async (target) => [
      {
        group: 'GET /api/session/agents',
        method: 'GET',
        path: '/api/session/agents',
        token: userToken(target),
      },
    ],
  },
  {
    name: 'uncached-read',
    description: 'GET /api/contacts, authenticated, a database query every time',
    requests: async (target) => [
      {
        group: 'GET /api/contacts',
        method: 'GET',
        path: `/api/contacts?per_page=${UNCACHED_PAGE_SIZE}`,
        token: userToken(target),
      },
    ],
  },
  {
    name: 'mixed',
    description: "the cache gate's workload: Zipf-distributed users reading the cached endpoints, 5% writes",
    requests: (target) => mixedWorkload(target.url, target.tenants, 20_000),
  },
  {
    name: 'write',
    description: 'POST /api/contacts: a new contact each time',
    requests: async (target) => {
      const token = userToken(target);
      // Unique in this run and across runs: E.164 allows 15 digits, +55 96 and 11 of ours.
      const base = randomInt(100, 999) * 1e8;
      let n = 0;
      return [
        {
          group: 'POST /api/contacts',
          method: 'POST' as const,
          path: '/api/contacts',
          token,
          makeBody: () => JSON.stringify({ name: `bench ${n}`, phone: `+5596${base + n++}` }),
        },
      ];
    },
  },
  {
    name: 'static',
    description: 'the web app: index.html and its hashed assets (precompressed, immutable)',
    requests: async (target) =>
      (await staticAssets(target.url)).map((path) => ({
        group: 'GET static',
        method: 'GET' as const,
        path,
        token: '',
      })),
  },
];

/**
 * Scenarios with a server of their own: the floors `redis-floor` (the cached read's: Express
 * and one Redis GET) and `pg-floor` (the uncached read's: Express and one pg query of the
 * same page), floor.ts, run right after health; and `campaign` (a fake WuzAPI, run last).
 */
export const FLOOR_SCENARIOS = ['redis-floor', 'pg-floor'] as const;
export type FloorScenario = (typeof FLOOR_SCENARIOS)[number];
export const isFloorScenario = (name: string): name is FloorScenario =>
  (FLOOR_SCENARIOS as readonly string[]).includes(name);

export const SCENARIO_NAMES = [
  'health',
  ...FLOOR_SCENARIOS,
  ...SCENARIOS.map((scenario) => scenario.name).filter((name) => name !== 'health'),
  'campaign',
];

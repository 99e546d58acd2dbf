import type { GateContext } from '../verify/gate.ts';
import { discover, type Op, plan, READ_ROUTES } from '../verify/gates/cache.ts';
import { ApiClient } from '../verify/http.ts';

/** One request of a workload, as a load generator sends it. */
export interface PlannedRequest {
  /** The route group it is measured under: "GET /api/session/agents". */
  group: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH';
  path: string;
  token: string;
  body?: string;
  /** A body made anew for each send (a write that must not repeat: a unique phone). */
  makeBody?: () => string;
}

let serial = 0;

/** A write of the cache gate's workload as one request (a rename, new Stripe settings). */
function writeRequest(op: Extract<Op, { write: unknown }>): PlannedRequest | null {
  const { identity } = op;
  const n = ++serial;
  const list = (route: 'teams' | 'roles' | 'agents') => {
    const ids = identity.ids[route];
    if (!ids.length) return null;
    const id = ids[n % ids.length] as string;
    return {
      group: `PATCH ${READ_ROUTES[route]}/:id`,
      method: 'PATCH' as const,
      path: `${READ_ROUTES[route]}/${id}`,
      token: identity.token,
      body: JSON.stringify({ name: `${route.slice(0, -1)} bench ${n}` }),
    };
  };
  switch (op.write) {
    case 'renameTeam':
      return list('teams');
    case 'renameRole':
      return list('roles');
    case 'renameAgent':
      return list('agents');
    case 'stripeSettings':
      return {
        group: `PUT ${READ_ROUTES.settings}`,
        method: 'PUT',
        path: READ_ROUTES.settings,
        token: identity.token,
        body: JSON.stringify({
          publishable_key: `pk_test_bench${String(n).padStart(10, '0')}`,
          currency: 'usd',
        }),
      };
    default:
      // A plan change depends on the subscription's state as it goes: left to the cache gate.
      return list('teams');
  }
}

/**
 * The cache gate's workload (verify/gates/cache.ts): the demo tenants' users, Zipf
 * distributed, reading the six cached endpoints, with 5% writes that invalidate them —
 * as a list of requests a load generator replays in order.
 */
export async function mixedWorkload(
  url: string,
  tenants: GateContext['tenants'],
  requests = 20_000,
  seed = 'wuzctl-bench',
): Promise<PlannedRequest[]> {
  const client = new ApiClient(url, 2);
  try {
    const identities = await discover(client, tenants);
    return plan(identities, { seed, zipfExponent: 1.1, requests, writeRatio: 0.05 }).flatMap((op) => {
      if ('read' in op) {
        return [
          {
            group: `GET ${READ_ROUTES[op.read]}`,
            method: 'GET' as const,
            path: `${READ_ROUTES[op.read]}${op.variant}`,
            token: op.identity.token,
          },
        ];
      }
      const write = writeRequest(op);
      return write ? [write] : [];
    });
  } finally {
    client.close();
  }
}

import { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import {
  type CachedRoute,
  type CacheLayer,
  cachedJson,
  invalidateAndRefresh,
} from '../../../cache/cachedRoute.ts';
import { tags } from '../../../cache/tags.ts';
import { type Queryable, withTransaction } from '../../../db/queryable.ts';
import {
  agentsTable,
  findOwned,
  insertOwned,
  listOwned,
  type Owner,
  rolesTable,
  teamsTable,
  updateOwned,
} from '../../../db/repositories/owned.ts';
import { findLiveSubscription } from '../../../db/repositories/subscriptions.ts';
import { Agent } from '../../contract/resources.ts';
import { defineRoute, routesOn } from '../../contract/route.ts';
import { deleteRoute, getRoute, listRoute } from '../../contract/shapes.ts';
import { notFoundError, unprocessable } from '../../errors.ts';
import { ownerOf } from '../../middleware/auth.ts';
import {
  email,
  idParam,
  listBody,
  name,
  pageOf,
  pageQuery,
  parseId,
  parseInput,
  search,
  uuid,
} from '../../validate.ts';
import { deleteOwnedById, getOwnedById } from './ownedCrud.ts';

const status = z.enum(['active', 'away', 'inactive']);

const agentBody = z.strictObject({
  name,
  email,
  status: status.optional(),
  team_id: uuid.nullable().optional(),
  role_id: uuid.nullable().optional(),
});

const base = { tag: 'Agents', auth: 'user' } as const;

export const agentsApi = {
  list: listRoute({
    ...base,
    path: '/api/session/agents',
    summary: 'List your agents (cached); `q` matches the name or the email',
    what: 'agent',
    item: Agent,
    query: z.object({
      ...pageQuery,
      q: search,
      status: status.optional(),
      team_id: uuid.optional(),
      role_id: uuid.optional(),
    }),
  }),
  get: getRoute({ ...base, path: '/api/session/agents/{id}', what: 'agent', schema: Agent }),
  create: defineRoute({
    ...base,
    method: 'post',
    path: '/api/session/agents',
    summary: "Create an agent, within your plan's max_agents",
    body: agentBody,
    responses: { 201: { description: 'the agent', schema: Agent } },
    errors: ['conflict', 'unprocessable'],
  }),
  update: defineRoute({
    ...base,
    method: 'patch',
    path: '/api/session/agents/{id}',
    summary: 'Change some fields of an agent',
    params: idParam('agent'),
    body: agentBody.partial(),
    responses: { 200: { description: 'the agent', schema: Agent } },
    errors: ['conflict', 'unprocessable'],
  }),
  remove: deleteRoute({
    ...base,
    path: '/api/session/agents/{id}',
    what: 'agent',
    summary: 'Delete an agent',
  }),
};

/** team_id / role_id in a body must be the caller's own: anything else is a 422. */
async function checkReferences(
  db: Queryable,
  owner: Owner,
  body: { team_id?: string | null; role_id?: string | null },
): Promise<void> {
  if (body.team_id && !(await findOwned(db, teamsTable, owner, body.team_id))) {
    throw unprocessable('team_id does not name one of your teams');
  }
  if (body.role_id && !(await findOwned(db, rolesTable, owner, body.role_id))) {
    throw unprocessable('role_id does not name one of your roles');
  }
}

/** An agent added or removed changes the list and the subscription's agent count. */
const AGENT_COUNT_READS: CachedRoute[] = ['/api/session/agents', '/api/user/subscription'];

export function agentRoutes(pool: pg.Pool, layer: CacheLayer): Router {
  const router = Router();
  const on = routesOn(router, '/api/session/agents');

  on(
    agentsApi.list,
    cachedJson(layer, '/api/session/agents', async (req) => {
      const query = parseInput(agentsApi.list.query, req.query, 'query');
      const conditions = [];
      if (query.q) {
        conditions.push({
          sql: '(strpos(lower(name), lower($?)) > 0 OR strpos(lower(email), lower($?)) > 0)',
          value: query.q,
        });
      }
      if (query.status) conditions.push({ sql: 'status = $?', value: query.status });
      if (query.team_id) conditions.push({ sql: 'team_id = $?', value: query.team_id });
      if (query.role_id) conditions.push({ sql: 'role_id = $?', value: query.role_id });
      const { rows, total } = await listOwned(pool, agentsTable, ownerOf(req), conditions, pageOf(query));
      return listBody(rows, total, query);
    }),
  );

  on(agentsApi.get, getOwnedById(pool, agentsTable, 'agent'));

  on(agentsApi.create, async (req, res) => {
    const owner = ownerOf(req);
    const body = parseInput(agentsApi.create.body, req.body, 'body');
    const agent = await withTransaction(pool, async (db) => {
      // One agent creation per owner at a time, so two requests cannot both pass the limit.
      await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `agents:${owner.tenantId}:${owner.userId}`,
      ]);
      await checkReferences(db, owner, body);
      const subscription = await findLiveSubscription(db, owner.tenantId, owner.userId);
      // The subscription already counts the caller's agents (its usage), under our lock.
      const max = subscription?.plan.limits.max_agents;
      if (subscription && max !== undefined && subscription.usage.agents >= max) {
        throw unprocessable(`your ${subscription.plan.name} plan allows ${max} agents: upgrade to add more`, {
          max_agents: max,
        });
      }
      return insertOwned(db, agentsTable, owner, body);
    });
    await invalidateAndRefresh(layer, req, AGENT_COUNT_READS, tags.agents, tags.agentCount);
    res.status(201).json(agent);
  });

  on(agentsApi.update, async (req, res) => {
    const owner = ownerOf(req);
    const id = parseId(req.params.id, 'agent');
    const body = parseInput(agentsApi.update.body, req.body, 'body');
    await checkReferences(pool, owner, body);
    const agent = await updateOwned(pool, agentsTable, owner, id, body);
    if (!agent) throw notFoundError('agent');
    await invalidateAndRefresh(layer, req, '/api/session/agents', tags.agents);
    res.json(agent);
  });

  on(
    agentsApi.remove,
    deleteOwnedById(pool, agentsTable, 'agent', (req) =>
      invalidateAndRefresh(layer, req, AGENT_COUNT_READS, tags.agents, tags.agentCount),
    ),
  );

  return router;
}

import { randomUUID } from 'node:crypto';
import { type Request, type Response, Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import * as campaigns from '../../../db/repositories/campaigns.ts';
import {
  CAMPAIGN_ACTIONS,
  CAMPAIGN_STATUSES,
  type CampaignAction,
  RECIPIENT_STATUSES,
} from '../../../queues/campaignLifecycle.ts';
import { enqueueCampaign } from '../../../queues/campaignQueue.ts';
import type { QueueSource } from '../../../queues/index.ts';
import type { SecretBox } from '../../../security/secretBox.ts';
import { Campaign, listOf, Recipient } from '../../contract/resources.ts';
import { defineRoute, routesOn } from '../../contract/route.ts';
import { getRoute, listRoute } from '../../contract/shapes.ts';
import { HttpError, notFoundError } from '../../errors.ts';
import { ownerOf } from '../../middleware/auth.ts';
import {
  idParam,
  name,
  pageHandler,
  pageQuery,
  parseId,
  parseInput,
  search,
  uuidList,
} from '../../validate.ts';

export const MAX_RECIPIENTS = 100_000;
const MAX_DELAY_MS = 600_000;

const audience = z.union([
  z.strictObject({
    contact_ids: uuidList(MAX_RECIPIENTS, {
      min: 'must hold at least one contact id',
      max: `must hold at most ${MAX_RECIPIENTS} contact ids`,
    }),
  }),
  z.strictObject({ filter: z.strictObject({ q: search }) }),
]);

const createBody = z
  .strictObject({
    name,
    template: z.string().trim().min(1, 'must not be empty').max(4096, 'must be at most 4096 characters'),
    audience,
    session_token: z.string().trim().min(1, 'must not be empty').max(256, 'must be at most 256 characters'),
    min_delay_ms: z.number().int('must be a whole number').min(0).max(MAX_DELAY_MS).default(5000),
    max_delay_ms: z.number().int('must be a whole number').min(0).max(MAX_DELAY_MS).default(15_000),
    schedule_at: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
    draft: z.boolean().default(false),
  })
  .refine((body) => body.max_delay_ms >= body.min_delay_ms, {
    message: 'must be at least min_delay_ms',
    path: ['max_delay_ms'],
  })
  .refine((body) => !body.schedule_at || Date.parse(body.schedule_at) < Date.now() + 366 * 86_400_000, {
    message: 'must be within a year',
    path: ['schedule_at'],
  });

const base = { tag: 'Campaigns', auth: 'user' } as const;
const params = idParam('campaign');
/** A move of the lifecycle (queues/campaignLifecycle.ts); a campaign in another state gets 409. */
const move = (action: CampaignAction, status: 200 | 202, summary: string) =>
  defineRoute({
    ...base,
    method: 'post',
    path: `/api/campaigns/{id}/${action}`,
    summary,
    description: `Allowed from: ${CAMPAIGN_ACTIONS[action].from.join(', ')}.`,
    params,
    responses: { [status]: { description: 'the campaign', schema: Campaign } },
    errors: status === 202 ? ['conflict', 'queue_unavailable'] : ['conflict'],
  });

export const campaignsApi = {
  list: listRoute({
    ...base,
    path: '/api/campaigns',
    summary: 'List your campaigns (newest first)',
    what: 'campaign',
    item: Campaign,
    query: z.object({ ...pageQuery, status: z.enum(CAMPAIGN_STATUSES).optional() }),
  }),
  get: getRoute({
    ...base,
    path: '/api/campaigns/{id}',
    summary: 'One campaign with its counts',
    what: 'campaign',
    schema: Campaign,
  }),
  recipients: defineRoute({
    ...base,
    method: 'get',
    path: '/api/campaigns/{id}/recipients',
    summary: "A campaign's recipients and what became of each",
    params,
    query: z.object({
      ...pageQuery,
      status: z.enum(RECIPIENT_STATUSES).optional(),
    }),
    responses: { 200: { description: 'a page of recipients', schema: listOf(Recipient) } },
  }),
  create: defineRoute({
    ...base,
    method: 'post',
    path: '/api/campaigns',
    summary: 'Create a campaign: a draft (201), or scheduled and enqueued (202)',
    body: createBody,
    responses: {
      201: { description: 'the draft', schema: Campaign },
      202: { description: 'the campaign, with the job that sends it', schema: Campaign },
    },
    errors: ['queue_unavailable'],
  }),
  start: move('start', 202, 'Start a draft'),
  resume: move('resume', 202, 'Resume a paused campaign'),
  pause: move('pause', 200, 'Pause a campaign before its next send'),
  cancel: move('cancel', 200, 'Cancel a campaign: its pending recipients are cancelled'),
};

/**
 * Campaigns: creating or starting one only records it and enqueues its job (202 with the
 * job id, whatever the size); the queue worker expands the audience and sends. Pause,
 * resume and cancel are state changes the worker sees before its next send.
 */
export function campaignRoutes(pool: pg.Pool, queues: QueueSource, box: SecretBox): Router {
  const router = Router();
  const on = routesOn(router, '/api/campaigns');

  on(
    campaignsApi.list,
    pageHandler(campaignsApi.list.query, (req, query, page) =>
      campaigns.listCampaigns(pool, ownerOf(req), query.status, page),
    ),
  );

  on(campaignsApi.get, async (req, res) => {
    res.json(await mustFind(req));
  });

  on(
    campaignsApi.recipients,
    pageHandler(campaignsApi.recipients.query, async (req, query, page) => {
      const campaign = await mustFind(req);
      return campaigns.listRecipients(pool, ownerOf(req), campaign.id, query.status, page);
    }),
  );

  on(campaignsApi.create, async (req, res) => {
    const body = parseInput(campaignsApi.create.body, req.body, 'body');
    const owner = ownerOf(req);
    const scheduledAt = body.schedule_at ? new Date(body.schedule_at) : null;
    const jobId = body.draft ? null : randomUUID();
    const created = await campaigns.insertCampaign(pool, box, owner, {
      name: body.name,
      template: body.template,
      audience: body.audience,
      session_token: body.session_token,
      min_delay_ms: body.min_delay_ms,
      max_delay_ms: body.max_delay_ms,
      scheduled_at: scheduledAt,
      status: body.draft ? 'draft' : 'scheduled',
      job_id: jobId,
    });
    if (!jobId) {
      res.status(201).json(created);
      return;
    }
    await enqueueCampaign(pool, queues, owner, created.id, jobId, scheduledAt, () =>
      campaigns.deleteCampaign(pool, owner, created.id),
    );
    res.status(202).json(created);
  });

  // start and resume (→ scheduled): a new job owns the campaign.
  const startAction = (action: 'start' | 'resume') => async (req: Request, res: Response) => {
    const owner = ownerOf(req);
    const current = await mustFind(req);
    const jobId = randomUUID();
    const moved = await campaigns.applyAction(pool, owner, current.id, action, jobId);
    if (!moved) throw wrongState(current.status, action);
    const scheduledAt = moved.scheduled_at instanceof Date ? moved.scheduled_at : null;
    // Redis refused the job: the campaign goes back to where it was, with its old job.
    await enqueueCampaign(pool, queues, owner, moved.id, jobId, scheduledAt, () =>
      campaigns.transitionCampaign(pool, owner, moved.id, ['scheduled'], current.status, current.job_id),
    );
    res.status(202).json(moved);
  };
  on(campaignsApi.start, startAction('start'));
  on(campaignsApi.resume, startAction('resume'));

  on(campaignsApi.pause, async (req, res) => {
    const current = await mustFind(req);
    const moved = await campaigns.applyAction(pool, ownerOf(req), current.id, 'pause');
    if (!moved) throw wrongState(current.status, 'pause');
    res.json(moved);
  });

  on(campaignsApi.cancel, async (req, res) => {
    const owner = ownerOf(req);
    const current = await mustFind(req);
    const moved = await campaigns.applyAction(pool, owner, current.id, 'cancel');
    if (!moved) throw wrongState(current.status, 'cancel');
    await campaigns.cancelPendingRecipients(pool, owner.tenantId, current.id);
    res.json(await mustFind(req));
  });

  async function mustFind(req: Request): Promise<campaigns.CampaignRow> {
    const campaign = await campaigns.findCampaign(pool, ownerOf(req), parseId(req.params.id, 'campaign'));
    if (!campaign) throw notFoundError('campaign');
    return campaign;
  }

  return router;
}

function wrongState(status: string, action: CampaignAction): HttpError {
  const { from, done } = CAMPAIGN_ACTIONS[action];
  return new HttpError(
    'conflict',
    `the campaign is ${status}; only a campaign that is ${from.join(' or ')} can be ${done}`,
  );
}

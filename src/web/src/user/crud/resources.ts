import { z } from 'zod';
import type { Plan, SubscriptionStatus } from '../../shared/types.ts';

/**
 * The shapes of the caller's agents, teams, roles and subscription (docs/API.md) and the
 * client-side mirror of the server's body schemas (src/daemon/api/validate.ts,
 * routes/session/*.ts, routes/user/subscription.ts): a form refuses what the API would
 * refuse with a 400, before any request is sent.
 */

export interface Team {
  id: string;
  name: string;
  created_at: string;
  updated_at: string;
}

/** The fixed set a role can grant (routes/session/permissions.ts), with labels. */
export const PERMISSIONS = [
  ['contacts:read', 'Read contacts'],
  ['contacts:write', 'Edit contacts'],
  ['campaigns:read', 'Read campaigns'],
  ['campaigns:write', 'Edit campaigns'],
  ['campaigns:send', 'Send campaigns'],
  ['agents:read', 'Read agents'],
  ['agents:write', 'Edit agents'],
  ['reports:read', 'Read reports'],
  ['inbox:read', 'Read the inbox'],
  ['inbox:reply', 'Reply in the inbox'],
] as const;
export type Permission = (typeof PERMISSIONS)[number][0];
const PERMISSION_IDS = PERMISSIONS.map(([id]) => id) as [Permission, ...Permission[]];

export interface Role {
  id: string;
  name: string;
  permissions: Permission[];
  created_at: string;
  updated_at: string;
}

export const AGENT_STATUSES = ['active', 'away', 'inactive'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

export interface Agent {
  id: string;
  name: string;
  email: string;
  status: AgentStatus;
  team_id: string | null;
  role_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface Subscription {
  id: string;
  status: SubscriptionStatus;
  cancel_at_period_end: boolean;
  current_period_start: string;
  current_period_end: string;
  canceled_at: string | null;
  plan: Plan;
  usage: { agents: number; messages_this_month: number };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// validate.ts: names are trimmed, 1–100 characters; emails trimmed, ≤ 254, an email.
export const nameField = z
  .string()
  .trim()
  .min(1, 'Enter a name.')
  .max(100, 'A name is at most 100 characters.');
const emailField = z
  .string()
  .trim()
  .min(1, 'Enter an email address.')
  .max(254, 'An email address is at most 254 characters.')
  .pipe(z.email('Enter a valid email address, like ana@example.com.'));
/** A select's value: '' is "none" (sent as null), else one of the caller's ids. */
const optionalId = z.union([z.literal(''), z.string().regex(UUID, 'Choose one from the list.')]);

export const teamForm = z.object({ name: nameField });
export type TeamValues = z.infer<typeof teamForm>;

export const roleForm = z.object({
  name: nameField,
  permissions: z
    .array(z.enum(PERMISSION_IDS))
    .refine((list) => new Set(list).size === list.length, 'A permission is listed twice.'),
});
export type RoleValues = z.infer<typeof roleForm>;

export const agentForm = z.object({
  name: nameField,
  email: emailField,
  status: z.enum(AGENT_STATUSES),
  team_id: optionalId,
  role_id: optionalId,
});
export type AgentValues = z.infer<typeof agentForm>;

// routes/user/subscription.ts: {plan_id}, 1–64 characters; only a UUID can name a plan.
export const planForm = z.object({
  plan_id: z
    .string()
    .trim()
    .min(1, 'Choose a plan.')
    .max(64)
    .regex(UUID, 'A plan id is a UUID (36 characters).'),
});
export type PlanValues = z.infer<typeof planForm>;

import { z } from 'zod';
import { PERMISSIONS } from '../../../../daemon/api/routes/session/permissions.ts';
import type { AgentStatus, Permission } from '../../shared/api.ts';

/**
 * The caller's agents, teams, roles and subscription: their shapes are the API contract's
 * (shared/api.ts), re-exported for the pages; what is here is the client-side mirror of
 * the server's body schemas (src/daemon/api/validate.ts, routes/session/*.ts,
 * routes/user/subscription.ts): a form refuses what the API would refuse with a 400,
 * before any request is sent.
 */
export type { Agent, AgentStatus, Permission, Role, Subscription, Team } from '../../shared/api.ts';

/** The fixed set a role can grant, the server's own list (routes/session/permissions.ts). */
export { PERMISSIONS };

/** In words, one for every permission: a new one does not compile until it has its label. */
export const PERMISSION_LABELS: Record<Permission, string> = {
  'contacts:read': 'Read contacts',
  'contacts:write': 'Edit contacts',
  'campaigns:read': 'Read campaigns',
  'campaigns:write': 'Edit campaigns',
  'campaigns:send': 'Send campaigns',
  'agents:read': 'Read agents',
  'agents:write': 'Edit agents',
  'reports:read': 'Read reports',
  'inbox:read': 'Read the inbox',
  'inbox:reply': 'Reply in the inbox',
};

/**
 * An agent's statuses, in words and in the form's order. The contract names them inline
 * (there is no constant to import), so this record has one for each of its statuses: a
 * new one does not compile until it is here.
 */
export const AGENT_STATUS_LABELS: Record<AgentStatus, string> = {
  active: 'Active',
  away: 'Away',
  inactive: 'Inactive',
};
export const AGENT_STATUSES = Object.keys(AGENT_STATUS_LABELS) as [AgentStatus, ...AgentStatus[]];

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
    .array(z.enum(PERMISSIONS))
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

import { adminPlansApi } from '../routes/admin/plans.ts';
import { stripeApi } from '../routes/admin/stripe.ts';
import { adminUsersApi } from '../routes/admin/users.ts';
import { contactsApi } from '../routes/contacts.ts';
import { meApi } from '../routes/me.ts';
import { campaignsApi } from '../routes/queues/campaigns.ts';
import { importsApi } from '../routes/queues/imports.ts';
import { jobsApi } from '../routes/queues/jobs.ts';
import { reportsApi } from '../routes/queues/reports.ts';
import { serviceApi } from '../routes/service.ts';
import { agentsApi } from '../routes/session/agents.ts';
import { rolesApi } from '../routes/session/roles.ts';
import { teamsApi } from '../routes/session/teams.ts';
import { userPlansApi } from '../routes/user/plans.ts';
import { subscriptionApi } from '../routes/user/subscription.ts';
import type { RouteSpec } from './route.ts';

/** Every route the API serves, in the document's order. A new route module joins here. */
export const OPERATIONS: readonly RouteSpec[] = [
  serviceApi,
  meApi,
  agentsApi,
  teamsApi,
  rolesApi,
  contactsApi,
  campaignsApi,
  importsApi,
  reportsApi,
  jobsApi,
  userPlansApi,
  subscriptionApi,
  adminUsersApi,
  adminPlansApi,
  stripeApi,
].flatMap((group): RouteSpec[] => Object.values(group));

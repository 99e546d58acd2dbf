/**
 * Cache keys and invalidation tags. Every key holds the tenant in a Redis hash tag
 * (`{t:<id>}`), so one tenant's keys share a cluster slot and a multi-key script works on
 * Redis Cluster too, and no key can be built without naming its tenant.
 *
 * A tag is a generation counter. An entry's key includes the current generation of each
 * of its tags; a mutation INCRs the tags it changes, so every older entry becomes
 * unreachable at once, in every process — no KEYS, no SCAN, nothing to delete (the TTL
 * reaps the orphans).
 */
export type { Owner as Scope } from '../db/repositories/owned.ts';

import type { Owner as Scope } from '../db/repositories/owned.ts';

const tenantPart = (tenantId: string) => `{t:${tenantId}}`;
const tag = (tenantId: string, name: string) => `wuz:gen:${tenantPart(tenantId)}:${name}`;
const userTag = (scope: Scope, name: string) => tag(scope.tenantId, `u:${scope.userId}:${name}`);

export const tags = {
  stripe: (s: Scope) => tag(s.tenantId, 'stripe'),
  analytics: (s: Scope) => tag(s.tenantId, 'analytics'),
  plans: (s: Scope) => tag(s.tenantId, 'plans'),
  subscription: (s: Scope) => userTag(s, 'subscription'),
  agents: (s: Scope) => userTag(s, 'agents'),
  /** Only how many agents there are (a subscription shows it): not bumped by a rename. */
  agentCount: (s: Scope) => userTag(s, 'agent-count'),
  teams: (s: Scope) => userTag(s, 'teams'),
  roles: (s: Scope) => userTag(s, 'roles'),
};

/** The key of an entry before its generations are appended. */
export function entryBase(scope: Scope, route: string, userScoped: boolean, variant: string): string {
  return `wuz:cache:${tenantPart(scope.tenantId)}:${route}:${userScoped ? scope.userId : '-'}:${variant}`;
}

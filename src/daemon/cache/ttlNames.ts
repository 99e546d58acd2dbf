/** The cached read endpoints' TTL names, as `--cache-ttl` spells them. */
export const CACHE_TTL_NAMES = ['settings', 'analytics', 'subscription', 'agents', 'teams', 'roles'] as const;
export type CacheTtlName = (typeof CACHE_TTL_NAMES)[number];

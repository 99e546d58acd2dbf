/**
 * The ephemeral daemon's limits with `wuzctl bench --rate-limit on` (and the bench
 * scripts' daemons): the most the configuration allows, so the limiter does all its work
 * (a count per request, its headers) and never refuses.
 */
export const UNREACHABLE_LIMITS = {
  RATE_LIMIT_FREE: '10000000',
  RATE_LIMIT_PRO: '10000000',
  RATE_LIMIT_ENTERPRISE: '10000000',
};

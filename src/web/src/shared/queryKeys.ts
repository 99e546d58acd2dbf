import type { Me } from './auth.tsx';

/**
 * Query keys mirror the API's cache scopes: tenant-wide data under the tenant, a user's
 * own data under the user. A mutation invalidates the same scopes the API invalidates
 * (docs/API.md, "Caching"), so what the page shows and what the server caches move together.
 */
export function keys(me: Pick<Me, 'tenant' | 'user'>) {
  const tenant = ['tenant', me.tenant.id] as const;
  const user = ['user', me.user.id] as const;
  return {
    stripeSettings: [...tenant, 'stripe-settings'] as const,
    analytics: [...tenant, 'analytics'] as const,
    plans: [...tenant, 'plans'] as const,
    users: (params?: object) => [...tenant, 'users', ...(params ? [params] : [])] as const,
    subscription: [...user, 'subscription'] as const,
    agents: (params?: object) => [...user, 'agents', ...(params ? [params] : [])] as const,
    teams: (params?: object) => [...user, 'teams', ...(params ? [params] : [])] as const,
    roles: (params?: object) => [...user, 'roles', ...(params ? [params] : [])] as const,
    contacts: (params?: object) => [...user, 'contacts', ...(params ? [params] : [])] as const,
    imports: (id?: string) => [...user, 'imports', ...(id ? [id] : [])] as const,
    campaigns: (params?: object) => [...user, 'campaigns', ...(params ? [params] : [])] as const,
    campaign: (id: string) => [...user, 'campaign', id] as const,
    jobs: (id?: string) => [...user, 'jobs', ...(id ? [id] : [])] as const,
    reports: (id?: string) => [...user, 'reports', ...(id ? [id] : [])] as const,
  };
}

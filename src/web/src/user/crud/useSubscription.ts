import { useQuery } from '@tanstack/react-query';
import { api } from '../../shared/api.ts';
import { useMe } from '../../shared/auth.tsx';
import { keys } from '../../shared/queryKeys.ts';
import type { Subscription } from './resources.ts';

/**
 * The caller's live subscription, or `null` when they have none: the API answers `200`
 * with `null` for that (docs/API.md). Every failure — a 404 included — is an error, never
 * taken for "no subscription".
 */
export function useSubscription() {
  const me = useMe();
  return useQuery({
    queryKey: keys(me).subscription,
    queryFn: () => api.get<Subscription | null>('/api/user/subscription'),
  });
}

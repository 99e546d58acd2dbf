import { useQuery } from '@tanstack/react-query';
import { ApiError, api } from '../../shared/api.ts';
import { useMe } from '../../shared/auth.tsx';
import { keys } from '../../shared/queryKeys.ts';
import type { Subscription } from './resources.ts';

/**
 * The caller's live subscription, or `null` when they have none: the API answers `404`
 * for that (docs/API.md), which is an answer, not a failure — no retries, no error state.
 */
export function useSubscription() {
  const me = useMe();
  return useQuery({
    queryKey: keys(me).subscription,
    queryFn: async () => {
      try {
        return await api.get<Subscription>('/api/user/subscription');
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      }
    },
  });
}

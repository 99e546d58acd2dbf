import { QueryClient } from '@tanstack/react-query';
import { ApiError } from './api.ts';
import { onSessionEnd } from './auth.tsx';

/** The signed-in app's query cache; emptied whenever a session ends (auth.tsx). */
export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 30_000,
      // A client error will not change on retry; a network blip may.
      retry: (count, error) =>
        count < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
      // Offline, the service worker may still answer from its cache: let the query run.
      networkMode: 'offlineFirst',
    },
    mutations: { networkMode: 'always' },
  },
});

onSessionEnd(() => queryClient.clear());

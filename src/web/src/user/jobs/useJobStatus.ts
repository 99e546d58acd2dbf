import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { ApiError, api } from '../../shared/api.ts';
import { useMe } from '../../shared/auth.tsx';
import { keys } from '../../shared/queryKeys.ts';
import { FINAL_JOB, type JobStatus } from './types.ts';

/** How often a running job is asked about (ms); a refused poll backs off. */
export const JOB_POLL_MS = 1000;
const BACKOFF_MS = 5000;
/** How often a sending campaign is asked about (ms). */
export const CAMPAIGN_POLL_MS = 2000;

/** A 4xx other than 408/429 will not change by asking again. */
export function isPermanent(error: unknown): boolean {
  return (
    error instanceof ApiError &&
    error.status >= 400 &&
    error.status < 500 &&
    error.status !== 408 &&
    error.status !== 429
  );
}

/** Retry a failed read up to twice, unless the answer cannot change. */
export const retryTransient = (count: number, error: Error) => !isPermanent(error) && count < 2;

/**
 * `GET /api/jobs/:id/status`, polled every second until the job is completed or failed
 * (then it stops). A 404 stops too; a rate-limited or unreachable server is asked again
 * less often. Only while the tab is visible (react-query's default).
 */
export function useJobStatus(jobId: string | null | undefined) {
  const me = useMe();
  return useQuery({
    queryKey: keys(me).jobs(jobId ?? undefined),
    queryFn: () => api.get<JobStatus>(`/api/jobs/${encodeURIComponent(jobId ?? '')}/status`),
    enabled: Boolean(jobId),
    retry: retryTransient,
    refetchInterval: (query) => {
      const { data, error } = query.state;
      if (error) return isPermanent(error) ? false : BACKOFF_MS;
      if (data && FINAL_JOB.includes(data.state)) return false;
      return JOB_POLL_MS;
    },
  });
}

export function isFinalJob(job: JobStatus | undefined): boolean {
  return Boolean(job && FINAL_JOB.includes(job.state));
}

/** `value`, once it has stopped changing for `ms`. */
export function useDebounced<T>(value: T, ms = 300): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Retries an async operation with exponential backoff until it succeeds or the attempts
 * run out; the last error is rethrown so the caller can say what failed.
 */
export interface RetryOptions {
  attempts?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  onRetry?: (error: unknown, attempt: number) => void;
  /** Checked after each failure: true stops retrying (a deadline rather than a count). */
  giveUp?: () => boolean;
}

export async function retry<T>(
  operation: (attempt: number) => Promise<T>,
  {
    attempts = 6,
    initialDelayMs = 200,
    maxDelayMs = 3000,
    onRetry = () => {},
    giveUp = () => false,
  }: RetryOptions = {},
): Promise<T> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      lastError = error;
      if (attempt >= attempts || giveUp()) break;
      onRetry(error, attempt);
      await sleep(Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1)));
    }
  }
  throw lastError;
}

export function errorMessage(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return errorMessage(error.errors[0]);
  if (error instanceof Error) return error.message || (error as NodeJS.ErrnoException).code || error.name;
  return String(error);
}

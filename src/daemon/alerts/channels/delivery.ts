import { setTimeout as sleep } from 'node:timers/promises';

/** What the channels share: the retry spacing, an abortable wait, the length of a kept answer. */
export const ANSWER_LIMIT = 500;

/** Exponential with "equal jitter": never less than half the step, so retries stay spaced. */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  const step = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + Math.random() * (step / 2));
}

/** false when the signal ended the wait: the caller stops retrying. */
export async function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
    return true;
  } catch {
    return false;
  }
}

export function trimAnswer(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= ANSWER_LIMIT ? trimmed : `${trimmed.slice(0, ANSWER_LIMIT - 1)}…`;
}

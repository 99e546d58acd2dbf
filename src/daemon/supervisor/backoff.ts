/**
 * Restart policy for crashed children: exponential delay, capped, forgiven after a stable
 * run. Several crashes inside a short window mark a crash loop, surfaced in status.
 */
export const restartPolicy = {
  initialDelayMs: 500,
  factor: 2,
  maxDelayMs: 15_000,
  stableAfterMs: 30_000,
  crashLoopCount: 5,
  crashLoopWindowMs: 60_000,
};

/** Delay before restart number `consecutive` (1-based) of a child that keeps crashing. */
export function restartDelay(consecutive: number, policy = restartPolicy): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** Math.max(0, consecutive - 1));
}

/** True when `crashTimes` holds at least crashLoopCount crashes within the window ending at `now`. */
export function isCrashLoop(crashTimes: number[], now: number, policy = restartPolicy): boolean {
  return crashTimes.filter((t) => now - t <= policy.crashLoopWindowMs).length >= policy.crashLoopCount;
}

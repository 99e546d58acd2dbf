const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * A duration as people type it — `30s`, `15m`, `2h`, `7d` (also `ms` and `w`) — in
 * milliseconds; null when it is not one. A bare `0` means no time at all.
 */
export function parseDuration(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(text.trim().toLowerCase());
  if (!match) return null;
  const [, amount, unit] = match;
  const value = Number(amount);
  if (unit === undefined && value !== 0) return null; // a unit is required: is `30` seconds or days?
  const ms = Math.round(value * (UNITS[unit ?? 'ms'] ?? 1));
  return Number.isSafeInteger(ms) ? ms : null;
}

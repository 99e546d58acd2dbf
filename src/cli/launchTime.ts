import { readFileSync } from 'node:fs';

/** /proc's clock ticks per second (USER_HZ): 100 on every Linux the daemon runs on. */
const TICKS_PER_SECOND = 100;

/** How long before this process the user's command can have started. */
const CHAIN_WINDOW_MS = 60_000;

interface ProcEntry {
  ppid: number;
  startedAt: number;
  command: string;
}

function bootTime(): number | null {
  const match = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
  return match ? Number(match[1]) * 1000 : null;
}

function procEntry(pid: number, boot: number): ProcEntry | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    return {
      ppid: Number(fields[1]),
      startedAt: boot + (Number(fields[19]) * 1000) / TICKS_PER_SECOND,
      command,
    };
  } catch {
    return null;
  }
}

/**
 * When the user's command started, in epoch ms: the oldest ancestor whose command line
 * runs `wuzctl serve` — `npx wuzctl serve` is npm, then `sh -c wuzctl serve`, then the launcher
 * (which may re-run the CLI under the pinned Node), then this process. What the user waited
 * is measured from there, not from when this process got going (a second or more later on
 * a busy machine). Without /proc: this process's own start.
 */
export function commandStartedAt(): number {
  let earliest = performance.timeOrigin;
  try {
    const boot = bootTime();
    if (boot === null) return earliest;
    let pid = process.ppid;
    for (let depth = 0; pid > 1 && depth < 8; depth++) {
      const entry = procEntry(pid, boot);
      // Only the chain that runs `wuzctl serve`, and only if it began just before us (not a
      // long-lived parent that happens to be named wuzctl).
      if (!entry || !/\bwuzctl\b.*\bserve\b/.test(entry.command)) break;
      if (entry.startedAt < performance.timeOrigin - CHAIN_WINDOW_MS) break;
      earliest = Math.min(earliest, entry.startedAt);
      pid = entry.ppid;
    }
  } catch {
    // not Linux, or /proc hidden: this process's start is the best we know
  }
  return earliest;
}

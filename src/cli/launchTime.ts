import { readFileSync } from 'node:fs';

/** /proc's clock ticks per second (USER_HZ): 100 on every Linux the daemon runs on. */
const TICKS_PER_SECOND = 100;

/** How long before this process the user's command can have started. */
const CHAIN_WINDOW_MS = 60_000;

interface ProcEntry {
  ppid: number;
  startTicks: number;
  command: string;
}

/** A process's parent and start time in clock ticks since boot (field 22 of its stat). */
function procEntry(pid: number | 'self'): ProcEntry | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    return {
      ppid: Number(fields[1]),
      startTicks: Number(fields[19]),
      command,
    };
  } catch {
    return null;
  }
}

/** A command line that runs `wuzctl serve` (npx's `npm exec wuzctl serve` included). */
const RUNS_SERVE = /\bwuzctl\b.*\bserve\b/;
/** npm running a script (`npm start`: npm titles its process with its own arguments). */
const NPM_SCRIPT = /^npm\s/;

/**
 * When the user's command started, in epoch ms: the oldest ancestor whose command line
 * runs `wuzctl serve` — `npx wuzctl serve` is npm, then `sh -c wuzctl serve`, then the launcher
 * (which may re-run the CLI under the pinned Node), then this process; `npm start` is npm,
 * then this process (its script `exec`s), so the npm right above such a chain counts too. What
 * the user waited is measured from there, not from when this process got going (a second
 * or more later on a busy machine). Without /proc: this process's own start.
 */
export function commandStartedAt(): number {
  let earliest = performance.timeOrigin;
  try {
    // Relative to this process's own start, which Node knows to the millisecond (/proc's
    // boot time has whole seconds only).
    const self = procEntry('self');
    if (!self) return earliest;
    const startedAt = (entry: ProcEntry) =>
      performance.timeOrigin - ((self.startTicks - entry.startTicks) * 1000) / TICKS_PER_SECOND;
    let pid = process.ppid;
    for (let depth = 0; pid > 1 && depth < 8; depth++) {
      const entry = procEntry(pid);
      // Only the chain that runs `wuzctl serve`, and only if it began just before us (not a
      // long-lived parent that happens to be named wuzctl).
      if (!entry) break;
      const npm = NPM_SCRIPT.test(entry.command);
      if (!npm && !RUNS_SERVE.test(entry.command)) break;
      const at = startedAt(entry);
      if (at < performance.timeOrigin - CHAIN_WINDOW_MS) break;
      earliest = Math.min(earliest, at);
      if (npm) break; // npm is where the user's command began: nothing above it is theirs
      pid = entry.ppid;
    }
  } catch {
    // not Linux, or /proc hidden: this process's start is the best we know
  }
  return earliest;
}

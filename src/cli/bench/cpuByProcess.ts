import { readdirSync, readFileSync } from 'node:fs';

/**
 * Where a scenario's CPU goes, process by process: this process (the load generator) and
 * every process it started — the ephemeral daemon's supervisor, API and queue workers and
 * redis-server, or a floor's Express workers (and the redis floor's redis-server). A requests/s figure
 * says how fast; this says which process paid for each request, so that a gap to the floor
 * can be placed (docs/BENCH.md). Linux only (/proc); elsewhere there is no breakdown.
 */
export interface CpuShare {
  /** What the processes are: "api workers", "redis-server", "load generator (wuzctl bench)"… */
  process: string;
  /** How many processes of that kind were counted. */
  count: number;
  /** Cores they kept busy, on average over the window. */
  cores: number;
  /** CPU time per request of the scenario, in µs. */
  usPerRequest: number;
}

/** Linux's USER_HZ: /proc reports CPU time in these ticks on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

interface Sample {
  at: number;
  /** CPU seconds (user + system, all threads) and what the process is, by pid. */
  processes: Map<number, { cpu: number; label: string }>;
}

export class CpuByProcess {
  private readonly root: number;
  private start: Sample | null = null;

  /** Counts `root` (default: this process) and its descendants. */
  constructor(root = process.pid) {
    this.root = root;
  }

  /** Starts the window; false when there is no /proc to read. */
  begin(): boolean {
    this.start = sample(this.root);
    return this.start !== null;
  }

  /** Ends the window: the shares, biggest first, for `requestsPerSecond`; null without /proc. */
  end(requestsPerSecond: number): CpuShare[] | null {
    const end = sample(this.root);
    const start = this.start;
    if (!start || !end) return null;
    const seconds = (end.at - start.at) / 1000;
    if (seconds <= 0) return null;
    const byLabel = new Map<string, { count: number; cpu: number }>();
    for (const [pid, now] of end.processes) {
      const before = start.processes.get(pid);
      // Counted only over the whole window: a process that started or ended inside it is a
      // scenario's set-up or tear-down, not its steady state.
      if (!before || before.label !== now.label) continue;
      const entry = byLabel.get(now.label) ?? { count: 0, cpu: 0 };
      entry.count++;
      entry.cpu += Math.max(0, now.cpu - before.cpu);
      byLabel.set(now.label, entry);
    }
    return (
      [...byLabel]
        .map(([label, { count, cpu }]) => {
          const cores = cpu / seconds;
          return {
            process: label,
            count,
            cores: round(cores, 2),
            usPerRequest: requestsPerSecond > 0 ? Math.round((cores / requestsPerSecond) * 1e6) : 0,
          };
        })
        // Idle bystanders (the queue worker during a read scenario) are left out.
        .filter((share) => share.cores >= 0.02 || share.process === LOAD_GENERATOR)
        .sort((a, b) => b.cores - a.cores)
    );
  }
}

function sample(root: number): Sample | null {
  let pids: number[];
  try {
    pids = readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return null;
  }
  // Every process's parent and CPU (to find the descendants); command lines only for those.
  const stats = new Map<number, { ppid: number; cpu: number }>();
  const children = new Map<number, number[]>();
  for (const pid of pids) {
    const stat = readStat(pid);
    if (!stat) continue;
    stats.set(pid, stat);
    const siblings = children.get(stat.ppid);
    if (siblings) siblings.push(pid);
    else children.set(stat.ppid, [pid]);
  }
  if (!stats.has(root)) return null;
  const processes = new Map<number, { cpu: number; label: string }>();
  const walk = (pid: number) => {
    const stat = stats.get(pid);
    if (!stat || processes.has(pid)) return;
    const label = pid === root ? LOAD_GENERATOR : labelOf(readCmdline(pid));
    processes.set(pid, { cpu: stat.cpu, label });
    for (const child of children.get(pid) ?? []) walk(child);
  };
  walk(root);
  return { at: performance.now(), processes };
}

function readStat(pid: number): { ppid: number; cpu: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (2nd field) may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
  } catch {
    return null; // it exited meanwhile, or is not ours to read
  }
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return ''; // it exited meanwhile
  }
}

/** The root is the process that drives the load (autocannon runs in it). */
const LOAD_GENERATOR = 'load generator (wuzctl bench)';

/** What a process is, from its command line (the daemon's children say their role). */
export function labelOf(cmdline: string): string {
  if (cmdline.includes('redis-server')) return 'redis-server';
  if (/childMain\.[jt]s/.test(cmdline)) {
    const role = /--role (\w+)/.exec(cmdline)?.[1];
    return role === 'api' ? 'api workers' : role === 'queue' ? 'queue worker' : 'daemon child';
  }
  const floor = /floorServer\.[jt]s(?: (\w+))?/.exec(cmdline);
  if (floor) return floor[1] === 'pg' ? 'floor (express + pg)' : 'floor (express + ioredis)';
  if (/\bserve\b/.test(cmdline)) return 'supervisor';
  const program = cmdline.split(' ')[0] ?? '';
  return program.split('/').at(-1) || 'other';
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

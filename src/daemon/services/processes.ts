import { readdir, readFile, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A process as Linux describes it in /proc: its working directory, binary and title. */
export interface ProcessInfo {
  pid: number;
  /** argv as the process shows it now (redis-server rewrites it into its title). */
  argv: string[];
  /** The binary it runs (resolved), or null when we may not look. */
  exe: string | null;
  cwd: string | null;
}

export const canListProcesses = process.platform === 'linux';

/** One process's /proc entry; null when it is gone or not ours to read. */
export async function processInfo(pid: number): Promise<ProcessInfo | null> {
  const base = `/proc/${pid}`;
  const cmdline = await readFile(`${base}/cmdline`, 'utf8').catch(() => null);
  if (cmdline === null) return null;
  const [exe, cwd] = await Promise.all([
    readlink(`${base}/exe`).catch(() => null),
    readlink(`${base}/cwd`).catch(() => null),
  ]);
  return { pid, argv: cmdline.split('\0').filter(Boolean), exe, cwd };
}

/**
 * Every process whose working directory is `dir`. redis-server chdirs into its `dir`, so
 * this finds a managed redis-server by where it works, whatever its title or pid file say.
 */
export async function processesWorkingIn(dir: string): Promise<ProcessInfo[]> {
  if (!canListProcesses) return [];
  const target = await realpath(dir).catch(() => path.resolve(dir));
  const pids = (await readdir('/proc').catch(() => []))
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => pid !== process.pid);
  const found: ProcessInfo[] = [];
  for (const pid of pids) {
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => null);
    if (cwd !== target) continue;
    const info = await processInfo(pid);
    if (info) found.push(info);
  }
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits until `pid` has exited; false when it still runs after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** SIGTERM, then SIGKILL after `graceMs`; true once the process is gone. */
export async function terminate(pid: number, graceMs: number): Promise<boolean> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return !isAlive(pid);
  }
  if (await waitForExit(pid, graceMs)) return true;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
  return waitForExit(pid, 2000);
}

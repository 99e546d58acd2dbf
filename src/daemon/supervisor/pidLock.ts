import { open, readFile, rm } from 'node:fs/promises';
import { isAlive } from '../services/processes.ts';

export { isAlive };

export class AlreadyRunningError extends Error {
  readonly pid: number;

  constructor(pid: number) {
    super(`already running (pid ${pid})`);
    this.pid = pid;
  }
}

export async function readPid(file: string): Promise<number | null> {
  const pid = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/**
 * One daemon per data dir. The pid file is created exclusively (O_EXCL), so two starts
 * racing cannot both win; a file left by a dead process is taken over.
 */
export async function acquirePidLock(file: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        if ((await readPid(file)) === process.pid) await rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = await readPid(file);
      if (pid && pid !== process.pid && isAlive(pid)) throw new AlreadyRunningError(pid);
      await rm(file, { force: true });
    }
  }
  throw new Error(`could not take the pid file ${file}`);
}

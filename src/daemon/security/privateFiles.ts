import { chmodSync, lstatSync, mkdirSync, readdirSync, type Stats } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * The data dir holds the database, the Redis AOF, credentials and the control socket:
 * only the daemon's own user may read or write any of it. New files are private through
 * the umask (PGlite and redis-server create theirs with 0666/0644 and inherit it), and a
 * dir written by an earlier version, with 0755/0644 modes, is tightened on the way in.
 */
export const PRIVATE_UMASK = 0o077;

/** Makes everything this process (and the children it starts) creates from now on private. */
export function applyPrivateUmask(): void {
  process.umask(PRIVATE_UMASK);
}

/** Creates `dir` (0700) and tightens what an earlier version left in it: dirs 0700, files 0600. */
export async function preparePrivateDir(dir: string): Promise<void> {
  applyPrivateUmask();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await makePrivate(dir);
}

/** The synchronous form, for `serve --detach`, which opens the log before anything is async. */
export function preparePrivateDirSync(dir: string): void {
  applyPrivateUmask();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/**
 * Dirs 0700, files 0600 under `entry`. Also after PGlite opens its data: its file system
 * layer sets the modes PostgreSQL asked for inside WebAssembly (0666) with chmod, which
 * the umask does not cover.
 *
 * Synchronous inside: the walk covers PGlite's ~1000 files at every start and stop, and a
 * promise per lstat (one thread-pool round trip each, one after the other) made it
 * ~100–300 ms of the start's critical path, where the same system calls made directly
 * take a few milliseconds. The signature stays async for its callers.
 */
export async function makePrivate(entry: string): Promise<void> {
  makePrivateSync(entry);
}

function makePrivateSync(entry: string): void {
  let stat: Stats;
  try {
    stat = lstatSync(entry);
  } catch {
    return;
  }
  // Symlinks are left alone: chmod would follow them out of the data dir.
  if (stat.isSymbolicLink()) return;
  if (stat.isDirectory()) {
    if ((stat.mode & 0o077) !== 0) tryChmod(entry, 0o700);
    let names: string[] = [];
    try {
      names = readdirSync(entry);
    } catch {}
    for (const name of names) makePrivateSync(path.join(entry, name));
  } else if ((stat.mode & 0o077) !== 0) {
    // Sockets too: a unix socket's mode decides who may connect.
    tryChmod(entry, stat.mode & 0o700);
  }
}

/** A file that went away (PGlite's temporary files) or is not ours to change: left as it is. */
function tryChmod(entry: string, mode: number): void {
  try {
    chmodSync(entry, mode);
  } catch {}
}

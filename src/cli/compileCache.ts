import { lstatSync, mkdirSync } from 'node:fs';
import module from 'node:module';
import os from 'node:os';
import path from 'node:path';

/**
 * Node's on-disk compile cache (V8 code cache of every module loaded after it is on):
 * a restart of the daemon parses and compiles ~460 modules in the supervisor and as many
 * in each worker, all on 2 cores; with the cache, `wuzctl serve` restarts 1.6 → 1.35 s
 * (docs/DECISIONS.md). It is turned on here, in the entry point, and handed to the
 * daemon's children through NODE_COMPILE_CACHE so that their first import is cached too.
 *
 * Where: a private directory of the user (`$XDG_CACHE_HOME/wuzctl/compile-cache`, else
 * `~/.cache/…`), never Node's default under the world-writable tmpdir: code read back from
 * the cache runs, so the directory must be one only this user can write. Anything else —
 * another owner, group or world write bits, a symlink — and the cache stays off.
 * `NODE_DISABLE_COMPILE_CACHE=1` turns it off; a NODE_COMPILE_CACHE already set wins.
 */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const already = module.getCompileCacheDir();
  if (already) return already;
  // Node would refuse it too; checked first so that no directory is made for nothing.
  if (env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  const dir = privateCacheDir(env);
  if (!dir) return undefined;
  // FAILED (an unwritable directory, say): start without it.
  if (module.enableCompileCache(dir).status !== module.constants.compileCacheStatus.ENABLED) return undefined;
  env.NODE_COMPILE_CACHE = dir;
  return dir;
}

/** The cache directory, created 0700; undefined when it is not safe to trust or cannot be made. */
export function privateCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  try {
    // homedir() throws where the user has no home (some containers): no cache, then.
    const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
    if (!path.isAbsolute(base)) return undefined;
    const dir = path.join(base, 'wuzctl', 'compile-cache');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const step of [path.join(base, 'wuzctl'), dir]) {
      const stat = lstatSync(step);
      const mine = typeof process.getuid !== 'function' || stat.uid === process.getuid();
      if (!stat.isDirectory() || !mine || (stat.mode & 0o022) !== 0) return undefined;
    }
    return dir;
  } catch {
    return undefined; // a read-only home, say: start without the cache
  }
}

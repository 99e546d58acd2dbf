import path from 'node:path';

/** The data dir a command addresses: its flag, else WUZ_DATA_DIR, else ./.wuzctl. */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(flag ?? (env.WUZ_DATA_DIR || './.wuzctl'));
}

/** Where the daemon keeps its files inside the data dir. */
export function dataPaths(dataDir: string) {
  return {
    pidFile: path.join(dataDir, 'wuzctl.pid'),
    socket: path.join(dataDir, 'wuzctl.sock'),
    log: path.join(dataDir, 'wuzctl.log'),
    redisDir: path.join(dataDir, 'redis'),
    pgDir: path.join(dataDir, 'pg'),
  };
}

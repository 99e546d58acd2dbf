/**
 * Why the embedded Redis cannot start, in a module of its own: `wuzctl serve` and the
 * supervisor test for it without loading redisServer.ts, which imports execa (~110
 * modules) and is loaded only when the data dir's redis-server is started.
 */
export class RedisNotInstalledError extends Error {
  constructor() {
    super(
      'redis-server was not found on PATH and REDIS_URL is not set.\n' +
        '  Install Redis (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)\n' +
        '  or point wuzctl at one: REDIS_URL=redis://host:6379 wuzctl serve',
    );
  }
}

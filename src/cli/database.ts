import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { fromDatabaseError } from '../daemon/api/errors.ts';
import { AUTH_CACHE_TTL_S, forgetTokens } from '../daemon/auth/authCache.ts';
import { dataPaths, resolveDataDir } from '../daemon/config/dataPaths.ts';
import { migrate } from '../daemon/db/migrate.ts';
import { connectDatabase } from '../daemon/db/pool.ts';
import { createLogger } from '../daemon/logger.ts';
import { dataDirCredential } from '../daemon/security/credentials.ts';
import { KeyringError, type KeyringText, keyringFromText, loadKeyring } from '../daemon/security/keyring.ts';
import { preparePrivateDir } from '../daemon/security/privateFiles.ts';
import { SecretBox } from '../daemon/security/secretBox.ts';
import { EmbeddedPostgres } from '../daemon/services/embeddedPostgres.ts';
import { connectRedis } from '../daemon/services/redis.ts';
import { AlreadyRunningError, acquirePidLock, isAlive, readPid } from '../daemon/supervisor/pidLock.ts';
import { DaemonClient } from './client.ts';
import { CliError, dim, exitCodes } from './output.ts';

const note = (text: string) => {
  if (process.stderr.isTTY) process.stderr.write(dim(`${text}\n`));
};

/**
 * Runs `work` against the data that `wuzctl serve` would use, whether or not it runs:
 * DATABASE_URL when set; else the data dir's embedded database — through the running
 * daemon (PGlite has one owner), or opened here, under the daemon's own pid lock so that
 * a `serve` cannot start on it meanwhile.
 */
export async function withDatabase<T>(
  dataDirFlag: string | undefined,
  work: (pool: pg.Pool, box: SecretBox) => Promise<T>,
): Promise<T> {
  const dataDir = resolveDataDir(dataDirFlag);
  const external = process.env.DATABASE_URL;
  if (external) {
    if (!/^postgres(ql)?:\/\//.test(external)) {
      throw new CliError('DATABASE_URL must be a postgres:// or postgresql:// URL', exitCodes.usage);
    }
    return onPool(external, await localBox(dataDir), work, true);
  }
  const paths = dataPaths(dataDir);
  await preparePrivateDir(dataDir);
  let release: (() => Promise<void>) | undefined;
  try {
    release = await acquirePidLock(paths.pidFile);
  } catch (error) {
    if (!(error instanceof AlreadyRunningError)) throw error;
    // The daemon's keys, not ours: it may have WUZ_SECRET_KEY in its environment.
    const daemon = await daemonDatabase(dataDir, paths.pidFile);
    return onPool(daemon.url, new SecretBox(keyringFromText(daemon.keyring)), work, false);
  }
  const log = createLogger('cli', 'error');
  const password = await dataDirCredential(dataDir, 'database.password');
  const embedded = new EmbeddedPostgres(paths.pgDir, password, log);
  try {
    note(`opening the embedded database in ${paths.pgDir} (no daemon is running)…`);
    await embedded.start().catch((error: Error) => {
      throw new CliError(error.message);
    });
    return await onPool(embedded.url, await localBox(dataDir), work, true);
  } finally {
    await embedded.stop();
    await release();
  }
}

/** The secret keys as `serve` would load them here (WUZ_SECRET_KEY…, else the data dir's). */
async function localBox(dataDir: string): Promise<SecretBox> {
  const keyring = await loadKeyring(dataDir).catch((error: Error) => {
    throw error instanceof KeyringError ? new CliError(error.message, exitCodes.usage) : error;
  });
  return new SecretBox(keyring);
}

/** The running daemon's database URL and keys; waits while a daemon that holds the lock is still starting. */
async function daemonDatabase(
  dataDir: string,
  pidFile: string,
): Promise<{ url: string; keyring: KeyringText }> {
  const client = new DaemonClient(dataDir);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await client.database();
    } catch (error) {
      const pid = await readPid(pidFile);
      const starting =
        error instanceof CliError && error.exitCode === exitCodes.notRunning && pid && isAlive(pid);
      if (!starting || Date.now() > deadline) throw error;
      await sleep(250);
    }
  }
}

async function onPool<T>(
  url: string,
  box: SecretBox,
  work: (pool: pg.Pool, box: SecretBox) => Promise<T>,
  runMigrations: boolean,
): Promise<T> {
  const pool = await connectDatabase(url, 3).catch((error: Error) => {
    throw new CliError(
      error.message,
      exitCodes.failure,
      'check DATABASE_URL, or unset it to use the data dir',
    );
  });
  try {
    // The daemon migrates before it serves; a direct connection may find an older schema.
    if (runMigrations) await migrate(pool);
    return await work(pool, box);
  } catch (error) {
    // A unique or foreign-key violation is the user's input, said in words (as the API does).
    const known = fromDatabaseError(error);
    throw known ? new CliError(known.message) : error;
  } finally {
    await pool.end().catch(() => {});
  }
}

/**
 * After revoking tokens in the database, drop them from the API's auth cache: through the
 * daemon of this data dir when one runs, and in REDIS_URL when set. Without either, no
 * daemon can hold them (the next start clears the cache). A failure only delays the
 * revocation by the cache TTL, so it warns instead of failing the command.
 */
export async function forgetCachedTokens(
  dataDirFlag: string | undefined,
  prefixes: string[],
  meanwhile = 'the API may accept the revoked token',
): Promise<void> {
  if (prefixes.length === 0) return;
  const dataDir = resolveDataDir(dataDirFlag);
  const warn = (error: unknown) =>
    process.stderr.write(
      `warning: done, but the auth cache could not be told (${(error as Error).message}); ` +
        `${meanwhile} for up to ${AUTH_CACHE_TTL_S} s\n`,
    );
  const pid = await readPid(dataPaths(dataDir).pidFile);
  if (pid && isAlive(pid)) await new DaemonClient(dataDir).forgetTokens(prefixes).catch(warn);
  const redisUrl = process.env.REDIS_URL;
  if (redisUrl) {
    const redis = await connectRedis(redisUrl, 2).catch((error) => {
      warn(error);
      return null;
    });
    if (redis) {
      await forgetTokens(redis, prefixes).catch(warn);
      redis.disconnect();
    }
  }
}

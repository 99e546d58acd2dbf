import { Redis } from 'ioredis';
import pg from 'pg';
import type { Queryable } from '../../src/daemon/db/queryable.ts';
import { createTenant, type TenantPlan } from '../../src/daemon/db/repositories/tenants.ts';
import { createUser } from '../../src/daemon/db/repositories/users.ts';

/**
 * The machine's own Redis and PostgreSQL, for external-mode tests. DB index 14 of Redis
 * is ours (we never FLUSH it); each file creates its own database wuzctl_test_<random>
 * and drops it afterwards, never touching any other.
 */
export const REDIS_URL = process.env.WUZ_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/14';
export const PG_HOST = process.env.WUZ_TEST_PG_HOST ?? '127.0.0.1';
export const PG_PORT = Number(process.env.WUZ_TEST_PG_PORT ?? 5432);
const PG_USERS = process.env.WUZ_TEST_PG_USER ? [process.env.WUZ_TEST_PG_USER] : ['postgres', 'root'];

export async function checkRedis(): Promise<void> {
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    if ((await redis.ping()) !== 'PONG') throw new Error('PING did not answer PONG');
  } catch (error) {
    throw new Error(
      `Redis is not reachable at ${REDIS_URL} (${(error as Error).message}); the external-mode tests need it running`,
    );
  } finally {
    redis.disconnect();
  }
}

let pgUser = '';

/** A client on the maintenance database `test`, with the first user trust auth accepts. */
export async function adminClient(): Promise<pg.Client> {
  const failures: string[] = [];
  for (const user of pgUser ? [pgUser] : PG_USERS) {
    const client = new pg.Client({
      host: PG_HOST,
      port: PG_PORT,
      user,
      database: 'test',
      connectionTimeoutMillis: 3000,
    });
    try {
      await client.connect();
      pgUser = user;
      return client;
    } catch (error) {
      failures.push(`${user}: ${(error as Error).message}`);
      await client.end().catch(() => {});
    }
  }
  throw new Error(
    `PostgreSQL is not reachable at ${PG_HOST}:${PG_PORT}/test (${failures.join('; ')}); the external-mode tests need it running`,
  );
}

export interface TestDatabase {
  name: string;
  url: string;
  user: string;
  connect(): Promise<pg.Client>;
  drop(): Promise<void>;
}

/** Creates a database of this test's own; `drop()` removes it (call it in afterAll). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `wuzctl_test_${Math.random().toString(36).slice(2, 10)}`;
  const admin = await adminClient();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const user = pgUser;
  return {
    name,
    user,
    url: `postgres://${user}@${PG_HOST}:${PG_PORT}/${name}`,
    async connect() {
      const client = new pg.Client({ host: PG_HOST, port: PG_PORT, user, database: name });
      await client.connect();
      return client;
    },
    async drop() {
      const client = await adminClient();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A new tenant (`slug`, on `plan`) and one user of it: the owner of the rows a test writes. */
export async function createOwner(
  db: Queryable,
  slug: string,
  plan: TenantPlan = 'pro',
): Promise<{ tenantId: string; userId: string }> {
  const tenant = await createTenant(db, { name: slug, slug, plan });
  const user = await createUser(db, {
    tenantId: tenant.id,
    email: `user@${slug}.example`,
    name: 'User',
    role: 'user',
  });
  return { tenantId: tenant.id, userId: user.id };
}

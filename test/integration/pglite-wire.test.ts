import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/daemon/logger.ts';
import { EmbeddedPostgres } from '../../src/daemon/services/embeddedPostgres.ts';

/**
 * The embedded database is one PGlite session shared by many connections. These tests
 * drive it the way the API workers do — many pooled connections, parameterised queries,
 * transactions — and check that no connection ever sees another's statement, parameters
 * or open transaction (pglite-socket interleaved them: electric-sql/pglite#1046).
 */
const PASSWORD = 'correct horse battery staple';
let dir: string;
let database: EmbeddedPostgres;
let pool: pg.Pool;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'wuzpg-'));
  database = new EmbeddedPostgres(dir, PASSWORD, createLogger('test', 'silent'));
  await database.start();
  pool = new pg.Pool({ connectionString: database.url, max: 16 });
  await pool.query('CREATE TABLE items (id serial PRIMARY KEY, owner int NOT NULL, label text NOT NULL)');
});

afterAll(async () => {
  await pool?.end();
  await database?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('embedded database: many connections on one PGlite session', () => {
  it('answers 2,000 concurrent parameterised queries, amid transactions, each with its own parameters', async () => {
    // Transactions on other connections run meanwhile: the mix that broke pglite-socket.
    const transactions = Array.from({ length: 20 }, async (_, t) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const { rows } = await client.query<{ t: number }>('SELECT $1::int AS t', [t]);
        await client.query('COMMIT');
        return rows[0]?.t;
      } finally {
        client.release();
      }
    });
    const answers = await Promise.all(
      Array.from({ length: 2000 }, (_, i) =>
        pool.query<{ n: number; s: string; u: string }>('SELECT $1::int AS n, $2::text AS s, $3::uuid AS u', [
          i,
          `text-${i}`,
          `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        ]),
      ),
    );
    expect(await Promise.all(transactions)).toEqual(Array.from({ length: 20 }, (_, t) => t));
    answers.forEach((answer, i) => {
      expect(answer.rows[0]).toEqual({
        n: i,
        s: `text-${i}`,
        u: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      });
    });
  });

  it('keeps transactions whole: commits are seen entire, rollbacks never, uncommitted rows by nobody else', async () => {
    const writers = Array.from({ length: 24 }, async (_, owner) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        for (let k = 0; k < 5; k++) {
          await client.query('INSERT INTO items (owner, label) VALUES ($1, $2)', [owner, `o${owner}-${k}`]);
        }
        const inside = await client.query('SELECT count(*)::int AS c FROM items WHERE owner = $1', [owner]);
        expect(inside.rows[0].c).toBe(5);
        await client.query(owner % 3 === 0 ? 'ROLLBACK' : 'COMMIT');
      } finally {
        client.release();
      }
    });
    // Readers run alongside: they may see a writer's rows only all at once, after its commit.
    const readers = Array.from({ length: 60 }, async () => {
      const { rows } = await pool.query<{ owner: number; c: number }>(
        'SELECT owner, count(*)::int AS c FROM items GROUP BY owner',
      );
      for (const row of rows) {
        expect(row.c).toBe(5);
        expect(row.owner % 3).not.toBe(0);
      }
    });
    await Promise.all([...writers, ...readers]);
    const { rows } = await pool.query<{ owners: number; c: number }>(
      'SELECT count(DISTINCT owner)::int AS owners, count(*)::int AS c FROM items',
    );
    expect(rows[0]).toEqual({ owners: 16, c: 80 });
  });

  it('rolls back the transaction of a client that vanished, and serves the others', async () => {
    const lost = new pg.Client({ connectionString: database.url });
    await lost.connect();
    lost.on('error', () => {});
    await lost.query('BEGIN');
    await lost.query("INSERT INTO items (owner, label) VALUES (999, 'never')");
    const waiting = pool.query('SELECT count(*)::int AS c FROM items WHERE owner = 999');
    // The socket dies mid-transaction, as a killed worker's would.
    (lost as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    const { rows } = await waiting;
    expect(rows[0].c).toBe(0);
    const after = await pool.query('SELECT count(*)::int AS c FROM items WHERE owner = 999');
    expect(after.rows[0].c).toBe(0);
  });

  it('answers a failed statement with its error and goes on', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        i % 5 === 0 ? pool.query('SELECT $1::int', ['not a number']) : pool.query('SELECT $1::int AS n', [i]),
      ),
    );
    results.forEach((result, i) => {
      if (i % 5 === 0) {
        expect(result.status).toBe('rejected');
        expect((result as PromiseRejectedResult).reason.code).toBe('22P02');
      } else {
        expect(result.status).toBe('fulfilled');
        expect((result as PromiseFulfilledResult<pg.QueryResult>).value.rows[0].n).toBe(i);
      }
    });
  });
});

/**
 * A query pg hands the connection to drive itself (a "submittable", as pg-cursor is):
 * Parse "series", Bind it to portal "cur", Execute "cur" twice, two rows at a time.
 */
class PortalQuery {
  private readonly rows: string[] = [];
  private failed = false;
  private readonly resolve: (rows: string[]) => void;
  private readonly reject: (error: Error) => void;
  constructor(resolve: (rows: string[]) => void, reject: (error: Error) => void) {
    this.resolve = resolve;
    this.reject = reject;
  }
  submit(connection: PgConnection): void {
    connection.parse({ name: 'series', text: 'SELECT generate_series(1, 5)::text', types: [] });
    connection.bind({ portal: 'cur', statement: 'series', values: [] });
    connection.execute({ portal: 'cur', rows: 2 });
    connection.execute({ portal: 'cur', rows: 2 });
    connection.sync();
  }
  handleRowDescription(): void {}
  handleDataRow(message: { fields: Array<Buffer | string> }): void {
    this.rows.push(String(message.fields[0]));
  }
  handlePortalSuspended(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handleError(error: Error): void {
    this.failed = true;
    this.reject(error);
  }
  handleReadyForQuery(): void {
    if (!this.failed) this.resolve(this.rows);
  }
}

/** The parts of pg's protocol connection PortalQuery drives. */
interface PgConnection {
  parse(query: { name: string; text: string; types: number[] }): void;
  bind(config: { portal: string; statement: string; values: unknown[] }): void;
  execute(config: { portal: string; rows: number }): void;
  sync(): void;
}

describe('embedded database: named prepared statements', () => {
  const client = async () => {
    const one = new pg.Client({ connectionString: database.url });
    await one.connect();
    return one;
  };
  const preparedNames = async (on: pg.Client) =>
    (await on.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name')).rows.map(
      (row) => row.name,
    );

  it('gives each connection its own names: the same name, two texts, each runs its own, many times', async () => {
    const [a, b] = [await client(), await client()];
    try {
      for (let i = 0; i < 20; i++) {
        const [fromA, fromB] = await Promise.all([
          a.query({ name: 'same', text: 'SELECT $1::int + 1 AS n', values: [i] }),
          b.query({ name: 'same', text: "SELECT $1::text || '!' AS n", values: [`b${i}`] }),
        ]);
        expect(fromA.rows[0].n).toBe(i + 1);
        expect(fromB.rows[0].n).toBe(`b${i}!`);
      }
      // Concurrent pooled queries of one text share nothing either.
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          pool.query({ name: 'pooled', text: 'SELECT $1::int * 2 AS n', values: [i] }),
        ),
      );
      expect(answers.map((answer) => answer.rows[0].n)).toEqual(answers.map((_, i) => i * 2));
      // In the session each one is under its connection's own name.
      const names = await preparedNames(a);
      expect(names.filter((name) => name.endsWith('.same'))).toHaveLength(2);
      expect(names).not.toContain('same');
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  it('runs a named portal (what a cursor uses) under its own name too', async () => {
    const one = await client();
    try {
      const rows = await new Promise<string[]>((resolve, reject) => {
        one.query(new PortalQuery(resolve, reject) as unknown as pg.Submittable);
      });
      // Two Executes of two rows each from the portal, and it stays open between them.
      expect(rows).toEqual(['1', '2', '3', '4']);
      expect((await one.query('SELECT 1 AS n')).rows[0].n).toBe(1);
    } finally {
      await one.end();
    }
  });

  it("closes a connection's statements when it goes, and never lets another connection run them", async () => {
    const a = await client();
    await a.query({ name: 'mine', text: 'SELECT 41 + 1 AS n', values: [] });
    const b = await client();
    try {
      expect((await preparedNames(b)).filter((name) => name.endsWith('.mine'))).toHaveLength(1);
      // b's Bind of "mine" reaches its own namespace, where nothing is prepared.
      const raw = b as unknown as { connection: { parsedStatements: Record<string, string> } };
      raw.connection.parsedStatements.mine = 'SELECT 41 + 1 AS n';
      await expect(b.query({ name: 'mine', text: 'SELECT 41 + 1 AS n', values: [] })).rejects.toThrow(
        /does not exist/,
      );
      await a.end();
      // Its cleanup runs as the connection closes: the statement leaves the session.
      const deadline = Date.now() + 5000;
      while ((await preparedNames(b)).some((name) => name.endsWith('.mine')) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await preparedNames(b)).filter((name) => name.endsWith('.mine'))).toEqual([]);
    } finally {
      await b.end();
    }
  });
});

describe('embedded database: plans of named statements', () => {
  const plans = async (on: pg.Client, suffix: string) =>
    (
      await on.query<{ generic_plans: string; custom_plans: string }>(
        'SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name LIKE $1',
        [`%.${suffix}`],
      )
    ).rows.map((row) => ({ generic: Number(row.generic_plans), custom: Number(row.custom_plans) }));

  it('plans our own statements (wuz_…) once, and plans any other query for its values, also when they alternate', async () => {
    await pool.query(
      'INSERT INTO items (owner, label) SELECT g % 7, $1 || g FROM generate_series(1, 300) g',
      ['p'],
    );
    const one = new pg.Client({ connectionString: database.url });
    await one.connect();
    try {
      const ours = { name: 'wuz_items_of', text: 'SELECT count(*)::int AS n FROM items WHERE owner = $1' };
      const theirs = {
        name: 'their_items_of',
        text: 'SELECT count(*)::int AS n FROM items WHERE owner = $1',
      };
      const expected = (await pool.query(ours.text, [3])).rows[0].n;
      expect(expected).toBeGreaterThan(0);
      for (let i = 0; i < 12; i++) {
        // Alternating, and with an unnamed query between: each runs in the mode it needs.
        expect((await one.query({ ...ours, values: [3] })).rows[0].n).toBe(expected);
        expect((await one.query({ ...theirs, values: [3] })).rows[0].n).toBe(expected);
        expect(
          (await one.query('SELECT count(*)::int AS n FROM items WHERE owner = $1', [3])).rows[0].n,
        ).toBe(expected);
      }
      // Inside a transaction nothing switches modes (a SET there would be rolled back with it).
      await one.query('BEGIN');
      expect((await one.query({ ...ours, values: [3] })).rows[0].n).toBe(expected);
      await one.query('ROLLBACK');
      // Ours: a generic plan from the first run (13 runs, the last inside the transaction,
      // in whatever mode the session was). Theirs: PostgreSQL's default, a custom plan for
      // at least its first five runs.
      const [mine] = await plans(one, ours.name);
      expect(mine?.generic).toBeGreaterThanOrEqual(12);
      expect((mine?.generic ?? 0) + (mine?.custom ?? 0)).toBe(13);
      const [other] = await plans(one, theirs.name);
      expect(other?.custom).toBeGreaterThanOrEqual(5);
    } finally {
      await one.end();
    }
  });
});

describe('embedded database: settings', () => {
  it("runs with a 32 MB buffer pool and no zero-filled WAL segments, on top of PGlite's own", async () => {
    const setting = async (name: string) =>
      (await pool.query('SELECT setting, unit FROM pg_settings WHERE name = $1', [name])).rows[0];
    // 4096 pages of 8 kB; a new 16 MB WAL segment is not written full of zeros first.
    expect(await setting('shared_buffers')).toEqual({ setting: '4096', unit: '8kB' });
    expect((await setting('wal_init_zero')).setting).toBe('off');
    // PGlite's defaults (single user, fsync off) are kept, not replaced.
    expect((await setting('fsync')).setting).toBe('off');
  });
});

describe('embedded database: password (SCRAM-SHA-256)', () => {
  const withPassword = (password: string | null) => {
    const url = new URL(database.url);
    url.password = password ?? '';
    return url.toString();
  };

  it('lets a client in with the password, and never sees it on the wire', async () => {
    const client = new pg.Client({ connectionString: withPassword(PASSWORD) });
    await client.connect();
    expect((await client.query<{ n: number }>('SELECT 41 + 1 AS n')).rows[0]?.n).toBe(42);
    await client.end();
  });

  it.each([
    ['a wrong password', 'guess'],
    ['no password', null],
  ])('refuses %s with 28P01, and the refused client cannot read or block anything', async (_, password) => {
    const client = new pg.Client({
      connectionString: withPassword(password),
      password: password ?? undefined,
    });
    client.on('error', () => {});
    const refused = await client.connect().then(
      () => null,
      (error: { code?: string; message: string }) => error,
    );
    expect(refused).not.toBeNull();
    if (password !== null) expect(refused?.code).toBe('28P01');
    await client.end().catch(() => {});
    // The session stayed free for authenticated clients.
    expect((await pool.query<{ n: number }>('SELECT 1 AS n')).rows[0]?.n).toBe(1);
  });

  it('drops a raw client that sends its startup and never authenticates, without holding the session', async () => {
    const net = await import('node:net');
    const url = new URL(database.url);
    const socket = net.connect(Number(url.port), url.hostname);
    await new Promise((resolve) => socket.once('connect', resolve));
    const user = Buffer.from('user\0postgres\0database\0postgres\0\0');
    const startup = Buffer.alloc(8 + user.length);
    startup.writeInt32BE(startup.length, 0);
    startup.writeInt32BE(196608, 4);
    user.copy(startup, 8);
    socket.write(startup);
    const reply = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
    // 'R' with kind 10: AuthenticationSASL, offering SCRAM-SHA-256 — not AuthenticationOk.
    expect(String.fromCharCode(reply[0] as number)).toBe('R');
    expect(reply.readInt32BE(5)).toBe(10);
    expect(reply.subarray(9).toString()).toContain('SCRAM-SHA-256');
    // A query sent anyway is refused, not run.
    const sql = Buffer.from('SELECT 1\0');
    const query = Buffer.alloc(5 + sql.length);
    query.write('Q', 0);
    query.writeInt32BE(4 + sql.length, 1);
    sql.copy(query, 5);
    socket.write(query);
    const refusal = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
    expect(String.fromCharCode(refusal[0] as number)).toBe('E');
    expect(refusal.toString()).toContain('28P01');
    socket.destroy();
    expect((await pool.query<{ n: number }>('SELECT 2 AS n')).rows[0]?.n).toBe(2);
  });
});

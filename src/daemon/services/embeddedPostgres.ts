import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { Logger } from '../logger.ts';
import { makePrivate } from '../security/privateFiles.ts';
import { freePort } from './freePort.ts';
import { copyTemplate, defaultTemplateDir } from './pgliteTemplate.ts';
import { PgliteWireServer } from './pgliteWire.ts';

/**
 * PostgreSQL's settings for the embedded database, on top of PGlite's own (single-user
 * mode, fsync off…), which must stay: `startParams` replaces them.
 *
 * shared_buffers: PostgreSQL zeroes its whole buffer pool at start, inside the WebAssembly
 * heap, so initdb's 128 MB was ~150 MB of the supervisor's RSS from the first second, and
 * ~0.4 s of CPU on every start, for a pool a small install never fills. A miss is a read
 * from the OS page cache (PGlite reads the data dir with plain system calls), not from
 * disk. 32 MB, not less: with a 96 MB contacts table, a page of one user's 3,150
 * contacts cost 11–15 ms of CPU with 32 MB as with 128 MB, but 23–30 ms with 16 MB
 * (the demo data set, 10 MB in all, is the same at any size). wal_buffers follows
 * shared_buffers (1/32: 1 MB). DECISIONS.md has the figures.
 *
 * wal_init_zero off: each new 16 MB WAL segment was written full of zeros, through
 * PGlite's file system calls, inside whichever statement crossed the segment's end — a
 * 20–45 ms stall at random (a 10,000-id campaign's POST took 50–79 ms, 32–35 ms without).
 * Zeroing reserves the disk space ahead; with PGlite's fsync off it buys no durability,
 * and a full disk still stops writes with an error, as it would for any data file.
 */
const PGLITE_START_PARAMS = [
  ...PGlite.defaultStartParams,
  '-c',
  'shared_buffers=32MB',
  '-c',
  'wal_init_zero=off',
];

/**
 * The embedded database: PGlite persisted in the data dir, served on a loopback port over
 * the PostgreSQL wire protocol so that every process (and every later feature) talks to
 * it through `pg`, exactly as it would talk to an external PostgreSQL.
 *
 * PGlite is a single-session engine: the wire server (pgliteWire.ts) lends the session to
 * one connection at a time, a whole protocol cycle or transaction at a time, so
 * throughput is bounded by this one process.
 */
export class EmbeddedPostgres {
  private db?: PGlite;
  private server?: PgliteWireServer;
  port = 0;

  private readonly dir: string;
  private readonly password: string;
  private readonly log: Logger;

  private readonly template: string | null;

  /**
   * `password` (kept in the data dir) is what every connection must prove, by SCRAM.
   * `template`: where a new database is copied from (pgliteTemplate.ts); null to initdb.
   */
  constructor(dir: string, password: string, log: Logger, template: string | null = defaultTemplateDir) {
    this.dir = dir;
    this.password = password;
    this.log = log;
    this.template = template;
  }

  get url(): string {
    return `postgres://postgres:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}/postgres?sslmode=disable`;
  }

  async start(): Promise<void> {
    if (this.template && !existsSync(this.dir)) {
      const copied = await copyTemplate(this.dir, this.template).catch((error: Error) => {
        this.log.warn({ err: error }, 'could not copy the PGlite template; creating the database instead');
        return false;
      });
      this.log.debug({ template: copied }, 'new embedded database');
    }
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    try {
      this.db = await PGlite.create({ dataDir: this.dir, startParams: PGLITE_START_PARAMS });
    } catch (error) {
      throw new Error(
        `could not open the embedded database in ${this.dir}: ${(error as Error).message}\n` +
          '  Another process may hold it, or it was written by an incompatible version.',
      );
    }
    await makePrivate(this.dir);
    this.port = await freePort();
    this.server = new PgliteWireServer(this.db, this.log, this.password);
    await this.server.listen('127.0.0.1', this.port);
    this.log.debug({ port: this.port }, 'embedded PGlite serving');
  }

  async stop(): Promise<void> {
    await this.server
      ?.close()
      .catch((error) => this.log.warn({ err: error }, 'PGlite wire server close failed'));
    // close() checkpoints and flushes to the data dir: skipping it can lose the last writes.
    await this.db?.close().catch((error) => this.log.warn({ err: error }, 'PGlite close failed'));
    // Files PostgreSQL created since the start (new relations, WAL) came in 0666 as well.
    await makePrivate(this.dir);
  }
}

import net from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import { NAMED_STATEMENT_PREFIX } from '../db/named.ts';
import type { Logger } from '../logger.ts';
import {
  SCRAM_MECHANISM,
  ScramExchange,
  ScramProtocolError,
  type ScramVerifier,
  scramVerifier,
} from './scram.ts';

/**
 * Serves one PGlite over the PostgreSQL wire protocol to many client connections.
 *
 * PGlite is one backend session. Clients may share it only if nothing of one client's
 * session state is visible to another mid-way, so a connection *owns* the session from its
 * first message until it reaches a point where nothing is left half-done: the end of a
 * cycle (Sync, a simple Query, the startup) outside a transaction. Meanwhile the other
 * connections wait, first come first served.
 *
 * Why not @electric-sql/pglite-socket: it queues single messages and pins a connection
 * only inside an explicit transaction, so two connections' Parse/Bind/Execute/Sync
 * interleave and bind each other's parameters — wrong rows, "portal does not exist"
 * (electric-sql/pglite#1046, open). Our cache gate's stale-read check caught it.
 *
 * With a password, a client must pass SCRAM-SHA-256 before its startup message reaches
 * PGlite (which trusts everyone): until then it cannot run anything or take the session.
 *
 * Prepared statements and portals live in the session, so a name one connection gives
 * would be seen — and could collide, or be run — by the next. Each connection's names
 * are therefore its own: a non-empty statement or portal name in Parse, Bind, Describe,
 * Execute and Close is renamed `c<n>.<name>` on the way in (names never appear in what comes
 * back), and a connection's statements are closed when it goes. A named statement is
 * parsed once instead of at every query (db/named.ts).
 *
 * And planned once: PostgreSQL's default plan cache mode plans a prepared statement again
 * at every execution while it guesses a plan for the values is cheaper than the generic
 * one — for our tenant-scoped lists that is always, so each run paid the planning and an
 * fstat of every relation it touches (PGlite's file layer). Batches that only run our own
 * named statements (`wuz_…`, db/named.ts: index-driven by tenant, safe with any values)
 * run with `plan_cache_mode = force_generic_plan`; anything else — a simple query, an
 * unnamed or foreign statement — with PostgreSQL's default, so a one-off query is still
 * planned for its values (a LIMIT, a status). The switch is one `SET`, only when the next
 * batch needs the other mode and no transaction is open.
 */

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
/** A client that holds the session idle this long (an open transaction it forgot) loses it. */
const IDLE_OWNER_MS = 30_000;
/** A client that has not finished authenticating by then is dropped. */
const AUTH_TIMEOUT_MS = 10_000;

const SYNC = Uint8Array.from([0x53, 0, 0, 0, 4]);
const ROLLBACK = simpleQuery('ROLLBACK');
const PLAN_MODE = {
  generic: simpleQuery('SET plan_cache_mode = force_generic_plan'),
  default: simpleQuery('SET plan_cache_mode = auto'),
};

export class PgliteWireServer {
  private readonly db: PGlite;
  private readonly log: Logger;
  private readonly server: net.Server;
  private readonly connections = new Set<WireConnection>();
  private owner: WireConnection | null = null;
  private readonly waiting: Array<() => void> = [];
  private readonly cleanups = new Set<Promise<void>>();
  /** The session's plan cache mode as we last set it (PostgreSQL's default at start). */
  private genericPlans = false;
  /** null: no password (a PGlite opened by a test of the wire protocol itself). */
  readonly verifier: ScramVerifier | null;

  constructor(db: PGlite, log: Logger, password: string | null) {
    this.db = db;
    this.log = log;
    this.verifier = password === null ? null : scramVerifier(password);
    this.server = net.createServer((socket) => {
      const connection = new WireConnection(socket, this);
      this.connections.add(connection);
      socket.once('close', () => this.connections.delete(connection));
    });
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.connections) connection.destroy();
    await closed;
    // Let every closed connection's cleanup (its transaction, its statements) finish before PGlite closes.
    await Promise.all(this.cleanups);
    while (this.owner) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /** A closed connection's cleanup, awaited by close(). */
  track(cleanup: Promise<void>): void {
    // onClose reports its own failures: here only its end matters.
    const settled = cleanup.catch(() => {});
    this.cleanups.add(settled);
    void settled.finally(() => this.cleanups.delete(settled));
  }

  /** Resolves once `connection` owns the session. */
  async acquire(connection: WireConnection): Promise<void> {
    if (this.owner === connection) return;
    if (this.owner === null && this.waiting.length === 0) {
      this.owner = connection;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.owner = connection;
  }

  release(connection: WireConnection): void {
    if (this.owner !== connection) return;
    this.owner = null;
    this.waiting.shift()?.();
  }

  ownedBy(connection: WireConnection): boolean {
    return this.owner === connection;
  }

  /** Runs protocol messages on the session; the caller owns it. */
  run(messages: Uint8Array, onData: (data: Uint8Array) => void): Promise<void> {
    return this.db.runExclusive(() => this.db.execProtocolRawStream(messages, { onRawData: onData }));
  }

  inTransaction(): boolean {
    return this.db.isInTransaction();
  }

  /**
   * Puts the session in the plan cache mode a batch needs (see the class comment); the
   * caller owns the session, between cycles, outside a transaction.
   */
  async planFor(generic: boolean): Promise<void> {
    if (generic === this.genericPlans) return;
    const reply = await this.db.runExclusive(() =>
      this.db.execProtocolRaw(generic ? PLAN_MODE.generic : PLAN_MODE.default, { syncToFs: false }),
    );
    if (hasErrorResponse(reply)) {
      this.warn(null, 'embedded database: could not change plan_cache_mode');
      return;
    }
    this.genericPlans = generic;
  }

  warn(error: unknown, message: string): void {
    this.log.warn({ err: error }, message);
  }
}

let connectionSerial = 0;

class WireConnection {
  private readonly socket: net.Socket;
  private readonly server: PgliteWireServer;
  /** What this connection's statement and portal names are prefixed with in the shared session. */
  private readonly namespace = `c${++connectionSerial}.`;
  /** The statements it prepared (as renamed), closed when it goes. */
  private readonly statements = new Set<string>();
  private buffer: Buffer = Buffer.alloc(0);
  private readonly ready: Buffer[] = [];
  private started = false;
  private pumping = false;
  private closed = false;
  /** True between the first message of a cycle and the Sync/Query that ends it. */
  private midCycle = false;
  private idleTimer: NodeJS.Timeout | undefined;
  /** While set, the client is authenticating: its startup message waits here. */
  private pendingStartup: Buffer | null = null;
  private scram: ScramExchange | null = null;
  private authTimer: NodeJS.Timeout | undefined;

  constructor(socket: net.Socket, server: PgliteWireServer) {
    this.socket = socket;
    this.server = server;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => {}); // a client that vanished: 'close' follows and cleans up
    socket.once('close', () => this.server.track(this.onClose()));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      if (!this.started) {
        if (this.buffer.length < 8) return;
        const length = this.buffer.readInt32BE(0);
        const code = this.buffer.readInt32BE(4);
        if (this.buffer.length < length) return;
        const message = this.buffer.subarray(0, length);
        this.buffer = this.buffer.subarray(length);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          this.socket.write('N'); // no encryption on a loopback socket; the client goes on in clear
        } else if (code === CANCEL_REQUEST) {
          this.socket.end(); // one backend, nothing to signal: acknowledged by closing, as PostgreSQL does
          return;
        } else if (code === PROTOCOL_3) {
          this.started = true;
          if (this.server.verifier) this.askForPassword(Buffer.from(message));
          else this.ready.push(Buffer.from(message));
        } else {
          this.socket.destroy();
          return;
        }
        continue;
      }
      if (this.buffer.length < 5) break;
      const length = 1 + this.buffer.readInt32BE(1);
      if (this.buffer.length < length) break;
      const message = this.buffer.subarray(0, length);
      this.buffer = this.buffer.subarray(length);
      if (message[0] === 0x58 /* X: Terminate */) {
        this.socket.end();
        return;
      }
      if (this.pendingStartup) {
        if (!this.authenticate(message)) return;
        continue;
      }
      this.ready.push(this.ownNames(message));
    }
    void this.pump();
  }

  /**
   * The message with its statement and portal names put in this connection's namespace
   * (a copy either way: `message` is a view of the receive buffer).
   * Parse: name, query… · Bind: portal, statement, … · Execute: portal, … ·
   * Describe/Close: 'S' or 'P', name.
   */
  private ownNames(message: Buffer): Buffer {
    const type = message[0];
    if (type === 0x50 /* P */) {
      const renamed = this.renamed(message, 5);
      if (renamed.name) this.statements.add(renamed.name);
      return renamed.message;
    }
    if (type === 0x42 /* B */) {
      const portal = this.renamed(message, 5);
      return this.renamed(portal.message, portal.end).message;
    }
    if (type === 0x45 /* E: Execute, portal first */) return this.renamed(message, 5).message;
    // D: Describe, C: Close
    if ((type === 0x44 || type === 0x43) && message.length > 6) {
      const renamed = this.renamed(message, 6);
      if (type === 0x43 && message[5] === 0x53 /* S */ && renamed.name) this.statements.delete(renamed.name);
      return renamed.message;
    }
    return Buffer.from(message);
  }

  /**
   * Whether a batch binds statements and every one is ours (db/named.ts), with no simple
   * query: such a batch may run on generic plans. Bind: portal name, then statement name
   * (both already renamed into this connection's namespace).
   */
  private runsOnlyOurStatements(batch: Buffer[]): boolean {
    let binds = 0;
    const ours = this.namespace + NAMED_STATEMENT_PREFIX;
    for (const message of batch) {
      if (message[0] === 0x51 /* Q */) return false;
      if (message[0] !== 0x42 /* B */) continue;
      const statementAt = message.indexOf(0, 5) + 1;
      if (
        statementAt === 0 ||
        !message.toString('latin1', statementAt, statementAt + ours.length).startsWith(ours)
      )
        return false;
      binds += 1;
    }
    return binds > 0;
  }

  /** The NUL-terminated name at `at` renamed (unless empty), the message's length fixed, and where the name ends. */
  private renamed(message: Buffer, at: number): { message: Buffer; name: string; end: number } {
    const nul = message.indexOf(0, at);
    if (nul < 0) return { message: Buffer.from(message), name: '', end: message.length };
    if (nul === at) return { message: Buffer.from(message), name: '', end: nul + 1 };
    const name = this.namespace + message.toString('utf8', at, nul);
    const out = Buffer.concat([message.subarray(0, at), Buffer.from(name), message.subarray(nul)]);
    out.writeInt32BE(out.length - 1, 1);
    return { message: out, name, end: at + Buffer.byteLength(name) + 1 };
  }

  private askForPassword(startup: Buffer): void {
    this.pendingStartup = startup;
    this.authTimer = setTimeout(() => this.socket.destroy(), AUTH_TIMEOUT_MS);
    this.socket.write(authMessage(10, Buffer.from(`${SCRAM_MECHANISM}\0\0`)));
  }

  /** One message of the SCRAM exchange; false when the connection was refused. */
  private authenticate(message: Buffer): boolean {
    const verifier = this.server.verifier as ScramVerifier;
    try {
      if (message[0] !== 0x70 /* p */) throw new ScramProtocolError('expected a password message');
      if (!this.scram) {
        // SASLInitialResponse: mechanism name, NUL, Int32 length, client-first-message.
        const nul = message.indexOf(0, 5);
        if (nul < 0 || message.subarray(5, nul).toString() !== SCRAM_MECHANISM) {
          throw new ScramProtocolError(`only ${SCRAM_MECHANISM} is supported`);
        }
        const length = message.readInt32BE(nul + 1);
        const clientFirst = message.subarray(nul + 5, nul + 5 + length).toString();
        this.scram = new ScramExchange(verifier);
        this.socket.write(authMessage(11, Buffer.from(this.scram.first(clientFirst))));
        return true;
      }
      const serverFinal = this.scram.final(message.subarray(5).toString());
      if (!serverFinal) return this.refuse('password authentication failed');
      this.socket.write(authMessage(12, Buffer.from(serverFinal)));
      clearTimeout(this.authTimer);
      // Authenticated: PGlite now sees the startup message and answers AuthenticationOk.
      this.ready.push(this.pendingStartup as Buffer);
      this.pendingStartup = null;
      return true;
    } catch (error) {
      if (!(error instanceof ScramProtocolError)) throw error;
      return this.refuse(error.message);
    }
  }

  private refuse(message: string): false {
    clearTimeout(this.authTimer);
    this.pendingStartup = null;
    this.socket.end(fatalError('28P01', message));
    return false;
  }

  /** Runs what has arrived, as one batch per turn, holding the session until a safe point. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.ready.length > 0 && !this.closed) {
        const batch = this.ready.splice(0, this.ready.length);
        clearTimeout(this.idleTimer);
        await this.server.acquire(this);
        if (this.closed) break;
        if (!this.midCycle && !this.server.inTransaction()) {
          await this.server.planFor(this.runsOnlyOurStatements(batch));
        }
        await this.server.run(Buffer.concat(batch), (data) => {
          if (!this.socket.destroyed) this.socket.write(data);
        });
        const last = (batch.at(-1) as Buffer)[0];
        // S: Sync, Q: simple Query, p: password, and the startup message (length-first,
        // so its first byte is 0) end a cycle; anything else leaves state for the next.
        this.midCycle = !(last === 0x53 || last === 0x51 || last === 0x70 || last === 0);
        if (!this.midCycle && !this.server.inTransaction()) {
          this.server.release(this);
        } else if (this.ready.length === 0) {
          this.idleTimer = setTimeout(() => {
            this.server.warn(
              null,
              'embedded database: a connection held the session idle for 30 s; closing it',
            );
            this.socket.destroy();
          }, IDLE_OWNER_MS);
        }
      }
    } catch (error) {
      this.server.warn(error, 'embedded database: a protocol batch failed; closing its connection');
      this.socket.destroy();
    } finally {
      this.pumping = false;
    }
  }

  /**
   * A client gone: close its cycle and transaction if it owned the session, and the
   * statements it prepared (the session outlives it), then hand on.
   */
  private async onClose(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.authTimer);
    this.ready.length = 0;
    while (this.pumping) await new Promise((resolve) => setTimeout(resolve, 1));
    if (!this.server.ownedBy(this) && this.statements.size === 0) return;
    try {
      await this.server.acquire(this);
      const discard = () => {};
      if (this.midCycle) await this.server.run(SYNC, discard);
      if (this.server.inTransaction()) await this.server.run(ROLLBACK, discard);
      if (this.statements.size > 0) {
        await this.server.run(Buffer.concat([...[...this.statements].map(closeStatement), SYNC]), discard);
        this.statements.clear();
      }
    } catch (error) {
      this.server.warn(error, 'embedded database: cleaning up after a closed connection failed');
    } finally {
      this.server.release(this);
    }
  }
}

/** A protocol message: its type byte, an Int32 length that counts itself, then `body`. */
function protocolMessage(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0);
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

/** A Close ('C') message for the prepared statement `name`. */
function closeStatement(name: string): Buffer {
  return protocolMessage('C', Buffer.from(`S${name}\0`));
}

/** An Authentication ('R') message: its Int32 kind (10 SASL, 11 continue, 12 final) and data. */
function authMessage(kind: number, data: Buffer): Buffer {
  const kindBytes = Buffer.alloc(4);
  kindBytes.writeInt32BE(kind);
  return protocolMessage('R', Buffer.concat([kindBytes, data]));
}

/** An ErrorResponse of severity FATAL, as PostgreSQL sends before closing. */
function fatalError(sqlState: string, text: string): Buffer {
  return protocolMessage('E', Buffer.from(`SFATAL\0VFATAL\0C${sqlState}\0M${text}\0\0`));
}

/** A simple Query ('Q') message. */
function simpleQuery(sql: string): Buffer {
  return protocolMessage('Q', Buffer.from(`${sql}\0`));
}

/** Whether a backend reply (whole messages: type, Int32 length, body) holds an ErrorResponse. */
function hasErrorResponse(reply: Uint8Array): boolean {
  const view = Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength);
  for (let at = 0; at + 5 <= view.length; at += 1 + view.readInt32BE(at + 1)) {
    if (view[at] === 0x45 /* E */) return true;
  }
  return false;
}

import type http from 'node:http';
import net from 'node:net';

/**
 * Drains an HTTP server without resetting a request. `server.closeIdleConnections()` is
 * not safe for that: "idle" means "no request parsed yet", so a keep-alive client whose
 * next request is already on the wire has its socket closed under it — ECONNRESET, and
 * the client cannot tell whether its POST ran (13–17 resets per run of 20 clients).
 *
 * Instead, while draining: every response says `Connection: close` (app.ts), so a busy
 * socket is closed by Node right after the response it asked for, cleanly; a socket is
 * closed by us only once it has been quiet — no request in flight and no byte received —
 * for IDLE_CLOSE_MS, which a client in the middle of a request exchange never is. At the
 * deadline, whatever is left is closed regardless.
 */
export const IDLE_CLOSE_MS = 1000;
const SWEEP_MS = 100;

interface Tracked {
  inFlight: number;
  bytesRead: number;
  quietSince: number;
}

export class ConnectionDrain {
  private readonly sockets = new Map<net.Socket, Tracked>();
  private sweeper?: NodeJS.Timeout;

  constructor(server: http.Server) {
    server.on('connection', (socket: net.Socket) => {
      this.sockets.set(socket, { inFlight: 0, bytesRead: 0, quietSince: Date.now() });
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const tracked = this.sockets.get(req.socket);
      if (!tracked) return;
      tracked.inFlight++;
      res.once('close', () => {
        tracked.inFlight--;
        tracked.quietSince = Date.now();
      });
    });
  }

  /**
   * Stops accepting; resolves once every connection has ended. Not `http.Server#close()`:
   * since Node 19 it also closes the connections idle at that instant — the same race, for
   * every keep-alive socket between two requests. The net.Server method only stops listening.
   */
  stopAccepting(server: http.Server): Promise<void> {
    return new Promise((resolve) => net.Server.prototype.close.call(server, () => resolve()));
  }

  get open(): number {
    return this.sockets.size;
  }

  /** Starts closing quiet sockets; busy ones close themselves after their response. */
  start(): void {
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  stop(): void {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [socket, tracked] of this.sockets) {
      if (tracked.inFlight > 0) continue;
      // Bytes arrived since the last look: a request is on its way in.
      if (socket.bytesRead !== tracked.bytesRead) {
        tracked.bytesRead = socket.bytesRead;
        tracked.quietSince = now;
        continue;
      }
      if (now - tracked.quietSince >= IDLE_CLOSE_MS) socket.end();
    }
  }
}

import { rm } from 'node:fs/promises';
import http from 'node:http';
import { z } from 'zod';
import { type ApiErrorCode, errorBody } from '../api/errorCatalogue.ts';
import type { KeyringText } from '../security/keyring.ts';

export interface ControlHandlers {
  status(): Promise<object>;
  /** The database URL and secret keys, for CLI commands that read or write data while the daemon runs. */
  database(): { url: string; keyring: KeyringText };
  /** The Redis URL, for CLI commands that inspect the queues (`wuzctl jobs`). */
  redis(): { url: string };
  /** Drops revoked tokens from the auth cache (the CLI revokes in the database). */
  forgetTokens(prefixes: string[]): Promise<void>;
  stop(): void;
}

const forgetBody = z.strictObject({ prefixes: z.array(z.string().regex(/^[0-9a-f]{12}$/)).max(10_000) });

/** The request's JSON body, or undefined when it is not JSON (the schema then refuses it). */
async function readJson(req: http.IncomingMessage, limit = 1024 * 1024): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > limit) return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The control API: HTTP over a unix socket in the data dir, mode 0600, so only the
 * daemon's own user can reach it and nothing is exposed on the network.
 */
export async function startControlServer(
  socketPath: string,
  handlers: ControlHandlers,
): Promise<http.Server> {
  const server = http.createServer(async (req, res) => {
    const send = (status: number, body: object) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    // The same error shape and codes as the API's (the CLI reads both).
    const fail = (code: ApiErrorCode, message: string) => {
      const { status, body } = errorBody(code, message);
      send(status, body);
    };
    try {
      if (req.method === 'GET' && req.url === '/status') return send(200, await handlers.status());
      // The socket is 0600: only the daemon's own user can read this (a password, the keys).
      if (req.method === 'GET' && req.url === '/database') return send(200, handlers.database());
      if (req.method === 'GET' && req.url === '/redis') return send(200, handlers.redis());
      if (req.method === 'POST' && req.url === '/auth/forget') {
        const parsed = forgetBody.safeParse(await readJson(req));
        if (!parsed.success) {
          return fail('invalid_request', 'send {"prefixes": ["<12 hex>", …]}');
        }
        await handlers.forgetTokens(parsed.data.prefixes);
        return send(200, { forgotten: parsed.data.prefixes.length });
      }
      if (req.method === 'POST' && req.url === '/stop') {
        send(202, { stopping: true });
        handlers.stop();
        return;
      }
      fail('not_found', `no control route ${req.method} ${req.url}`);
    } catch (error) {
      fail('internal_error', (error as Error).message);
    }
  });
  // We hold the pid lock, so a socket file still here is a leftover of a dead daemon.
  await rm(socketPath, { force: true });
  // The umask makes the socket 0600 from its creation: no window where others could connect.
  const previousUmask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
  } finally {
    process.umask(previousUmask);
  }
  return server;
}

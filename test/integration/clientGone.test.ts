import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AppHarness, type HarnessTenant, startAppHarness } from '../helpers/appHarness.ts';

// A client that gives up before its answer (a timeout, a closed tab) — on the in-process
// app over loopback, with compression negotiated as browsers do.

let harness: AppHarness;
let tenant: HarnessTenant;

beforeAll(async () => {
  harness = await startAppHarness();
  tenant = await harness.tenant('enterprise');
});
afterAll(() => harness?.close());

/** Sends one request on a raw socket and closes the socket at once, without reading. */
function sendAndLeave(method: string, path: string, token: string): Promise<void> {
  const { port } = new URL(harness.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => {
      socket.end(
        `${method} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nAccept-Encoding: br, gzip\r\n\r\n`,
        () => {
          socket.destroy();
          resolve();
        },
      );
    });
    socket.on('error', reject);
  });
}

describe('a client that leaves before its answer', () => {
  it('costs the server no error: its answer goes nowhere, quietly', async () => {
    const errors = vi.spyOn(harness.log, 'error');
    // Uncached reads and a cached one: each still runs when the socket closes.
    for (let i = 0; i < 5; i++) {
      await sendAndLeave('GET', `/api/contacts?per_page=${10 + i}`, tenant.userToken);
      await sendAndLeave('GET', `/api/session/agents?q=${i}`, tenant.userToken);
    }
    // Given time to answer (into the closed sockets) and to log whatever it would log.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(errors.mock.calls.map(([, message]) => message)).toEqual([]);
    errors.mockRestore();
    // And it answers the next client as usual.
    const answer = await fetch(`${harness.url}/api/contacts`, {
      headers: { authorization: `Bearer ${tenant.userToken}`, 'accept-encoding': 'br' },
    });
    expect(answer.status).toBe(200);
  });
});

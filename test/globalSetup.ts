import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm test` must work on its own, not only under .ci/run: when the machine's Redis or
 * PostgreSQL is not answering, start them with the same script CI uses. Tests never
 * stop these services — they belong to the machine, not to the test run.
 */
function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 1000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export default async function setup(): Promise<void> {
  if (process.env.WUZ_TEST_REDIS_URL || process.env.WUZ_TEST_PG_HOST) return;
  const [redisUp, pgUp] = await Promise.all([answers('127.0.0.1', 6379), answers('127.0.0.1', 5432)]);
  if (redisUp && pgUp) return;
  const script = path.join(
    path.dirname(fileURLToPath(import.meta.url)),
    '..',
    'scripts',
    'start-services.sh',
  );
  try {
    execFileSync('bash', [script], { stdio: 'inherit', timeout: 60_000 });
  } catch (error) {
    // The external-mode tests will say precisely what is missing; embedded ones still run.
    console.warn(`could not start the machine's Redis/PostgreSQL: ${(error as Error).message}`);
  }
}

import { execa, type ResultPromise } from 'execa';
import { waitFor } from './daemon.ts';

/** A throwaway redis-server of the test's own, so it may be killed without touching anyone's data. */
// Returned in an object: an async function returning the execa promise itself would
// wait for the server to exit.
export async function ownRedis(port: number, dir: string): Promise<{ server: ResultPromise }> {
  const server = execa(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' },
  );
  await waitFor(
    async () => (await execa('redis-cli', ['-p', String(port), 'ping'], { reject: false })).stdout === 'PONG',
    10_000,
    'the test redis-server to answer',
  );
  return { server };
}

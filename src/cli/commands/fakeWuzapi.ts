import { Command } from 'commander';
import { startFakeWuzapi } from '../../devtools/fakeWuzapi.ts';
import { jsonOption, listenError, parsePort } from '../options.ts';
import { CliError, dim, exitCodes } from '../output.ts';

/** `wuzctl fake-wuzapi`: the local WuzAPI stand-in for development, tests and `verify queue`. */
export function fakeWuzapiCommand(): Command {
  return new Command('fake-wuzapi')
    .description('run a local fake WuzAPI that answers /chat/send/text and records what it receives')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8080')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--fail-rate <0..1>', 'share of sends answered 500 (repeatable: seeded)', '0')
    .option('--latency <ms>', 'delay before answering each send', '0')
    .option('--token <token...>', 'accept only these session tokens (default: any)')
    .addOption(jsonOption('print {"url": …} on the first line'))
    .addHelpText('after', '\nControl endpoints and wire format: docs/FAKE_WUZAPI.md')
    .action(
      async (options: {
        port: string;
        host: string;
        failRate: string;
        latency: string;
        token?: string[];
        json?: boolean;
      }) => {
        const port = parsePort(options.port);
        const failRate = Number(options.failRate);
        const latencyMs = Number(options.latency);
        if (!Number.isFinite(failRate) || failRate < 0 || failRate > 1) {
          throw new CliError(
            `--fail-rate ${options.failRate} is not between 0 and 1`,
            exitCodes.usage,
            'e.g. --fail-rate 0.1',
          );
        }
        if (!/^\d+$/.test(options.latency) || latencyMs > 600_000) {
          throw new CliError(
            `--latency ${options.latency} is not a number of milliseconds`,
            exitCodes.usage,
            'e.g. --latency 200',
          );
        }
        const fake = await startFakeWuzapi({
          port,
          host: options.host,
          failRate,
          latencyMs,
          tokens: options.token,
        }).catch((error: NodeJS.ErrnoException) => {
          throw listenError(error, options.host, port);
        });
        if (options.json) process.stdout.write(`${JSON.stringify({ url: fake.url })}\n`);
        else process.stdout.write(`fake WuzAPI listening on ${fake.url}\n`);
        fake.onMessage = (message) =>
          process.stderr.write(
            `${dim(new Date(message.receivedAt).toISOString())} ${message.id} → ${message.phone}: ${message.body.slice(0, 80)}\n`,
          );
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await fake.close();
      },
    );
}

import { Command } from 'commander';
import { startTraceReceiver } from '../../devtools/traces/receiver.ts';
import { renderTrace } from '../../devtools/traces/render.ts';
import { jsonOption, listenError, parsePort } from '../options.ts';
import { CliError, dim, exitCodes } from '../output.ts';

/** `wuzctl traces`: a local OTLP/HTTP receiver that prints each trace as a span tree. */
export function tracesCommand(): Command {
  return new Command('traces')
    .description('receive OpenTelemetry traces locally (OTLP/HTTP) and print each one as a span tree')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '4318')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--keep <n>', 'traces kept for GET /api/traces', '100')
    .addOption(jsonOption('print {"url": …} first, then one JSON line per trace'))
    .addHelpText('after', '\nHTTP API and output: docs/TRACES.md')
    .action(async (options: { port: string; host: string; keep: string; json?: boolean }) => {
      const port = parsePort(options.port);
      const keep = Number(options.keep);
      if (!/^\d+$/.test(options.keep) || keep < 1 || keep > 100_000) {
        throw new CliError(
          `--keep ${options.keep} is not between 1 and 100000`,
          exitCodes.usage,
          'e.g. --keep 500',
        );
      }
      const receiver = await startTraceReceiver({ port, host: options.host, keep }).catch(
        (error: NodeJS.ErrnoException) => {
          throw listenError(error, options.host, port, ' (a Jaeger or another receiver?)');
        },
      );
      if (options.json) process.stdout.write(`${JSON.stringify({ url: receiver.url })}\n`);
      process.stderr.write(
        `OTLP receiver listening on ${receiver.url} — point the daemon at it:\n  ${dim(`OTEL_EXPORTER_OTLP_ENDPOINT=${receiver.url} wuzctl serve`)}\n`,
      );
      receiver.onSettled = (trace) =>
        process.stdout.write(options.json ? `${JSON.stringify(trace)}\n` : `${renderTrace(trace)}\n\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await receiver.close();
    });
}

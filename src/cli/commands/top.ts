import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { resolveDataDir } from '../../daemon/config/dataPaths.ts';
import { DaemonClient } from '../client.ts';
import { parseDuration } from '../duration.ts';
import { dataDirOption, jsonOption } from '../options.ts';
import { CliError, exitCodes, printJson } from '../output.ts';
import { plainFrame, renderFrame } from '../top/frame.ts';
import { topModel } from '../top/model.ts';

export function topCommand(): Command {
  return new Command('top')
    .description(
      'a live view of the daemon: processes, HTTP per route, cache, rate limits, queues, alerts (q quits, ? for keys)',
    )
    .addOption(dataDirOption())
    .option('--interval <time>', 'refresh every', '1s')
    .option('--once', 'print one plain-text frame (one interval) and exit: what runs without a terminal')
    .addOption(jsonOption('print one snapshot (the status and the cumulative counters) and exit'))
    .action(async (options: { dataDir?: string; interval: string; once?: boolean; json?: boolean }) => {
      const intervalMs = parseDuration(options.interval);
      if (intervalMs === null || intervalMs < 200 || intervalMs > 60_000) {
        throw new CliError(
          `--interval ${options.interval} is not a duration from 200ms to 60s`,
          exitCodes.usage,
          'e.g. --interval 2s',
        );
      }
      const client = new DaemonClient(resolveDataDir(options.dataDir));
      if (options.json) {
        printJson(await client.snapshot());
        return;
      }
      // Not a terminal (a pipe, CI): Ink would print only its last frame at exit; one plain frame instead.
      if (options.once || !process.stdout.isTTY || !process.stdin.isTTY) {
        const before = await client.snapshot();
        await sleep(intervalMs);
        const model = topModel(before, await client.snapshot());
        const lines = renderFrame(model, {
          width: process.stdout.columns || 100,
          height: 1000,
          focus: 'http',
          sort: 'name',
          filter: '',
          paused: false,
          history: [model.totalRps],
        });
        process.stdout.write(`${plainFrame(lines)}\n`);
        return;
      }
      await client.snapshot(); // no daemon: exit 3 before the screen is taken
      // Ink's colours (chalk) do not read NO_COLOR; FORCE_COLOR=0 they do. Set before Ink loads.
      if (process.env.NO_COLOR) process.env.FORCE_COLOR = '0';
      const [{ render }, { createElement }, { TopApp }] = await Promise.all([
        import('ink'),
        import('react'),
        import('../top/app.ts'),
      ]);
      const app = render(createElement(TopApp, { snapshot: () => client.snapshot(), intervalMs }), {
        alternateScreen: true,
        incrementalRendering: true,
        maxFps: 10,
        patchConsole: false,
      });
      await app.waitUntilExit();
    });
}

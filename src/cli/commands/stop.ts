import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { resolveDataDir } from '../../daemon/config/dataPaths.ts';
import { isAlive } from '../../daemon/supervisor/pidLock.ts';
import { DaemonClient } from '../client.ts';
import { dataDirOption, jsonOption } from '../options.ts';
import { CliError, dim, green, printJson } from '../output.ts';

export function stopCommand(): Command {
  return new Command('stop')
    .description(
      'stop the daemon gracefully (drain HTTP, stop children and services) and wait for it to exit',
    )
    .addOption(dataDirOption())
    .option('--timeout <seconds>', 'how long to wait for the exit', '60')
    .addOption(jsonOption('print the result as JSON'))
    .action(async (options: { dataDir?: string; timeout: string; json?: boolean }) => {
      const timeoutMs = Number(options.timeout) * 1000;
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
        throw new CliError(
          `--timeout must be a positive number of seconds, got ${JSON.stringify(options.timeout)}`,
          2,
        );
      }
      const client = new DaemonClient(resolveDataDir(options.dataDir));
      const { pid } = await client.status();
      const began = Date.now();
      await client.stop();
      if (!options.json && process.stderr.isTTY) process.stderr.write(dim(`stopping pid ${pid}…\n`));
      while (isAlive(pid)) {
        if (Date.now() - began > timeoutMs) {
          throw new CliError(
            `pid ${pid} is still running after ${options.timeout} s`,
            1,
            `force it with: kill -9 ${pid}`,
          );
        }
        await sleep(50);
      }
      const tookMs = Date.now() - began;
      if (options.json) printJson({ stopped: true, pid, tookMs });
      else process.stdout.write(`${green('stopped')} pid ${pid} in ${(tookMs / 1000).toFixed(1)} s\n`);
    });
}

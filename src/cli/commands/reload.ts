import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { resolveDataDir } from '../../daemon/config/dataPaths.ts';
import type { Replacement } from '../../daemon/supervisor/children.ts';
import type { RolloutStatus } from '../../daemon/supervisor/rollout.ts';
import { DaemonClient } from '../client.ts';
import { dataDirOption, jsonOption } from '../options.ts';
import { CliError, dim, exitCodes, green, printJson, suggest } from '../output.ts';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function stepLine(step: Replacement): string {
  const exit = step.oldExit && step.oldExit !== 'code 0' ? `, old one ended with ${step.oldExit}` : '';
  return `${green('✓')} ${step.slot} → generation ${step.generation}: pid ${step.oldPid ?? '-'} → ${step.newPid ?? '-'} ${dim(`(ready in ${seconds(step.readyMs)}, drained in ${seconds(step.drainMs)}${exit})`)}`;
}

export function reloadCommand(): Command {
  return new Command('reload')
    .description(
      'rolling reload: replace every worker, one at a time, with one running the code on disk (migrations first); no request is dropped',
    )
    .addOption(dataDirOption())
    .option('--timeout <seconds>', 'how long to follow the rollout', '600')
    .addOption(jsonOption('print the finished rollout as JSON'))
    .action(async (options: { dataDir?: string; timeout: string; json?: boolean }) => {
      const timeoutMs = Number(options.timeout) * 1000;
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
        throw new CliError(
          `--timeout must be a positive number of seconds, got ${JSON.stringify(options.timeout)}`,
          exitCodes.usage,
        );
      }
      const client = new DaemonClient(resolveDataDir(options.dataDir));
      const started = await client.reload().catch((error: CliError) => {
        throw /in progress/.test(error.message)
          ? new CliError(
              error.message,
              error.exitCode,
              `follow it with: ${suggest('wuzctl status', options.dataDir)}`,
            )
          : error;
      });
      const say = (line: string) => {
        if (!options.json) process.stdout.write(`${line}\n`);
      };
      say(
        `rollout ${started.id}: generation ${started.generation}, ${started.plan.length} processes (${started.plan.join(', ')})`,
      );
      let shown = 0;
      let status: RolloutStatus = started;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const now = await client.rollout();
        if (now && now.id === started.id) status = now;
        for (const step of status.steps.slice(shown)) say(stepLine(step));
        shown = status.steps.length;
        if (status.state !== 'running') break;
        if (Date.now() > deadline) {
          throw new CliError(
            `rollout ${started.id} still running after ${options.timeout} s`,
            exitCodes.failure,
            `follow it with: ${suggest('wuzctl status', options.dataDir)}`,
          );
        }
        await sleep(200);
      }
      if (options.json) printJson(status);
      const took = Date.parse(status.finishedAt ?? new Date().toISOString()) - Date.parse(status.startedAt);
      if (status.migrations.length) say(dim(`migrations applied: ${status.migrations.join(', ')}`));
      if (status.state === 'done') {
        say(`${green('reloaded')} to generation ${status.generation} in ${seconds(took)}`);
        return;
      }
      throw new CliError(
        `rollout ${status.id} ${status.state}: ${status.reason}`,
        exitCodes.failure,
        status.state === 'aborted'
          ? `the workers not replaced keep serving the old code; see: ${suggest('wuzctl logs --level error', options.dataDir)}`
          : undefined,
      );
    });
}

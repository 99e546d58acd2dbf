import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { jsonOption } from '../options.ts';
import { CliError, exitCodes, printJson } from '../output.ts';
import { createProgress } from '../verify/progress.ts';
import { GATES } from '../verify/registry.ts';
import { renderJunit, renderTable } from '../verify/report.ts';
import { exitCodeOf, runGates, toJson } from '../verify/runner.ts';

export function verifyCommand(): Command {
  return new Command('verify')
    .description(
      'run the acceptance gates against a daemon: exit 0 all pass, 1 a gate failed, 2 a gate could not run',
    )
    .argument('[gates...]', `gates to run (default all): ${GATES.map((g) => g.name).join(', ')}`)
    .option('--url <url>', 'verify the daemon at this URL instead of an ephemeral one')
    .option('--data-dir <dir>', 'verify the running daemon of this data dir (its URL, counters and database)')
    .option('--tokens <file>', 'with --url: demo tokens, the output of `wuzctl seed --demo --json`')
    .option(
      '--wuzapi <url>',
      'with --url/--data-dir: the `wuzctl fake-wuzapi` that daemon sends through (gates queue, tracing)',
    )
    .option(
      '--traces <url>',
      'with --url/--data-dir: the `wuzctl traces` receiver that daemon exports to (gate tracing)',
    )
    .option(
      '--config <file>',
      'JSON: demo tenant count and per-gate settings; thresholds may only be tightened',
    )
    .addOption(jsonOption('print {"pass": bool, "gates": [{gate, pass, figure, threshold, unit, details}]}'))
    .option('--junit <file>', 'also write a JUnit XML report to this file')
    .addHelpText(
      'after',
      `\nGates:\n${GATES.map((g) => `  ${g.name.padEnd(10)} ${g.description}`).join('\n')}\n\nWithout --url/--data-dir, an ephemeral daemon (free port, temporary data dir,\nembedded defaults or the env's REDIS_URL/DATABASE_URL) is started, seeded and stopped.\nDetails: docs/VERIFY.md`,
    )
    .action(
      async (
        gates: string[],
        options: {
          url?: string;
          dataDir?: string;
          tokens?: string;
          wuzapi?: string;
          traces?: string;
          config?: string;
          json?: boolean;
          junit?: string;
        },
      ) => {
        if (options.tokens && !options.url) {
          throw new CliError(
            '--tokens goes with --url',
            exitCodes.usage,
            'wuzctl verify --url URL --tokens seed.json',
          );
        }
        const outcomes = await runGates({ gates, ...options }, createProgress());
        if (options.junit) {
          await writeFile(options.junit, renderJunit(outcomes)).catch((error: NodeJS.ErrnoException) => {
            throw new CliError(
              `cannot write ${options.junit}: ${error.code ?? error.message}`,
              exitCodes.usage,
            );
          });
        }
        if (options.json) printJson(toJson(outcomes));
        else process.stdout.write(`${renderTable(outcomes)}\n`);
        process.exitCode = exitCodeOf(outcomes);
      },
    );
}

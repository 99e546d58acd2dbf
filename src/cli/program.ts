import { Command, CommanderError } from 'commander';
import { version } from '../paths.ts';
import { alertsCommand } from './commands/alerts.ts';
import { benchCommand } from './commands/bench.ts';
import { fakeWuzapiCommand } from './commands/fakeWuzapi.ts';
import { jobsCommand } from './commands/jobs.ts';
import { logsCommand } from './commands/logs.ts';
import { openapiCommand } from './commands/openapi.ts';
import { reloadCommand } from './commands/reload.ts';
import { seedCommand } from './commands/seed.ts';
import { serveCommand } from './commands/serve.ts';
import { statusCommand } from './commands/status.ts';
import { stopCommand } from './commands/stop.ts';
import { tenantsCommand } from './commands/tenants.ts';
import { tokensCommand } from './commands/tokens.ts';
import { topCommand } from './commands/top.ts';
import { tracesCommand } from './commands/traceReceiver.ts';
import { usersCommand } from './commands/users.ts';
import { verifyCommand } from './commands/verify.ts';
import { CliError, exitCodes, printError, wantsJson } from './output.ts';

// `wuzctl openapi | head`, `wuzctl jobs --json | head`: a reader that stops early is not a failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(exitCodes.ok);
  throw error;
});

const program = new Command('wuzctl')
  .description('WUZAPI Manager ops runtime: run the daemon, control it, and verify it')
  .version(version, '-v, --version')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

// With --json, commander's own usage errors become one JSON error too (printed below).
let usageText = '';
if (wantsJson()) {
  program.configureOutput({
    writeErr: (text) => {
      usageText += text;
    },
  });
}

/** addCommand() does not pass exitOverride() and friends down: copy them, all the way down. */
function inherit(command: Command, parent: Command): Command {
  command.copyInheritedSettings(parent);
  for (const sub of command.commands) inherit(sub, command);
  return command;
}

for (const command of [
  serveCommand(),
  statusCommand(),
  stopCommand(),
  reloadCommand(),
  logsCommand(),
  tenantsCommand(),
  usersCommand(),
  tokensCommand(),
  seedCommand(),
  jobsCommand(),
  openapiCommand(),
  fakeWuzapiCommand(),
  tracesCommand(),
  alertsCommand(),
  topCommand(),
  benchCommand(),
  verifyCommand(),
]) {
  program.addCommand(inherit(command, program));
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // commander has printed the message already; help and version are not failures.
    const benign = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code);
    process.exitCode = benign ? exitCodes.ok : exitCodes.usage;
    if (!benign && wantsJson()) {
      const message = (usageText.split('\n')[0] ?? error.message).replace(/^error: /, '');
      printError(new CliError(message, exitCodes.usage, 'run with --help for usage'));
    }
  } else if (error instanceof CliError) {
    printError(error);
    process.exitCode = error.exitCode;
  } else {
    printError(
      new CliError(`unexpected failure: ${(error as Error)?.message ?? String(error)}`, exitCodes.failure),
    );
    if (process.env.WUZCTL_DEBUG) console.error(error);
    process.exitCode = exitCodes.failure;
  }
}

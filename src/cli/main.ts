import { Command, CommanderError } from 'commander';
import { version } from '../paths.ts';
import { serveCommand } from './commands/serve.ts';
import { statusCommand } from './commands/status.ts';
import { stopCommand } from './commands/stop.ts';
import { CliError, exitCodes, printError } from './output.ts';

const program = new Command('wuzctl')
  .description('WUZAPI Manager ops runtime: run the daemon, control it, and verify it')
  .version(version, '-v, --version')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

for (const command of [serveCommand(), statusCommand(), stopCommand()]) {
  // addCommand() does not pass exitOverride() and friends down: copy them explicitly.
  program.addCommand(command.copyInheritedSettings(program));
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // commander has printed the message already; help and version are not failures.
    const benign = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code);
    process.exitCode = benign ? exitCodes.ok : exitCodes.usage;
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

import { Command, CommanderError } from 'commander';
import { version } from '../paths.ts';
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

/**
 * Each command's module, loaded on demand: together they import most of the package
 * (BullMQ, PGlite, Ink, autocannon, the verify gates…), ~1 s of CPU. `wuzctl serve`, the
 * command whose start-up users wait for, and every other command named on the command
 * line load only their own; help, a typo (its "did you mean") and no command load all.
 * In the order `wuzctl --help` lists them.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: () => import('./commands/serve.ts').then((m) => m.serveCommand()),
  status: () => import('./commands/status.ts').then((m) => m.statusCommand()),
  stop: () => import('./commands/stop.ts').then((m) => m.stopCommand()),
  reload: () => import('./commands/reload.ts').then((m) => m.reloadCommand()),
  logs: () => import('./commands/logs.ts').then((m) => m.logsCommand()),
  tenants: () => import('./commands/tenants.ts').then((m) => m.tenantsCommand()),
  users: () => import('./commands/users.ts').then((m) => m.usersCommand()),
  tokens: () => import('./commands/tokens.ts').then((m) => m.tokensCommand()),
  seed: () => import('./commands/seed.ts').then((m) => m.seedCommand()),
  jobs: () => import('./commands/jobs.ts').then((m) => m.jobsCommand()),
  openapi: () => import('./commands/openapi.ts').then((m) => m.openapiCommand()),
  'fake-wuzapi': () => import('./commands/fakeWuzapi.ts').then((m) => m.fakeWuzapiCommand()),
  traces: () => import('./commands/traceReceiver.ts').then((m) => m.tracesCommand()),
  alerts: () => import('./commands/alerts.ts').then((m) => m.alertsCommand()),
  top: () => import('./commands/top.ts').then((m) => m.topCommand()),
  bench: () => import('./commands/bench.ts').then((m) => m.benchCommand()),
  verify: () => import('./commands/verify.ts').then((m) => m.verifyCommand()),
};
const named = process.argv[2];
// A command loads its own module only; `--version` needs none (help lists them all).
const versionOnly = process.argv.length === 3 && (named === '--version' || named === '-v');
const wanted =
  named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : versionOnly ? [] : Object.keys(COMMANDS);
for (const command of await Promise.all(wanted.map((name) => (COMMANDS[name] as () => Promise<Command>)()))) {
  // A key that is not the command's name would load the wrong module for it.
  if (!Object.hasOwn(COMMANDS, command.name()))
    throw new Error(`command ${command.name()} is not in COMMANDS`);
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

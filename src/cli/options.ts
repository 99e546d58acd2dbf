import { Option } from 'commander';
import { CliError, exitCodes } from './output.ts';

/**
 * The options every command spells the same way, declared once. `--data-dir` names the
 * daemon (or the data) a command works on; `--json` says what the machine-readable output
 * is, which differs per command (errors are JSON too, see printError).
 */
export const dataDirOption = (): Option =>
  new Option('--data-dir <dir>', 'data dir of the daemon [WUZ_DATA_DIR, default ./.wuzctl]');

export const jsonOption = (prints: string): Option => new Option('--json', prints);

/** A `--port` value of the local dev servers (fake-wuzapi, traces): 0 to 65535, 0 picks a free one. */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new CliError(`--port ${value} is not a port`, exitCodes.usage, '0 to 65535; 0 picks a free one');
  }
  return port;
}

/** Why a dev server could not listen, as the CLI says it (a port in use gets a hint). */
export function listenError(error: NodeJS.ErrnoException, host: string, port: number, holder = ''): CliError {
  return error.code === 'EADDRINUSE'
    ? new CliError(`port ${port} is in use${holder}`, exitCodes.failure, '--port 0 picks a free one')
    : new CliError(`cannot listen on ${host}:${port}: ${error.message}`);
}

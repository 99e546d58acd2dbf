import { Option } from 'commander';

/**
 * The options every command spells the same way, declared once. `--data-dir` names the
 * daemon (or the data) a command works on; `--json` says what the machine-readable output
 * is, which differs per command (errors are JSON too, see printError).
 */
export const dataDirOption = (): Option =>
  new Option('--data-dir <dir>', 'data dir of the daemon [WUZ_DATA_DIR, default ./.wuzctl]');

export const jsonOption = (prints: string): Option => new Option('--json', prints);

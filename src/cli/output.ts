import path from 'node:path';

/** Exit codes shared by every command. */
export const exitCodes = {
  ok: 0,
  failure: 1,
  usage: 2,
  notRunning: 3,
} as const;

/** The `code` of a JSON error, from the exit code when the error names none. */
const CODES: Record<number, string> = { 1: 'failed', 2: 'usage', 3: 'not_running' };

/** A failure the user can act on: printed as `error: …` plus a hint, never a stack trace. */
export class CliError extends Error {
  readonly exitCode: number;
  readonly hint?: string;
  readonly code: string;

  constructor(message: string, exitCode: number = exitCodes.failure, hint?: string, code?: string) {
    super(message);
    this.exitCode = exitCode;
    this.hint = hint;
    this.code = code ?? CODES[exitCode] ?? 'failed';
  }
}

/** True when the command line asks for machine-readable output: errors follow it. */
export const wantsJson = (argv: string[] = process.argv): boolean => argv.includes('--json');

/** A shell word as typed: quoted only when it has to be, so a pasted hint runs as is. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * A `wuzctl …` command to suggest, with the data dir the user is working on: a hint that
 * drops `--data-dir` would address another daemon (or none) when pasted.
 */
export function suggest(command: string, dataDir: string | undefined): string {
  const implicit = path.resolve(process.env.WUZ_DATA_DIR || './.wuzctl');
  if (!dataDir || path.resolve(dataDir) === implicit) return command;
  return `${command} --data-dir ${shellWord(path.resolve(dataDir))}`;
}

export const useColor = (): boolean => !process.env.NO_COLOR && Boolean(process.stderr.isTTY);

const paint = (code: number) => (text: string) => (useColor() ? `\u001b[${code}m${text}\u001b[0m` : text);
export const red = paint(31);
export const green = paint(32);
export const yellow = paint(33);
export const dim = paint(2);
export const bold = paint(1);

/**
 * On stderr, always: stdout carries only data. With --json, the error is one JSON object
 * `{"error":{"code","message","hint"}}` a script can parse (its exit code says the same).
 */
export function printError(error: CliError, json = wantsJson()): void {
  if (json) {
    const body = { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
    process.stderr.write(`${JSON.stringify({ error: body })}\n`);
    return;
  }
  process.stderr.write(`${red('error:')} ${error.message}\n`);
  if (error.hint) process.stderr.write(`${dim('hint:')} ${error.hint}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '-';
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
  return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m`;
}

/** A plain aligned table: no borders, so it reads well in a terminal and in a log. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => visibleLength(r[i] ?? '')))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell + ' '.repeat(Math.max(0, (widths[i] ?? 0) - visibleLength(cell))))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips our own ANSI colour codes
  return text.replace(/\u001b\[\d+m/g, '').length;
}

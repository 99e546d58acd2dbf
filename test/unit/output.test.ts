import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CliError, exitCodes, printError, shellWord, suggest } from '../../src/cli/output.ts';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('hints that work when pasted', () => {
  it('name the data dir unless it is the one a bare command would use', () => {
    vi.stubEnv('WUZ_DATA_DIR', '');
    expect(suggest('wuzctl status', undefined)).toBe('wuzctl status');
    expect(suggest('wuzctl status', './.wuzctl')).toBe('wuzctl status');
    expect(suggest('wuzctl status', '/srv/wuz')).toBe('wuzctl status --data-dir /srv/wuz');
    expect(suggest('wuzctl stop', 'rel/dir')).toBe(`wuzctl stop --data-dir ${path.resolve('rel/dir')}`);
    vi.stubEnv('WUZ_DATA_DIR', '/srv/wuz');
    expect(suggest('wuzctl status', '/srv/wuz')).toBe('wuzctl status');
  });

  it('quote a path only when a shell would split or expand it', () => {
    expect(shellWord('/srv/wuz-1/data_dir')).toBe('/srv/wuz-1/data_dir');
    expect(shellWord('/srv/my data')).toBe("'/srv/my data'");
    expect(shellWord("/srv/it's")).toBe("'/srv/it'\\''s'");
    expect(shellWord('/srv/$HOME')).toBe("'/srv/$HOME'");
  });
});

describe('errors', () => {
  it('print as one JSON object on stderr with --json, code from the exit code unless named', () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    printError(
      new CliError('not running (no daemon at /x)', exitCodes.notRunning, 'start it with: wuzctl serve'),
      true,
    );
    printError(new CliError('bad', exitCodes.usage), true);
    printError(new CliError('gone', exitCodes.failure, undefined, 'not_found'), true);
    expect(written.map((line) => JSON.parse(line))).toEqual([
      {
        error: {
          code: 'not_running',
          message: 'not running (no daemon at /x)',
          hint: 'start it with: wuzctl serve',
        },
      },
      { error: { code: 'usage', message: 'bad' } },
      { error: { code: 'not_found', message: 'gone' } },
    ]);
  });
});

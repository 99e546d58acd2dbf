import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { asNewUser, readmeStartCommand } from '../../bench/readmeCommand.ts';
import {
  childEnv,
  cleanupDaemons,
  embeddedEnv,
  pidGone,
  tempDataDir,
  trackDetached,
  waitFor,
  wuzctl,
} from '../helpers/daemon.ts';

// The README opens with the command that starts the daemon. It must stay true: run as a
// new user runs it — from the repository, with a shell's PATH (no node_modules/.bin, so
// npm and the system Node do what they do for that user) — it starts the built daemon
// (dist/, which `npm ci` builds), the banner counts npm's own start in the wait it
// reports, and `wuzctl stop` ends it with exit 0.

const repo = path.resolve(import.meta.dirname, '../..');

afterAll(cleanupDaemons);

/** Runs the README's command on `dataDir` and resolves once its banner names the URL. */
async function startAsReadmeSays(dataDir: string) {
  const [file, ...args] = readmeStartCommand(repo);
  if (!file) throw new Error('the README opens with no ```sh block whose first line runs the daemon');
  const daemon = execa(file, args, {
    cwd: repo,
    env: asNewUser(childEnv({ ...embeddedEnv, WUZ_DATA_DIR: dataDir, WUZ_PORT: '0', LOG_LEVEL: 'info' })),
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    all: true,
  });
  let out = '';
  daemon.all?.on('data', (chunk: Buffer) => {
    out += chunk;
  });
  let exited = false;
  void daemon.then(() => {
    exited = true;
  });
  const url = await waitFor(
    () => {
      if (exited) throw new Error(`it exited before it was ready:\n${out}`);
      return /url\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    },
    60_000,
    `the banner of \`${file} ${args.join(' ')}\``,
  );
  return { file, daemon, url, output: () => out };
}

describe("the README's first command", () => {
  it('starts the daemon, reports the wait from npm on, and stops cleanly', async () => {
    const dataDir = await tempDataDir();
    trackDetached(dataDir);
    const { file, daemon, url, output } = await startAsReadmeSays(dataDir);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(output()).toMatch(/ready in [\d.]+ s/);

    // The wait is counted from the command the user typed: npm's start is in it.
    const ready = (await readFile(path.join(dataDir, 'wuzctl.log'), 'utf8'))
      .split('\n')
      .filter((line) => line.includes('"msg":"ready"'))
      .map((line) => JSON.parse(line) as { phases: { launcher: number } })
      .at(-1);
    // npm alone takes longer than this to load.
    if (file === 'npm' || file === 'npx') expect(ready?.phases.launcher).toBeGreaterThanOrEqual(50);

    const stopped = await wuzctl(['stop', '--data-dir', dataDir]);
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    expect((await daemon).exitCode, output()).toBe(0);
  }, 90_000);

  it('stops gracefully when its process gets SIGTERM (a process manager, `kill`)', async () => {
    const dataDir = await tempDataDir();
    trackDetached(dataDir);
    const { daemon, output } = await startAsReadmeSays(dataDir);
    const status = await wuzctl(['status', '--json', '--data-dir', dataDir]);
    const supervisor = (JSON.parse(status.stdout) as { pid: number }).pid;
    // npm forwards the signal to its script: the script must hand it to the daemon (`exec`),
    // or the daemon outlives the npm that started it.
    daemon.kill('SIGTERM');
    expect((await daemon).exitCode, output()).toBe(0);
    await waitFor(() => pidGone(supervisor), 30_000, `the daemon (pid ${supervisor}) to stop`);
    expect(output()).toMatch(/"reason":"SIGTERM","msg":"stopping"/);
  }, 90_000);
});

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import {
  childEnv,
  cleanupDaemons,
  embeddedEnv,
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

/** The README's first command without its install step: `npm ci && npm start  # …` → `npm start`. */
async function readmeStartCommand(): Promise<string[]> {
  const readme = await readFile(path.join(repo, 'README.md'), 'utf8');
  const first = /```sh\n([^\n]*)/.exec(readme)?.[1] ?? '';
  return (first.split('#')[0] ?? '').split('&&').at(-1)?.trim().split(/\s+/) ?? [];
}

afterAll(cleanupDaemons);

describe("the README's first command", () => {
  it('starts the daemon, reports the wait from npm on, and stops cleanly', async () => {
    const [file, ...args] = await readmeStartCommand();
    expect(file, 'the README opens with a ```sh block whose first line runs the daemon').toBeTruthy();
    const dataDir = await tempDataDir();
    trackDetached(dataDir);
    const env = childEnv({ ...embeddedEnv, WUZ_DATA_DIR: dataDir, WUZ_PORT: '0', LOG_LEVEL: 'info' });
    env.PATH = (env.PATH ?? '')
      .split(':')
      .filter((entry) => !entry.includes('node_modules'))
      .join(':');
    for (const key of Object.keys(env)) if (key.startsWith('npm_')) delete env[key];

    const daemon = execa(file as string, args, {
      cwd: repo,
      env,
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
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(out).toMatch(/ready in [\d.]+ s/);

    // The wait is counted from the command the user typed: npm's start is in it.
    const ready = (await readFile(path.join(dataDir, 'wuzctl.log'), 'utf8'))
      .split('\n')
      .filter((line) => line.includes('"msg":"ready"'))
      .map((line) => JSON.parse(line) as { phases: { launcher: number } })
      .at(-1);
    if (file === 'npm' || file === 'npx') expect(ready?.phases.launcher).toBeGreaterThanOrEqual(50); // npm alone takes longer to load

    const stopped = await wuzctl(['stop', '--data-dir', dataDir]);
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    const result = await daemon;
    expect(result.exitCode, out).toBe(0);
  }, 90_000);
});

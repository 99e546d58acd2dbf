/**
 * The README's first command as a new user runs it: shared by `npm run bench:wait`, which
 * times it, and test/integration/readme.start.test.ts, which keeps it true.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The README's first command without its install step: `npm ci && npm start  # …` → ['npm', 'start']. */
export function readmeStartCommand(repo: string): string[] {
  const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
  const first = /```sh\n([^\n]*)/.exec(readme)?.[1] ?? '';
  return (first.split('#')[0] ?? '').split('&&').at(-1)?.trim().split(/\s+/).filter(Boolean) ?? [];
}

/**
 * `env` as a new user's shell has it: no node_modules/.bin on PATH (so npm, npx and the
 * system Node do what they do for that user) and none of the npm_* variables an npm script
 * inherits.
 */
export function asNewUser(env: Record<string, string | undefined>): Record<string, string> {
  const shell: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && !key.startsWith('npm_')) shell[key] = value;
  }
  shell.PATH = (env.PATH ?? '')
    .split(':')
    .filter((entry) => !entry.includes('node_modules'))
    .join(':');
  return shell;
}

import { GateCannotRun } from './gate.ts';

/**
 * The files of the web app a daemon serves, as its service worker lists them for
 * precaching (every built file a browser may load), plus `/` and the worker itself: what
 * a CDN in front would see. Read from the daemon, so a gate
 * given `--url` checks that daemon's build, not this checkout's.
 */
export async function webAppFiles(url: string): Promise<string[]> {
  const response = await fetch(`${url}/sw.js`).catch(() => null);
  if (!response?.ok) {
    throw new GateCannotRun(
      `${url}/sw.js is not served: the daemon serves no web app`,
      'build it with `npm run build:web` (npm ci does), or start the daemon without --web off',
    );
  }
  const script = await response.text();
  const precached = [...script.matchAll(/"url":"([^"]+)"/g)].map((match) => `/${match[1]}`);
  return [...new Set(['/', '/sw.js', ...precached])];
}

import type { Browser, Page } from 'playwright-core';
import { isExecutable } from '../../daemon/services/executables.ts';
import { GateCannotRun } from './gate.ts';

/**
 * What code passed to page.evaluate() sees: the browser's globals, typed here because the
 * CLI is compiled without the DOM library. (Casts are erased; nothing here runs in Node.)
 */
export interface BrowserGlobals {
  navigator: { serviceWorker: { ready: Promise<unknown>; controller: unknown } };
  location: { origin: string };
  performance: {
    getEntriesByType(
      type: string,
    ): Array<{ name: string; startTime: number; responseEnd: number; deliveryType?: string }>;
  };
  caches: { keys(): Promise<string[]> };
}

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The system's Chromium (Debian's `chromium`): playwright-core drives it, nothing is downloaded. */
export async function findChromium(): Promise<string> {
  const candidates = process.env.CHROMIUM_BIN ? [process.env.CHROMIUM_BIN] : CANDIDATES;
  for (const candidate of candidates) {
    if (await isExecutable(candidate)) return candidate;
  }
  throw new GateCannotRun(
    'Chromium is not installed',
    'install it: `sudo apt-get install chromium` (Debian/Ubuntu), or set CHROMIUM_BIN',
  );
}

export async function launchChromium(): Promise<Browser> {
  const executablePath = await findChromium();
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, headless: true });
}

/** Checks that the daemon serves the web app at all (a daemon built without it serves the API only). */
export async function requireWebApp(url: string): Promise<void> {
  const response = await fetch(`${url}/`).catch(() => null);
  if (!response?.ok || !response.headers.get('content-type')?.includes('text/html')) {
    throw new GateCannotRun(
      `${url}/ does not serve the web app`,
      'build it with `npm run build:web` (npm ci does), or start the daemon without --web off',
    );
  }
}

/** Signs in through the login form and waits for the signed-in shell. */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/login`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 15_000 });
}

export async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByLabel('API token').waitFor({ timeout: 15_000 });
}

/** Waits until a service worker controls the page (the first load only installs it). */
export async function waitForServiceWorker(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await (globalThis as unknown as BrowserGlobals).navigator.serviceWorker.ready;
  });
  const controlled = () =>
    Boolean((globalThis as unknown as BrowserGlobals).navigator.serviceWorker.controller);
  if (!(await page.evaluate(controlled))) {
    await page.reload();
    await page.waitForFunction(controlled, undefined, { timeout: 15_000 });
  }
}

import type { Page, Response } from 'playwright-core';
import { z } from 'zod';
import {
  type BrowserGlobals,
  launchChromium,
  requireWebApp,
  signIn,
  signOut,
  waitForServiceWorker,
} from '../browser.ts';
import { type Gate, GateCannotRun, type GateContext, type GateResult } from '../gate.ts';
import { percentile, round } from '../http.ts';

/**
 * Gate `pwa`: the web app in a real headless Chromium, served by the daemon. Signs in,
 * lets the service worker take control, then loads the app in a fresh tab and times every
 * static asset the worker answered from its cache, asked for again one at a time
 * (Resource Timing, deliveryType "cache-storage"; the page-load timings are reported too). Goes offline and reloads: the shell must render with the offline
 * banner and the last data. Finally signs out and in as a user of another tenant and
 * checks that no API answer of the first user reaches the second, online or offline.
 */
const settings = z
  .object({
    /** p95 of cached static asset load times, ms. */
    threshold: z.number().positive().max(50),
    /** Fewer cached assets than this and the timing says nothing. */
    minAssets: z.number().int().min(1).max(100),
  })
  .strict();

export type PwaGateSettings = z.infer<typeof settings>;

export const pwaGate: Gate<PwaGateSettings> = {
  name: 'pwa',
  description:
    'web app in headless Chromium: assets from the service worker cache (p95), offline shell, no cross-user data',
  unit: 'ms p95 (cached assets)',
  direction: 'max',
  settings,
  defaults: { threshold: 50, minAssets: 3 },
  daemonEnv: { WUZ_RATE_LIMIT: 'off' },
  run: runPwaGate,
};

interface AssetTiming {
  name: string;
  ms: number;
  deliveryType: string;
}

/** Same-origin static files this page loaded, with how they were delivered and how long they took. */
function assetTimings(page: Page): Promise<AssetTiming[]> {
  return page.evaluate(() => {
    const { performance, location } = globalThis as unknown as BrowserGlobals;
    return performance
      .getEntriesByType('resource')
      .filter((entry) => {
        const url = new URL(entry.name);
        return url.origin === location.origin && !url.pathname.startsWith('/api/');
      })
      .map((entry) => ({
        name: new URL(entry.name).pathname,
        ms: entry.responseEnd - entry.startTime,
        deliveryType: entry.deliveryType ?? '',
      }));
  });
}

/**
 * The same assets asked for again by the page, one at a time (fetch, body read whole):
 * how long the service worker takes to answer each from its cache, without the page's
 * own start-up (script parsing, the other loads) in the way, as a load that follows the
 * first does. Resource Timing again, so only answers with deliveryType "cache-storage"
 * count.
 */
function refetchTimings(page: Page, names: string[]): Promise<AssetTiming[]> {
  return page.evaluate(async (paths) => {
    const { performance, location, fetch } = globalThis as unknown as BrowserGlobals & {
      performance: { clearResourceTimings(): void };
      fetch: (url: string) => Promise<{ arrayBuffer(): Promise<unknown> }>;
    };
    performance.clearResourceTimings();
    for (const path of paths) await (await fetch(path)).arrayBuffer();
    return performance
      .getEntriesByType('resource')
      .filter((entry) => new URL(entry.name).origin === location.origin)
      .map((entry) => ({
        name: new URL(entry.name).pathname,
        ms: entry.responseEnd - entry.startTime,
        deliveryType: entry.deliveryType ?? '',
      }));
  }, names);
}

/** Every /api answer a page receives, as text, for the isolation check. */
function recordApi(page: Page): Array<{ url: string; body: string }> {
  const seen: Array<{ url: string; body: string }> = [];
  page.on('response', (response: Response) => {
    if (!new URL(response.url()).pathname.startsWith('/api/')) return;
    void response
      .text()
      .then((body) => seen.push({ url: response.url(), body }))
      .catch(() => {});
  });
  return seen;
}

async function runPwaGate(context: GateContext, config: PwaGateSettings): Promise<GateResult> {
  const [first, second] = context.tenants;
  const firstToken = first?.user_tokens[0];
  const secondToken = second?.user_tokens[0];
  if (!firstToken || !secondToken)
    throw new GateCannotRun('the gate needs two demo tenants with a user each');
  const browser = await launchChromium();
  await requireWebApp(context.url).catch(async (error) => {
    await browser.close();
    throw error;
  });
  const failures: string[] = [];
  try {
    const browserContext = await browser.newContext();
    const page = await browserContext.newPage();
    const consoleErrors: string[] = [];
    page.on('pageerror', (error) => consoleErrors.push(error.message));

    // 1. Sign in as the first user; the service worker installs, then controls the page.
    context.progress('pwa: signing in as the first user and waiting for the service worker');
    const firstUrls = new Set<string>();
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (request.method() === 'GET' && url.pathname.startsWith('/api/'))
        firstUrls.add(url.pathname + url.search);
    });
    await signIn(page, context.url, firstToken);
    await waitForServiceWorker(page);
    // What the first user's agents are, asked of the API directly (the page's own answer
    // may belong to a document the navigation already left).
    const listed = await fetch(`${context.url}/api/session/agents?per_page=100`, {
      headers: { authorization: `Bearer ${firstToken}` },
    });
    if (!listed.ok)
      throw new GateCannotRun(`GET /api/session/agents answered ${listed.status} for the first user`);
    const agentsBody = (await listed.json()) as { data: Array<{ id: string; name: string }> };
    await page.goto(`${context.url}/agents`);
    const firstMarkers = agentsBody.data.map((agent) => agent.id);
    const shownAgent = agentsBody.data[0]?.name;
    if (shownAgent) await page.getByText(shownAgent).first().waitFor({ timeout: 10_000 });

    // 2. A fresh tab (no in-memory cache): what the service worker serves, and how fast.
    context.progress('pwa: timing the cached assets in a fresh tab');
    const tab = await browserContext.newPage();
    await tab.goto(`${context.url}/agents`, { waitUntil: 'load' });
    await tab.getByRole('navigation', { name: 'Main' }).waitFor();
    const timings = await assetTimings(tab);
    const onLoad = timings.filter((timing) => timing.deliveryType === 'cache-storage').map((t) => t.ms);
    // The figure: each of those assets asked for once more, one at a time.
    const refetched = await refetchTimings(
      tab,
      timings.map((timing) => timing.name),
    );
    const cached = refetched.filter((timing) => timing.deliveryType === 'cache-storage');
    const ms = cached.map((timing) => timing.ms);
    const p50 = round(percentile(ms, 50), 1);
    const p95 = round(percentile(ms, 95), 1);
    if (cached.length < config.minAssets)
      failures.push(
        `only ${cached.length} assets came from the service worker cache (want ≥ ${config.minAssets})`,
      );
    await tab.close();

    // 3. Offline: the shell, the banner and the last data, from the worker's caches.
    context.progress('pwa: offline reload');
    await browserContext.setOffline(true);
    await page.reload({ waitUntil: 'load' });
    const offline = {
      shell: await page
        .getByRole('navigation', { name: 'Main' })
        .waitFor({ timeout: 10_000 })
        .then(
          () => true,
          () => false,
        ),
      banner: await page
        .getByTestId('offline-banner')
        .waitFor({ timeout: 10_000 })
        .then(
          () => true,
          () => false,
        ),
      lastData: shownAgent
        ? await page
            .getByText(shownAgent)
            .first()
            .waitFor({ timeout: 10_000 })
            .then(
              () => true,
              () => false,
            )
        : null,
    };
    if (!offline.shell) failures.push('offline: the app shell did not render');
    if (!offline.banner) failures.push('offline: no offline banner');
    if (offline.lastData === false) failures.push('offline: the last loaded agents were not shown');
    await browserContext.setOffline(false);

    // 4. Another user on the same browser: nothing of the first may reach them — checked on
    //    every API answer the page receives (service-worker answers included) by the first
    //    user's agent ids (names may repeat across demo tenants; ids never do). Offline, the
    //    page also asks, with its new token, for every API URL the first user loaded: what
    //    a service worker keyed by URL alone would answer from the first user's cache.
    context.progress('pwa: signing out, signing in as a user of another tenant');
    await signOut(page);
    const cachesAfterLogout = await page.evaluate(() =>
      (globalThis as unknown as BrowserGlobals).caches.keys(),
    );
    if (cachesAfterLogout.includes('wuz-api')) failures.push('the API cache survived the logout');
    const seen = recordApi(page);
    // Offline, before the second user has loaded anything: ask, with their token, for every
    // API URL the first user loaded. A cache keyed by URL alone would answer the first
    // user's data here (online, the second user's own answers would overwrite it first).
    await browserContext.setOffline(true);
    const replayed = await page.evaluate(
      async ({ urls, token }) =>
        Promise.all(
          urls.map((url) =>
            fetch(url, { headers: { authorization: `Bearer ${token}` } }).then(
              async (response) => ({ url, body: await response.text() }),
              () => ({ url, body: '' }),
            ),
          ),
        ),
      { urls: [...firstUrls], token: secondToken },
    );
    seen.push(...replayed);
    await browserContext.setOffline(false);
    await signIn(page, context.url, secondToken);
    await page.goto(`${context.url}/agents`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await browserContext.setOffline(true);
    await page.reload({ waitUntil: 'load' });
    await page
      .getByRole('navigation', { name: 'Main' })
      .waitFor({ timeout: 10_000 })
      .catch(() => {});
    await page.waitForTimeout(500);
    const shownToSecond = await page.content();
    await browserContext.setOffline(false);
    const leaks = firstMarkers.filter(
      (id) => seen.some((response) => response.body.includes(id)) || shownToSecond.includes(id),
    );
    if (leaks.length)
      failures.push(`the second user received the first user's data: ${leaks.slice(0, 3).join(', ')}`);
    if (consoleErrors.length) failures.push(`page errors: ${consoleErrors.slice(0, 3).join(' | ')}`);

    const pass = failures.length === 0 && p95 !== null && p95 < config.threshold;
    return {
      gate: 'pwa',
      pass,
      figure: p95,
      threshold: config.threshold,
      unit: 'ms p95 (cached assets)',
      details: {
        summary:
          `${cached.length}/${timings.length} assets from the SW cache, p50 ${p50} ms, p95 ${p95} ms · offline: shell ${offline.shell ? 'yes' : 'no'}, ` +
          `banner ${offline.banner ? 'yes' : 'no'}, last data ${offline.lastData ?? 'n/a'} · isolation: ${leaks.length ? 'LEAK' : 'ok'} ` +
          `(${seen.length} API answers to the second user checked)`,
        failures,
        cached_assets: { count: cached.length, of: timings.length, p50_ms: p50, p95_ms: p95 },
        // The same assets during the page's own load, all at once: information, not the figure.
        page_load: {
          count: onLoad.length,
          p50_ms: round(percentile(onLoad, 50), 1),
          p95_ms: round(percentile(onLoad, 95), 1),
        },
        assets: refetched.map((t) => ({ ...t, ms: round(t.ms, 1) })),
        offline,
        isolation: {
          api_answers_checked: seen.length,
          first_user_urls_replayed_offline: replayed.length,
          first_user_ids: firstMarkers.length,
          leaks,
        },
      },
    };
  } finally {
    await browser.close();
  }
}

// biome-ignore-all lint/suspicious/noExplicitAny: the assertions read arbitrary JSON bodies
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, signIn } from '../../src/cli/verify/browser.ts';
import { cleanupDaemons, type Daemon, embeddedEnv, seedDemo, startDaemon } from '../helpers/daemon.ts';

// The analytics page's stat cards in Debian's headless Chromium (as the `pwa` gate drives
// it), against a seeded daemon serving the web app built from the current sources (into a
// temp dir, so a stale dist/web can never make this pass). The tenant is given a very
// large revenue in BRL, read in pt-BR: "R$ 12.345.678,90"-long figures.

const repo = path.resolve(import.meta.dirname, '../..');
let webDir: string;
let daemon: Daemon;
let browser: Browser;
let adminToken: string;

async function call(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${daemon.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

beforeAll(async () => {
  webDir = await mkdtemp(path.join(os.tmpdir(), 'wz-web-'));
  await promisify(execFile)(
    process.execPath,
    [
      path.join(repo, 'node_modules/vite/bin/vite.js'),
      'build',
      '-c',
      'src/web/vite.config.ts',
      '--logLevel',
      'warn',
    ],
    // The production build whatever vitest's NODE_ENV ("test").
    { cwd: repo, env: { ...process.env, NODE_ENV: 'production', WUZ_WEB_OUT: webDir, WUZ_WEB_ANALYZE: '' } },
  );
  daemon = await startDaemon({
    env: { ...embeddedEnv, WUZ_RATE_LIMIT: 'off' },
    apiWorkers: 1,
    queueWorkers: 0,
    args: ['--web', webDir],
  });
  adminToken = (await seedDemo(daemon.dataDir, 1))[0]?.admin_token as string;
  // A million reais a month on top of the demo's plans: MRR and ARR of 15–16 characters.
  const settings = await call('PUT', '/api/admin/stripe/settings', {
    publishable_key: 'pk_test_analyticsweb01',
    currency: 'brl',
  });
  expect(settings.status, JSON.stringify(settings.body)).toBe(200);
  const plan = await call('POST', '/api/admin/plans', {
    name: 'Conglomerate',
    price_cents: 100_000_000,
    currency: 'brl',
    interval: 'month',
    limits: { max_agents: 1000, messages_per_month: 1_000_000 },
  });
  expect(plan.status, JSON.stringify(plan.body)).toBe(201);
  const subscribed = await call('POST', '/api/user/subscription', { plan_id: plan.body.id });
  expect(subscribed.status, JSON.stringify(subscribed.body)).toBe(201);
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await cleanupDaemons();
  if (webDir) await rm(webDir, { recursive: true, force: true });
});

/** What the code given to page.evaluate() uses (the tests compile without the DOM library). */
interface Box {
  top: number;
  left: number;
  right: number;
  height: number;
}
interface El {
  textContent: string | null;
  firstChild: unknown;
  scrollWidth: number;
  clientWidth: number;
  closest(selector: string): El | null;
  getBoundingClientRect(): Box;
}
interface PageGlobals {
  document: {
    documentElement: El;
    querySelectorAll(selector: string): Iterable<El>;
    createRange(): { selectNodeContents(node: unknown): void; getClientRects(): Iterable<Box> };
  };
  getComputedStyle(el: El): { lineHeight: string; fontSize: string; whiteSpace: string };
}

interface Measure {
  text: string;
  /** Distinct line boxes the figure's text lies on. */
  lines: number;
  height: number;
  lineHeight: number;
  fontSize: number;
  whiteSpace: string;
  value: { scrollWidth: number; clientWidth: number };
  card: { scrollWidth: number; clientWidth: number; left: number; right: number };
}

describe('the analytics page, in Chromium', () => {
  it.each([
    [1280, 800],
    [1024, 768],
    [720, 900],
    [360, 740],
    [320, 640],
  ])('keeps every stat figure on one line, inside its card, at %i×%i', async (width, height) => {
    const context = await browser.newContext({ viewport: { width, height }, locale: 'pt-BR' });
    try {
      const page = await context.newPage();
      await signIn(page, daemon.url, adminToken);
      await page.goto(`${daemon.url}/admin/analytics`);
      await page.locator('.stat-value').first().waitFor({ timeout: 15_000 });
      await page.evaluate(
        () =>
          (globalThis as unknown as { document: { fonts: { ready: Promise<unknown> } } }).document.fonts
            .ready,
      );
      const { stats, pageScroll } = await page.evaluate(() => {
        const g = globalThis as unknown as PageGlobals;
        const stats = [...g.document.querySelectorAll('.stat-value')].map((el): Measure => {
          const range = g.document.createRange();
          range.selectNodeContents(el.firstChild);
          const tops = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
          const style = g.getComputedStyle(el);
          const card = el.closest('.stat-card') as El;
          const cardBox = card.getBoundingClientRect();
          return {
            text: el.textContent ?? '',
            lines: tops.size,
            height: el.getBoundingClientRect().height,
            lineHeight: Number.parseFloat(style.lineHeight) || Number.parseFloat(style.fontSize) * 1.2,
            fontSize: Number.parseFloat(style.fontSize),
            whiteSpace: style.whiteSpace,
            value: { scrollWidth: el.scrollWidth, clientWidth: el.clientWidth },
            card: {
              scrollWidth: card.scrollWidth,
              clientWidth: card.clientWidth,
              left: cardBox.left,
              right: cardBox.right,
            },
          };
        });
        const root = g.document.documentElement;
        return { stats, pageScroll: { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth } };
      });
      expect(stats.map((s) => s.text)).toHaveLength(4);
      // The very large figures are there, as pt-BR writes them.
      expect(stats[1]?.text).toMatch(/^R\$\s\d{2}\.\d{3}\.\d{3},\d{2}$/);
      for (const stat of stats) {
        const where = `"${stat.text}" at ${width}px (${JSON.stringify(stat)})`;
        expect(stat.lines, `${where}: lines`).toBe(1);
        expect(stat.height, `${where}: height vs one line`).toBeLessThan(stat.lineHeight * 1.5);
        expect(stat.value.scrollWidth, `${where}: figure overflows`).toBeLessThanOrEqual(
          stat.value.clientWidth,
        );
        expect(stat.card.scrollWidth, `${where}: card overflows`).toBeLessThanOrEqual(stat.card.clientWidth);
        expect(stat.card.right, `${where}: card leaves the viewport`).toBeLessThanOrEqual(width);
        // Readable: never shrunk below 14 px.
        expect(stat.fontSize, `${where}: font size`).toBeGreaterThanOrEqual(14);
      }
      expect(pageScroll.scrollWidth, 'the page scrolls sideways').toBeLessThanOrEqual(pageScroll.clientWidth);
    } finally {
      await context.close();
    }
  });
});

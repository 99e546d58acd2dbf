/**
 * Screenshots of the web app against a real daemon (ephemeral, seeded with demo data) in
 * Debian's headless Chromium:
 *   npm run screenshots              → screenshots/{admin-analytics,agents,offline,api-reference}.png
 *   npm run screenshots -- --out DIR
 * The folder is not committed (.gitignore).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromium, requireWebApp, signIn, waitForServiceWorker } from '../src/cli/verify/browser.ts';
import { startEphemeral } from '../src/cli/verify/target.ts';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'screenshots' } } });
const out = path.resolve(values.out as string);
await mkdir(out, { recursive: true });

const log = (line: string) => console.error(line);
const target = await startEphemeral(2, log, { WUZ_RATE_LIMIT: 'off' });
const browser = await launchChromium().catch(async (error) => {
  await target.close();
  throw error;
});
try {
  await requireWebApp(target.url);
  const admin = target.tenants[0]?.admin_token as string;
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const shot = async (name: string) => {
    const file = path.join(out, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(file);
  };

  await signIn(page, target.url, admin);
  await waitForServiceWorker(page);
  await page.goto(`${target.url}/admin/analytics`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  await page.waitForLoadState('networkidle');
  await shot('admin-analytics');

  await page.goto(`${target.url}/agents`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  await page.waitForLoadState('networkidle');
  await shot('agents');

  await context.setOffline(true);
  await page.reload({ waitUntil: 'load' });
  await page.getByTestId('offline-banner').waitFor({ timeout: 10_000 });
  await page.waitForTimeout(500);
  await shot('offline');
  await context.setOffline(false);

  // The API reference (GET /api/docs): Swagger UI over /api/openapi.json, one section open.
  const reference = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await reference.goto(`${target.url}/api/docs`);
  await reference.locator('.opblock').first().waitFor({ timeout: 15_000 });
  await reference.locator('#operations-Agents-getSessionAgents .opblock-summary').click();
  await reference.locator('#operations-Agents-getSessionAgents .responses-wrapper').waitFor();
  await reference.screenshot({ path: path.join(out, 'api-reference.png'), fullPage: false });
  console.log(path.join(out, 'api-reference.png'));
} finally {
  await browser.close();
  await target.close();
}

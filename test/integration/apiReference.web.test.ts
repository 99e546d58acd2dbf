import { Validator } from '@seriousme/openapi-schema-validator';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../src/cli/verify/browser.ts';
import { type AppHarness, startAppHarness } from '../helpers/appHarness.ts';

/** GET /api/docs in Debian's headless Chromium: the reference renders from local files only. */
let harness: AppHarness;
let browser: Browser;

beforeAll(async () => {
  harness = await startAppHarness();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await harness?.close();
});

describe('GET /api/openapi.json', () => {
  it('serves, with no token, a document that validates as OpenAPI 3.1', async () => {
    const response = await fetch(`${harness.url}/api/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    const validator = new Validator();
    const result = await validator.validate((await response.json()) as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(validator.version).toBe('3.1');
  });
});

describe('the API reference page', () => {
  it('renders every operation of the document, loading nothing from another origin', async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${harness.url}/api/docs`);
    await page.locator('.opblock').first().waitFor({ timeout: 15_000 });
    const document = (await (await fetch(`${harness.url}/api/openapi.json`)).json()) as {
      paths: Record<string, object>;
    };
    const operations = Object.values(document.paths).reduce((sum, item) => sum + Object.keys(item).length, 0);
    expect(await page.locator('.opblock').count()).toBe(operations);
    // One operation opened: its parameters and documented responses are shown.
    await page.locator('#operations-Contacts-getContacts .opblock-summary').click();
    await expect
      .poll(() => page.locator('#operations-Contacts-getContacts .response').count())
      .toBeGreaterThan(3);
    expect(await page.locator('#operations-Contacts-getContacts').textContent()).toContain('per_page');
    expect(problems).toEqual([]);
    const origin = new URL(harness.url).origin;
    expect(requests.filter((url) => !url.startsWith(origin) && !url.startsWith('data:'))).toEqual([]);
  });

  it('serves only the package files it needs, with no token', async () => {
    for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js', 'init.js']) {
      const response = await fetch(`${harness.url}/api/docs/${file}`);
      expect(response.status, file).toBe(200);
    }
    expect((await fetch(`${harness.url}/api/docs/package.json`)).status).toBe(401);
    expect((await fetch(`${harness.url}/api/docs/..%2fpackage.json`)).status).not.toBe(200);
  });
});

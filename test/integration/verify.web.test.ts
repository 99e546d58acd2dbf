// biome-ignore-all lint/suspicious/noExplicitAny: the assertions read the gate's JSON
import { describe, expect, it } from 'vitest';
import { embeddedEnv, wuzctl } from '../helpers/daemon.ts';

// The web gates end to end: `bundle` builds the app twice with the repository's Vite;
// `pwa` drives Debian's Chromium (CI installs it) against an ephemeral daemon serving dist/web.

describe('wuzctl verify bundle', () => {
  it('passes: initial bundle under 200 KB gzipped, ≥ 40% smaller than unsplit, every named chunk right', async () => {
    const result = await wuzctl(['verify', 'bundle', '--json'], { env: embeddedEnv, timeoutMs: 180_000 });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    const [gate] = JSON.parse(result.stdout).gates;
    expect(gate).toMatchObject({ gate: 'bundle', pass: true, threshold: 200 });
    expect(gate.figure).toBeLessThan(200);
    expect(gate.details.failures).toEqual([]);
    expect(gate.details.reduction).toBeGreaterThanOrEqual(0.4);
    expect(gate.figure).toBeCloseTo(gate.details.initial.gzip_kb, 5);
    expect(Object.keys(gate.details.chunks_gzip_kb).sort()).toEqual(
      [
        'admin',
        'daemon-constants',
        'user',
        'vendor-forms',
        'vendor-query',
        'vendor-react',
        'vendor-ui',
      ].sort(),
    );
    // No daemon was started for it.
    expect(result.stderr).not.toMatch(/ephemeral daemon/);
  });
});

describe('wuzctl verify pwa', () => {
  it('serves assets from the service worker cache, works offline and keeps users apart', async () => {
    const result = await wuzctl(['verify', 'pwa', '--json'], { env: embeddedEnv, timeoutMs: 240_000 });
    const [gate] = JSON.parse(result.stdout).gates;
    // Its figure is a timing (p95 of 18 or so assets: the slowest one or two). Whether it
    // beats 50 ms is the gate's verdict, which .ci/run takes on a quiet machine; here, on a
    // machine busy with the rest of the suite, the verdict must follow the figure and
    // everything else must hold (it failed here once at 82 ms with nothing else wrong).
    expect(gate).toMatchObject({ gate: 'pwa', threshold: 50 });
    expect(gate.pass).toBe(gate.figure < gate.threshold);
    expect(result.exitCode, result.stderr + result.stdout).toBe(gate.pass ? 0 : 1);
    expect(gate.details.failures).toEqual([]);
    expect(gate.details.cached_assets.count).toBeGreaterThanOrEqual(3);
    expect(gate.details.offline).toEqual({ shell: true, banner: true, lastData: true });
    expect(gate.details.isolation.leaks).toEqual([]);
    expect(gate.details.isolation.api_answers_checked).toBeGreaterThan(0);
  });

  it('exits 2 with an install hint when Chromium is not there', async () => {
    const result = await wuzctl(['verify', 'pwa'], {
      env: { ...embeddedEnv, CHROMIUM_BIN: '/nonexistent/chromium' },
      timeoutMs: 120_000,
    });
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toMatch(/hint: .*apt-get install chromium/);
  });
});

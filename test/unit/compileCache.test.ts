import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * The compile cache is switched on per process, so each case runs in a fresh Node: it
 * enables the cache the way the CLI's entry point does, loads a module, and reports
 * where the cache went and what its children would inherit.
 */
const entry = fileURLToPath(new URL('../../src/cli/compileCache.ts', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function run(env: Record<string, string>): { dir: string | null; inherited: string | null } {
  const script = `
    import module from 'node:module';
    const { enableCompileCache } = await import(${JSON.stringify(entry)});
    enableCompileCache();
    await import('node:zlib');
    await import(${JSON.stringify(fileURLToPath(new URL('../../src/random.ts', import.meta.url)))});
    module.flushCompileCache?.();
    console.log(JSON.stringify({ dir: module.getCompileCacheDir() ?? null, inherited: process.env.NODE_COMPILE_CACHE ?? null }));
  `;
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('NODE_COMPILE') && name !== 'NODE_DISABLE_COMPILE_CACHE',
    ),
  );
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...clean, ...env },
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').at(-1) as string);
}

function tempHome(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wuz-cc-'));
  dirs.push(dir);
  return dir;
}

describe('compile cache', () => {
  it('goes to a private directory of the user and is handed to children', () => {
    const home = tempHome();
    const result = run({ HOME: home, XDG_CACHE_HOME: '' });
    const expected = path.join(home, '.cache', 'wuzctl', 'compile-cache');
    expect(result.dir?.startsWith(expected)).toBe(true);
    expect(result.inherited).toBe(expected); // Node adds its version dir below it in each child
    expect(statSync(expected).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(home, '.cache', 'wuzctl')).mode & 0o777).toBe(0o700);
    // Something was written: the next process reads compiled code instead of compiling.
    const versions = readdirSync(expected);
    expect(versions.length).toBe(1);
    expect(readdirSync(path.join(expected, versions[0] as string)).length).toBeGreaterThan(0);
  });

  it('honours XDG_CACHE_HOME', () => {
    const xdg = tempHome();
    const result = run({ HOME: tempHome(), XDG_CACHE_HOME: xdg });
    expect(result.dir?.startsWith(path.join(xdg, 'wuzctl', 'compile-cache'))).toBe(true);
  });

  it('stays off in a directory others can write to', () => {
    const xdg = tempHome();
    mkdirSync(path.join(xdg, 'wuzctl', 'compile-cache'), { recursive: true });
    chmodSync(path.join(xdg, 'wuzctl', 'compile-cache'), 0o777);
    expect(run({ HOME: tempHome(), XDG_CACHE_HOME: xdg })).toEqual({ dir: null, inherited: null });
    chmodSync(path.join(xdg, 'wuzctl', 'compile-cache'), 0o700);
    chmodSync(path.join(xdg, 'wuzctl'), 0o775);
    expect(run({ HOME: tempHome(), XDG_CACHE_HOME: xdg })).toEqual({ dir: null, inherited: null });
  });

  it('stays off with NODE_DISABLE_COMPILE_CACHE, and never under a relative path', () => {
    expect(run({ HOME: tempHome(), NODE_DISABLE_COMPILE_CACHE: '1' })).toEqual({
      dir: null,
      inherited: null,
    });
    expect(run({ HOME: tempHome(), XDG_CACHE_HOME: 'relative/cache' })).toEqual({
      dir: null,
      inherited: null,
    });
  });

  it('keeps a NODE_COMPILE_CACHE the user chose', () => {
    const chosen = tempHome();
    const result = run({ HOME: tempHome(), NODE_COMPILE_CACHE: chosen });
    expect(result.dir?.startsWith(chosen)).toBe(true);
    expect(result.inherited).toBe(chosen);
  });
});

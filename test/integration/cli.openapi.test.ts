import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { openApiDocument } from '../../src/daemon/api/contract/document.ts';
import { tempDataDir, wuzctl } from '../helpers/daemon.ts';

/** `wuzctl openapi`: the document the daemon serves, printed or written, with no daemon running. */
describe('wuzctl openapi', () => {
  const expected = JSON.parse(JSON.stringify(openApiDocument()));

  it('prints the document, as JSON or YAML', async () => {
    const json = await wuzctl(['openapi']);
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(expected);
    const yaml = await wuzctl(['openapi', '--format', 'yaml']);
    expect(yaml.exitCode).toBe(0);
    expect(parse(yaml.stdout)).toEqual(expected);
  });

  it('writes it with --out, and says what it wrote (JSON with --json)', async () => {
    const dir = await tempDataDir();
    const out = path.join(dir, 'openapi.json');
    const result = await wuzctl(['openapi', '--out', out, '--json']);
    expect(result.exitCode).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ out, format: 'json' });
    expect(summary.operations).toBeGreaterThan(40);
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(expected);
  });

  it('refuses a folder that does not exist with a hint that creates it; an unknown format is a usage error', async () => {
    const dir = await tempDataDir();
    const out = path.join(dir, 'missing', 'openapi.json');
    const result = await wuzctl(['openapi', '--out', out]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('its folder does not exist');
    expect(result.stderr).toContain(`mkdir -p ${path.dirname(out)}`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    const format = await wuzctl(['openapi', '--format', 'xml']);
    expect(format.exitCode).toBe(2);
    expect(format.stderr).toContain('json, yaml');
  });
});

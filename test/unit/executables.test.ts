import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecutable, findOnPath, isExecutable } from '../../src/daemon/services/executables.ts';

// Real files in a temporary directory, found the way `wuzctl serve` finds redis-server
// and the verify gates find prometheus, promtool and chromium.

let first: string;
let second: string;
const savedPath = process.env.PATH;

beforeAll(async () => {
  first = await mkdtemp(path.join(os.tmpdir(), 'wuz-exec-a-'));
  second = await mkdtemp(path.join(os.tmpdir(), 'wuz-exec-b-'));
  await writeFile(path.join(first, 'tool'), '#!/bin/sh\n');
  await chmod(path.join(first, 'tool'), 0o644); // present but not executable: skipped
  await writeFile(path.join(second, 'tool'), '#!/bin/sh\n');
  await chmod(path.join(second, 'tool'), 0o755);
  process.env.PATH = ['', first, second].join(path.delimiter);
});

afterAll(async () => {
  process.env.PATH = savedPath;
  await rm(first, { recursive: true, force: true });
  await rm(second, { recursive: true, force: true });
});

describe('finding executables', () => {
  it('takes the first executable on PATH, skipping files it may not run and empty entries', async () => {
    expect(await isExecutable(path.join(first, 'tool'))).toBe(false);
    expect(await findOnPath('tool')).toBe(path.join(second, 'tool'));
    expect(await findOnPath('no-such-tool')).toBeNull();
  });

  it('uses an override only when it is executable, without falling back to PATH', async () => {
    expect(await findExecutable('tool', path.join(second, 'tool'))).toBe(path.join(second, 'tool'));
    expect(await findExecutable('tool', path.join(first, 'tool'))).toBeNull();
    expect(await findExecutable('tool', '/nonexistent/tool')).toBeNull();
    expect(await findExecutable('tool', undefined)).toBe(path.join(second, 'tool'));
  });
});

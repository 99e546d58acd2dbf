import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_ERRORS, errorBody } from '../../src/daemon/api/errorCatalogue.ts';
import { fromDatabaseError, HttpError } from '../../src/daemon/api/errors.ts';

const root = path.join(import.meta.dirname, '..', '..');

/** The rows of docs/API.md's error table: `| 404 | \`not_found\` | meaning |`. */
async function documented(): Promise<Record<string, { status: number; meaning: string }>> {
  const text = await readFile(path.join(root, 'docs', 'API.md'), 'utf8');
  const rows: Record<string, { status: number; meaning: string }> = {};
  for (const match of text.matchAll(/^\| (\d{3}) +\| `([a-z_]+)` +\| (.+?) +\|$/gm)) {
    rows[match[2] as string] = { status: Number(match[1]), meaning: match[3] as string };
  }
  return rows;
}

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

describe('the API error catalogue', () => {
  it('is what docs/API.md lists: every code documented with its status and meaning, every documented code real', async () => {
    const table = await documented();
    expect(Object.keys(table).sort()).toEqual(Object.keys(API_ERRORS).sort());
    for (const [code, entry] of Object.entries(API_ERRORS)) {
      expect(table[code], code).toEqual({ status: entry.status, meaning: entry.meaning });
    }
  });

  it('has no code the daemon never answers', async () => {
    const files = (await sources(path.join(root, 'src', 'daemon'))).filter(
      (file) => !file.endsWith('errorCatalogue.ts'),
    );
    const text = (await Promise.all(files.map((file) => readFile(file, 'utf8')))).join('\n');
    for (const code of Object.keys(API_ERRORS)) expect(text, code).toContain(`'${code}'`);
  });

  it('gives HttpError and errorBody the status of the code', () => {
    expect(new HttpError('conflict', 'taken')).toMatchObject({
      status: 409,
      code: 'conflict',
      message: 'taken',
    });
    expect(errorBody('rate_limited', 'slow down')).toEqual({
      status: 429,
      body: { error: { code: 'rate_limited', message: 'slow down' } },
    });
    expect(errorBody('invalid_request', 'bad', [{ path: 'x' }]).body.error.details).toEqual([{ path: 'x' }]);
  });
});

describe('database errors', () => {
  it('answer 503 database_unavailable when the database is away, and stay ours otherwise', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const shutdown = Object.assign(new Error('terminating connection due to administrator command'), {
      code: '57P01',
    });
    for (const error of [
      refused,
      shutdown,
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
    ]) {
      expect(fromDatabaseError(error)).toMatchObject({ status: 503, code: 'database_unavailable' });
    }
    expect(fromDatabaseError(Object.assign(new Error('dup'), { code: '23505' }))).toMatchObject({
      status: 409,
    });
    expect(fromDatabaseError(new Error('a bug of ours'))).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { countLines } from '../../src/daemon/api/routes/queues/imports.ts';
import {
  CsvReadStopped,
  CsvUnreadableError,
  MAX_LINE_BYTES,
  readContactsCsv,
} from '../../src/daemon/workers/csvContacts.ts';

async function readAll(source: string, options = {}) {
  const rows = [];
  for await (const row of readContactsCsv(source, options)) rows.push(row);
  return rows;
}

/** The error a read ends with, or null. */
const failure = (source: string, options = {}) =>
  readAll(source, options).then(
    () => null,
    (error: Error) => error,
  );

describe('reading a contacts CSV: every way a file can be costly is bounded', () => {
  it('fails a line longer than 64 KiB at once, naming the line, not its content', async () => {
    const error = await failure(`phone,name\n+5511999990001,${'x'.repeat(5_000_000)}`);
    expect(error).toBeInstanceOf(CsvUnreadableError);
    expect(error?.message).toBe('line 2 is longer than 64 KiB');
    // A header that is one huge line, too.
    expect((await failure(`phone,${'y'.repeat(MAX_LINE_BYTES + 1)}`))?.message).toBe(
      'line 1 is longer than 64 KiB',
    );
  });

  it('keeps a legitimate wide row: 50 variables of 1,000 characters', async () => {
    const names = Array.from({ length: 50 }, (_, i) => `v${i}`);
    const values = names.map(() => 'z'.repeat(1000));
    const rows = await readAll(`phone,name,${names.join(',')}\n+5511999990001,Ana,${values.join(',')}\n`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ line: 2, contact: { phone: '+5511999990001', name: 'Ana' } });
  });

  it('classifies a stray quote as unreadable, with its line and no cell content', async () => {
    for (const source of [
      'phone,name\n+5511999990001,An"a secret\n+5511999990002,Bia\n',
      'phone,name\n+5511999990001,"Ana secret\n+5511999990002,Bia\n',
    ]) {
      const error = await failure(source);
      expect(error, source).toBeInstanceOf(CsvUnreadableError);
      expect(error?.message).toMatch(/^line \d+ /);
      expect(error?.message).not.toMatch(/Ana|secret|5511/);
    }
  });

  it('stops between chunks when asked (a shutting-down worker), before reading everything', async () => {
    let asked = 0;
    const big = `phone,name\n${Array.from({ length: 20_000 }, (_, i) => `+55119${String(i).padStart(8, '0')},N${i}`).join('\n')}`;
    const error = await failure(big, { shouldStop: () => ++asked > 2 });
    expect(error).toBeInstanceOf(CsvReadStopped);
  });

  it('gives up past its time budget', async () => {
    const big = `phone,name\n${'+5511999990001,Ana\n'.repeat(50_000)}`;
    const error = await failure(big, { maxParseMs: 0 });
    expect(error).toBeInstanceOf(CsvUnreadableError);
    expect(error?.message).toMatch(/took more than 0 s to read; split it/);
  });

  it('lets the event loop run while it parses a large file', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await readAll(
      `phone,name\n${Array.from({ length: 30_000 }, (_, i) => `+55119${String(i).padStart(8, '0')},N`).join('\n')}`,
    );
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });
});

describe('counting the lines of an upload', () => {
  it('does not count the newline that ends the last line', () => {
    expect(countLines('')).toBe(0);
    expect(countLines('phone')).toBe(1);
    expect(countLines('phone\n')).toBe(1);
    expect(countLines('phone\r\n+5511\r\n')).toBe(2);
    expect(countLines('phone\n+5511\n+5512')).toBe(3);
  });
});

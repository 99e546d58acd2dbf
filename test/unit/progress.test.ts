import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/cli/verify/progress.ts';

/** A stream that says it is a terminal, as yocto-spinner needs one, and keeps what it got. */
function terminal(isTTY: boolean) {
  let written = '';
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  Object.assign(stream, {
    isTTY,
    columns: 120,
    cursorTo: () => true,
    moveCursor: () => true,
    clearLine: () => true,
  });
  stream.on('data', (chunk: Buffer) => {
    written += chunk.toString();
  });
  return { stream, text: () => stripVTControlCharacters(written) };
}

describe('verify progress', () => {
  it('counts a long wait down on a terminal instead of showing a frozen time', async () => {
    const { stream, text } = terminal(true);
    const progress = createProgress(stream);
    await progress.wait("waiting for A's window to end", 1600);
    progress.stop();
    const two = text().indexOf("waiting for A's window to end: 2 s left");
    const one = text().indexOf("waiting for A's window to end: 1 s left");
    expect(two).toBeGreaterThanOrEqual(0);
    expect(one).toBeGreaterThan(two);
  });

  it('says once how long it waits when stderr is not a terminal', async () => {
    const { stream, text } = terminal(false);
    await createProgress(stream).wait('metrics: two more scrapes', 20);
    expect(text()).toMatch(/^\[\s*\d+\.\ds\] metrics: two more scrapes \(1 s\)\n$/);
  });
});

import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { serveOptions } from '../../src/daemon/config.ts';

describe('docs/CONFIGURATION.md', () => {
  it('documents every serve flag and environment variable', async () => {
    const doc = await readFile(new URL('../../docs/CONFIGURATION.md', import.meta.url), 'utf8');
    const missing = serveOptions.flatMap((option) => [
      ...(doc.includes(`\`${option.env}\``) ? [] : [option.env]),
      ...(option.flag && !doc.includes(`\`${option.flag}\``) ? [option.flag] : []),
    ]);
    expect(missing).toEqual([]);
  });
});

import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { tenantsCommand } from '../../src/cli/commands/tenants.ts';
import { GATES } from '../../src/cli/verify/registry.ts';
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

describe('README.md', () => {
  it('names every gate wuzctl verify runs', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const verifyRow = readme.split('\n').find((line) => line.startsWith('| `wuzctl verify')) ?? '';
    expect(GATES.map((gate) => gate.name).filter((name) => !verifyRow.includes(`\`${name}\``))).toEqual([]);
  });

  it('says what `tenants set-plan --help` says', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const setPlan = tenantsCommand().commands.find((command) => command.name() === 'set-plan');
    const row = readme.split('\n').find((line) => line.startsWith('| `wuzctl tenants set-plan')) ?? '';
    expect(row).toContain(setPlan?.description());
  });
});

describe('docs/README.md', () => {
  it('indexes every page of docs/, and links nothing that is not there', async () => {
    const dir = new URL('../../docs/', import.meta.url);
    const pages = (await readdir(dir)).filter((name) => name.endsWith('.md') && name !== 'README.md');
    const index = await readFile(new URL('README.md', dir), 'utf8');
    const linked = [...index.matchAll(/\]\(([\w.-]+\.md)\)/g)].map((match) => match[1]);
    expect([...new Set(linked)].sort()).toEqual(pages.sort());
  });
});
